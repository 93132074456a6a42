/**
 * Triton's logging and trace extensions, answered with ferry's own settings where they map.
 * - Logging (`/v2/logging`, gRPC LogSettings): log_info, log_warning, log_error and log_verbose_level are views of
 *   the log level (pino's), and setting them sets it; log_file and log_format do not map (ferry writes to standard
 *   output, in the format `--log-format` chose at start) and are refused unless they say what already holds.
 *   Reading is allowed on the public ports; changing is the management port's (it changes the server).
 * - Trace (`/v2/trace/setting`, gRPC TraceSetting): ferry does not trace requests (its per-request timings are the
 *   Prometheus metrics and the statistics extension), so the settings say trace_level OFF, and asking for any
 *   other level is refused with that reason.
 */
import { failedPrecondition, invalid } from '../errors.js';
import type { Logger } from './logger.js';

export type LogSettings = Record<string, boolean | number | string>;

/** Triton's log settings, as the log level makes them. */
export function logSettings(log: Logger): LogSettings {
  const level = log.levelVal; // pino: trace 10, debug 20, info 30, warn 40, error 50, fatal 60, silent Infinity
  return {
    log_file: '',
    log_info: level <= 30,
    log_warning: level <= 40,
    log_error: level <= 50,
    log_verbose_level: level <= 20 ? 1 : 0,
    log_format: 'default',
  };
}

/** Sets the log level from Triton's settings; returns the settings now. */
export function applyLogSettings(log: Logger, settings: Readonly<Record<string, unknown>>): LogSettings {
  const now = logSettings(log);
  const wanted = { ...now };
  for (const [key, value] of Object.entries(settings)) {
    if (!(key in now)) throw invalid(`unknown log setting '${key}' (the settings: ${Object.keys(now).join(', ')})`);
    if (key === 'log_file' || key === 'log_format') {
      if (value !== now[key]) throw invalid(`${key} cannot be changed: ferry writes its log to standard output, as JSON lines or readable lines (--log-format at start); ${key} is ${JSON.stringify(now[key])}`);
      continue;
    }
    if (key === 'log_verbose_level') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw invalid(`log_verbose_level must be a non-negative integer, got ${JSON.stringify(value)}`);
    } else if (typeof value !== 'boolean') throw invalid(`${key} must be true or false, got ${JSON.stringify(value)}`);
    wanted[key] = value;
  }
  log.level = wanted.log_verbose_level ? 'debug' : wanted.log_info ? 'info' : wanted.log_warning ? 'warn' : wanted.log_error ? 'error' : 'silent';
  return logSettings(log);
}

/** Triton's trace settings (values are lists of strings, as Triton's are): tracing is off, and stays off. */
export function traceSettings(): Record<string, string[]> {
  return { trace_level: ['OFF'], trace_rate: ['1000'], trace_count: ['-1'], log_frequency: ['0'], trace_file: [''], trace_mode: ['triton'] };
}

/** A trace setting request: anything but trace_level OFF is refused, with what to use instead. */
export function applyTraceSettings(settings: Readonly<Record<string, unknown>>): Record<string, string[]> {
  const now = traceSettings();
  for (const [key, value] of Object.entries(settings)) {
    if (!(key in now)) throw invalid(`unknown trace setting '${key}' (the settings: ${Object.keys(now).join(', ')})`);
    const values = Array.isArray(value) ? value.map(String) : value === null ? [] : [String(value)];
    if (key === 'trace_level' && values.every((v) => v === 'OFF')) continue;
    if (key !== 'trace_level' && values.length === 0) continue; // null: back to the default, which it is
    throw failedPrecondition(`ferry does not trace requests, so ${key} cannot be set (trace_level stays OFF): per-request timings are in /metrics and /v2/models/NAME/stats`);
  }
  return now;
}
