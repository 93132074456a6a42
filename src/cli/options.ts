/** Flag value parsers shared by the ferry commands: each refuses a bad value with a message that names it. */
import { InvalidArgumentError } from 'commander';
import { parseByteSize } from '../config/server-config.js';
import { messageOf } from '../errors.js';

export function integer(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number, got '${text}'`);
    return n;
  };
}

export function byteSize(text: string): number {
  try {
    return parseByteSize(text);
  } catch (e) {
    throw new InvalidArgumentError(messageOf(e));
  }
}

export function flag(text: string): boolean {
  if (/^(1|true|yes|on)$/i.test(text)) return true;
  if (/^(0|false|no|off)$/i.test(text)) return false;
  throw new InvalidArgumentError(`expected true or false, got '${text}'`);
}

/** --allow-client-shm's value: a bare flag or true means clients on loopback; any means every peer. */
export function clientShmScope(text: string): 'off' | 'local' | 'any' {
  if (/^(local|any|off)$/i.test(text)) return text.toLowerCase() as 'off' | 'local' | 'any';
  try {
    return flag(text) ? 'local' : 'off';
  } catch {
    throw new InvalidArgumentError(`expected true (or local: clients on loopback), any (every peer) or false, got '${text}'`);
  }
}

export function positiveNumber(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got '${text}'`);
    return n;
  };
}

/** A repeatable flag; each value may also list several, comma-separated (as an environment variable would). */
export function collect(text: string, previous: string[] = []): string[] {
  return [...previous, ...text.split(',').map((s) => s.trim()).filter(Boolean)];
}
