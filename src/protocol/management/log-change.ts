/** A change of the log settings on the management port (REST or gRPC), said in the log with who asked. */
import { applyLogSettings, type LogSettings } from '../../observe/triton-settings.js';
import type { Logger } from '../../observe/logger.js';
import type { Caller } from './action-log.js';

export function changeLogSettings(log: Logger, settings: Readonly<Record<string, unknown>>, who: Caller): LogSettings {
  const before = log.level;
  const after = applyLogSettings(log, settings);
  // Said at warn: a change to 'error' or 'silent' would otherwise hide its own record.
  if (log.level !== before) log.warn({ via: who.via, from: who.from }, `log level ${before} -> ${log.level} (Triton's logging extension, ${who.via} from ${who.from})`);
  return after;
}
