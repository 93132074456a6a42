/** Starts the real server on an ephemeral port for integration tests, and small HTTP helpers. */
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startServer, type RunningServer, type StartOptions } from '../../src/server.js';

export const EXAMPLES = fileURLToPath(new URL('../../examples/models', import.meta.url));

export interface TestServer extends RunningServer {
  readonly url: string;
  readonly grpcAddress: string;
}

export async function startTestServer(options: Partial<StartOptions> = {}): Promise<TestServer> {
  const server = await startServer({
    modelRepository: EXAMPLES,
    host: '127.0.0.1',
    httpPort: 0,
    grpcPort: 0,
    managementPort: 0,
    logger: pino({ level: 'silent' }),
    ...options,
  });
  await server.loaded;
  return Object.assign(server, { url: `http://127.0.0.1:${server.httpPort}`, grpcAddress: `127.0.0.1:${server.grpcPort}` });
}

export interface JsonReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
  readonly text: string;
}

export async function request(url: string, init: RequestInit = {}): Promise<JsonReply> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

export function postJson(url: string, body: unknown): Promise<JsonReply> {
  return request(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
}
