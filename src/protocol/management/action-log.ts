/** Every management action goes to the log with who asked, through which door, and what changed (or why not). */
import { messageOf } from '../../errors.js';
import type { ControlOutcome } from '../../core/model-control.js';
import type { Logger } from '../../observe/logger.js';

export interface Caller {
  readonly via: 'REST' | 'gRPC';
  readonly from: string;
}

export async function logAction<O extends ControlOutcome>(log: Logger, action: 'load' | 'unload' | 'promote', model: string, who: Caller, withConfig: boolean, run: () => Promise<O>): Promise<O> {
  const fields = { action, model, via: who.via, from: who.from, ...(withConfig ? { config: 'from the request' } : {}) };
  const asked = `management: ${action} of model '${model}' (${who.via} from ${who.from}${withConfig ? ', config from the request' : ''})`;
  try {
    const outcome = await run();
    log.info({ ...fields, loaded: outcome.loaded, unloaded: outcome.unloaded, serving: outcome.serving }, `${asked}: ${describe(outcome)}`);
    return outcome;
  } catch (e) {
    log.warn(fields, `${asked} refused or failed: ${messageOf(e)}`);
    throw e;
  }
}

function describe(o: ControlOutcome): string {
  const parts: string[] = [];
  if (o.loaded.length) parts.push(`loaded version${o.loaded.length > 1 ? 's' : ''} ${o.loaded.join(', ')}`);
  if (o.unloaded.length) parts.push(`unloaded version${o.unloaded.length > 1 ? 's' : ''} ${o.unloaded.join(', ')}`);
  if (!parts.length) parts.push('nothing changed');
  parts.push(o.serving.length ? `serving version${o.serving.length > 1 ? 's' : ''} ${o.serving.join(', ')}` : 'serving nothing');
  return parts.join('; ');
}
