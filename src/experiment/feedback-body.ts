/**
 * The body of POST /v2/models/NAME/feedback, checked before anything is stored: one outcome
 * `{"id": "...", "truth": ...}` / `{"id": "...", "reward": 0.5}`, or many as `{"feedback": [ ... ]}`. A mistake in any
 * item refuses the whole request and names the item and field, so a client never wonders which half was kept.
 */
import { invalid } from '../errors.js';
import type { Label } from './prediction-summary.js';
import type { OutcomeType } from './variant-stats.js';

export interface FeedbackItem {
  readonly id: string;
  /** Classification and regression: one truth per row of the prediction (a single value: a one-row prediction). */
  readonly truths?: readonly Label[];
  /** Reward: what the answer earned. */
  readonly reward?: number;
}

/** More than this in one request is refused: send them in several. */
export const MAX_FEEDBACK_ITEMS = 10_000;

export function parseFeedback(body: Record<string, unknown>, type: OutcomeType): FeedbackItem[] {
  if (body.feedback !== undefined) {
    const extra = Object.keys(body).filter((k) => k !== 'feedback');
    if (extra.length) throw invalid(`a feedback body holds either "feedback": [...] or one outcome, not both (unexpected ${extra.map((k) => `'${k}'`).join(', ')})`);
    if (!Array.isArray(body.feedback) || body.feedback.length === 0) throw invalid("'feedback' must be a non-empty list of outcomes ({\"id\": ..., \"truth\" or \"reward\": ...})");
    if (body.feedback.length > MAX_FEEDBACK_ITEMS) throw invalid(`'feedback' holds ${body.feedback.length} outcomes; at most ${MAX_FEEDBACK_ITEMS} per request`);
    return body.feedback.map((item, i) => parseItem(item, type, `feedback[${i}]`));
  }
  return [parseItem(body, type, 'the body')];
}

function parseItem(item: unknown, type: OutcomeType, where: string): FeedbackItem {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) throw invalid(`${where} must be an object with "id" and "${type === 'reward' ? 'reward' : 'truth'}"`);
  const o = item as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'id' && k !== 'truth' && k !== 'reward');
  if (unknown.length) throw invalid(`${where}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (expected "id" and "${type === 'reward' ? 'reward' : 'truth'}")`);
  if (typeof o.id !== 'string' || o.id === '') throw invalid(`${where}.id must be the prediction's id (a non-empty string: the "id" or X-Request-Id of its answer)`);
  if (type === 'reward') {
    if (o.truth !== undefined) throw invalid(`${where}: this model's outcome type is reward: send "reward": <number>, not "truth"`);
    if (typeof o.reward !== 'number' || !Number.isFinite(o.reward)) throw invalid(`${where}.reward must be a finite number, got ${JSON.stringify(o.reward)}`);
    return { id: o.id, reward: o.reward };
  }
  if (o.reward !== undefined) throw invalid(`${where}: this model's outcome type is ${type}: send "truth": <${type === 'regression' ? 'value' : 'label'}>, not "reward"`);
  if (o.truth === undefined) throw invalid(`${where}.truth is missing (the true ${type === 'regression' ? 'value' : 'label'}, or a list of one per row)`);
  const truths = Array.isArray(o.truth) ? o.truth : [o.truth];
  if (truths.length === 0) throw invalid(`${where}.truth is an empty list`);
  truths.forEach((t, i) => checkTruth(t, type, Array.isArray(o.truth) ? `${where}.truth[${i}]` : `${where}.truth`));
  return { id: o.id, truths: truths as Label[] };
}

function checkTruth(t: unknown, type: OutcomeType, where: string): void {
  if (type === 'regression') {
    if (typeof t !== 'number' || !Number.isFinite(t)) throw invalid(`${where} must be a finite number (a regression's true value), got ${JSON.stringify(t)}`);
  } else if (!(typeof t === 'string' || (typeof t === 'number' && Number.isFinite(t)))) {
    throw invalid(`${where} must be a label (a string or a number), got ${JSON.stringify(t)}`);
  }
}
