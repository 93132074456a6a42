/**
 * Structured logs (pino), passed in to the parts that log; never on the per-request path. JSON lines (what log
 * collectors read) or, for a person at a terminal, pino-pretty's readable lines: `--log-format`, by default pretty
 * when stdout is a terminal. pino-pretty loads only when chosen (it is a dozen modules a container never needs).
 */
import { createRequire } from 'node:module';
import { pino, type Logger as PinoLogger } from 'pino';
import type { LogFormat, LogLevel } from '../config/server-config.js';

export type Logger = PinoLogger;

const require = createRequire(import.meta.url);

export function createLogger(level: LogLevel, format: LogFormat = 'json'): Logger {
  const options = { level, base: { service: 'ferry' } };
  if (resolveFormat(format) === 'json') return pino(options);
  // Synchronous, in this thread: a worker-thread transport would cost start-up and reorder lines around a crash.
  const pretty = require('pino-pretty') as (o: Record<string, unknown>) => NodeJS.WritableStream;
  // ferry's messages are sentences that carry their fields (model, version, port): the fields are left out here.
  return pino(options, pretty({ colorize: process.stdout.isTTY === true, sync: true, translateTime: 'SYS:HH:MM:ss.l', hideObject: true }));
}

/** 'auto': pretty on a terminal, JSON lines otherwise (a container, a pipe, a file). */
export function resolveFormat(format: LogFormat): 'json' | 'pretty' {
  if (format === 'auto') return process.stdout.isTTY ? 'pretty' : 'json';
  return format;
}
