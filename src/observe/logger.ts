/** Structured logs (pino, JSON lines on stdout). Passed in to the parts that log; never on the per-request path. */
import { pino, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from '../config/server-config.js';

export type Logger = PinoLogger;

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'ferry' } });
}
