/**
 * What the PostgreSQL reader and writer share: telling a PostgreSQL URL from a file name, showing a URL without its
 * password (in messages and in the checkpoint's job identity), and connecting with a clear error instead of a
 * stack trace. `pg` is imported here only, and only by the modules `ferry batch` loads on use.
 */
import pg from 'pg';
import { invalid, messageOf } from '../errors.js';

export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s);
}

/** The URL with its password replaced by ***, for messages and checkpoints. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

/** A table name, possibly schema-qualified (schema.table), as a quoted SQL identifier. */
export function tableIdent(name: string, flag: string): string {
  const parts = name.split('.');
  if (name.trim() === '' || parts.length > 2 || parts.some((p) => p === '')) {
    throw invalid(`${flag} takes a table name or schema.table, got '${name}'`);
  }
  return parts.map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
}

const CONNECT_TIMEOUT_MS = 15_000;

/** The SQLSTATEs and socket errors that mean "could not connect", worded for the user. */
function connectReason(e: unknown): string {
  const code = (e as { code?: string }).code;
  const m = messageOf(e);
  switch (code) {
    case 'ECONNREFUSED': return `nothing listens there (${m})`;
    case 'ENOTFOUND': case 'EAI_AGAIN': return `unknown host (${m})`;
    case '28P01': case '28000': return `authentication failed (${m})`;
    default: return m; // e.g. 3D000: database "x" does not exist
  }
}

/** Opens a client on `url`; `flag` (--input, --output) names where the URL came from in errors. */
export async function connectPostgres(url: string, flag: string): Promise<pg.Client> {
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'ferry batch' });
  } catch (e) {
    throw invalid(`${flag} ${redactUrl(url)} is not a PostgreSQL URL: ${messageOf(e)}`);
  }
  // An error on an idle connection (the server going away between queries) must not crash the process: the next
  // query fails with it instead.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => {});
    throw invalid(`cannot connect to PostgreSQL at ${redactUrl(url)} (${flag}): ${connectReason(e)}`);
  }
  return client;
}

/** A query error as the user should read it: the server's message, with its detail and hint when it has them. */
export function queryReason(e: unknown): string {
  const err = e as { message?: string; detail?: string; hint?: string };
  return [messageOf(e), err.detail, err.hint && `hint: ${err.hint}`].filter(Boolean).join('; ');
}

export type { Client as PostgresClient } from 'pg';
