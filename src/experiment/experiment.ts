/**
 * One model's experiment: every answer, shadow and comparison run is recorded under its request id; feedback joins
 * the outcome with what each variant predicted; running statistics per variant, agreement with the control, and a
 * sequential test per candidate follow from it.
 *
 * Everything goes through the record log (record-log.ts) and is applied to the statistics only once written, in
 * order: the state checkpointed is then always exactly "the log up to N", and a restart replays what followed. An
 * answer is recorded before it is returned and a feedback is synced before it is acknowledged: neither is lost to a
 * kill -9. The index of recent predictions, for the join, is bounded by count and age (--prediction-max-records,
 * --prediction-retention-hours), as are the log's segments.
 */
import { unavailable, invalid } from '../errors.js';
import { RecordLog, type LogRecord } from './record-log.js';
import { Agreement, VariantStats } from './variant-stats.js';
import { SequentialTest } from './sequential-test.js';
import { successesOf } from './statistics.js';
import { reportedVariants, type ExperimentPlan } from './experiment-plan.js';
import type { Label, RowPrediction } from './prediction-summary.js';
import type { FeedbackItem } from './feedback-body.js';
import { minimumEffectOf, reallocate } from './allocation.js';

/** answer (the variant that answered), shadow, or comparison (the control's copy of a candidate's request). */
export type PredictionRole = 'a' | 's' | 'c';

interface PredictionRecord extends LogRecord {
  k: 'p';
  id: string;
  v: string;
  r: PredictionRole;
  p: RowPrediction[];
}

interface OutcomeRecord extends LogRecord {
  k: 'o';
  id: string;
  y?: Label[];
  w?: number;
}

type ExperimentRecord = PredictionRecord | OutcomeRecord;

/** A recent prediction, kept for the join: small arrays rather than a Map, as there are hundreds of thousands. */
interface Entry {
  readonly t: number;
  answered: string | undefined;
  /** The variants that predicted it (the answer, shadows, the control's comparison), and what each predicted. */
  readonly variants: string[];
  readonly rows: (readonly RowPrediction[])[];
  /** An outcome is stored (or being stored) for it: a second one is a duplicate. */
  outcome: boolean;
  /** The truths of its outcome, once applied: a shadow or comparison run that finishes after them is judged too. */
  truths?: readonly Label[];
}

export interface ExperimentLimits {
  readonly maxPredictions: number;
  readonly retentionMs: number;
}

export interface FeedbackResult {
  readonly matched: number;
  readonly unmatched: number;
  readonly duplicate: number;
  /** The first unmatched ids (at most 20), to debug an application that sends the wrong ones. */
  readonly unmatched_ids: readonly string[];
}

/** Counters the metrics and the results report. */
export interface ExperimentCounters {
  matched: number;
  unmatched: number;
  duplicate: number;
  recordFailures: number;
  readonly shadowDropped: Map<string, number>;
  readonly shadowFailed: Map<string, number>;
}

const CHECKPOINT_EVERY_MS = 10_000;

/** A line starts {"s":N,"t":T,... (record-log.ts puts the stamp first). */
const LINE_TIME = /^\{"s":\d+,"t":(\d+)/;

function timeOf(kept: string | Entry): number {
  if (typeof kept !== 'string') return kept.t;
  const stamp = LINE_TIME.exec(kept);
  return stamp ? Number(stamp[1]) : (JSON.parse(kept) as LogRecord).t;
}

function rowsOf(entry: Entry, variant: string): readonly RowPrediction[] | undefined {
  const at = entry.variants.indexOf(variant);
  return at >= 0 ? entry.rows[at] : undefined;
}

export class Experiment {
  readonly ready: Promise<void>;
  readonly stats = new Map<string, VariantStats>();
  readonly agreement = new Map<string, Agreement>();
  readonly tests = new Map<string, SequentialTest>();
  readonly counters: ExperimentCounters = { matched: 0, unmatched: 0, duplicate: 0, recordFailures: 0, shadowDropped: new Map(), shadowFailed: new Map() };
  /** Shadow and comparison runs under way (data plane: a cap sheds them first under load). */
  shadowsInFlight = 0;
  /** Thompson allocation: called with new weights for the answering variants. */
  onWeights: ((weights: ReadonlyMap<string, number>) => void) | undefined;
  /** The weights Thompson allocation last set (undefined: the config's). */
  weights: ReadonlyMap<string, number> | undefined;
  /**
   * Recent predictions by id. A lone answer is kept as its log line, a flat string: hundreds of thousands of them
   * cost the garbage collector little, where as many objects made every request slower (BENCHMARKS.md). It becomes
   * an Entry when another prediction or an outcome joins it.
   */
  private readonly index = new Map<string, string | Entry>();
  private log: RecordLog<ExperimentRecord> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checkpointed = 0;
  private lastReallocation = 0;
  private insertsSinceAgeCheck = 0;

  constructor(
    readonly model: string,
    public plan: ExperimentPlan,
    private readonly dir: string | undefined,
    private readonly limits: ExperimentLimits,
    /** An earlier experiment of this model still closing its files. */
    after?: Promise<void>,
  ) {
    this.ready = (after ?? Promise.resolve()).then(() => this.open());
    this.ready.catch(() => undefined); // reported to whoever awaits it
  }

  get durable(): boolean {
    return this.dir !== undefined;
  }

  /** Predictions kept for the join. */
  get indexed(): number {
    return this.index.size;
  }

  /** Records one variant's answer to a request; resolves once written. */
  async record(id: string, variant: string, role: PredictionRole, rows: RowPrediction[]): Promise<void> {
    const log = this.log ?? (await this.opened());
    await log.append({ k: 'p', id, v: variant, r: role, p: rows }).written;
  }

  /** Joins outcomes with their predictions; resolves once they are synced to disk. */
  async feedback(items: readonly FeedbackItem[]): Promise<FeedbackResult> {
    const log = this.log ?? (await this.opened());
    const outcome = this.plan.outcome;
    if (!outcome) throw invalid(`model '${this.model}' has no outcome configured (traffic.outcome in its config.yaml), so it takes no feedback`);
    // First check every item against what it answers (nothing is marked until all are known to be good).
    items.forEach((item, i) => {
      const entry = this.entryOf(item.id);
      const rows = entry?.answered !== undefined ? rowsOf(entry, entry.answered)?.length : undefined;
      if (item.truths && rows !== undefined && item.truths.length !== rows) {
        const where = items.length > 1 ? `feedback[${i}].truth` : 'truth';
        throw invalid(`${where} has ${item.truths.length} value${item.truths.length > 1 ? 's' : ''} but prediction '${item.id}' had ${rows} row${rows > 1 ? 's' : ''}: send one truth per row`);
      }
    });
    let unmatched = 0;
    let duplicate = 0;
    const unmatchedIds: string[] = [];
    const marked: Entry[] = [];
    const writes: Promise<unknown>[] = [];
    for (const item of items) {
      const entry = this.entryOf(item.id);
      if (!entry) {
        unmatched++;
        if (unmatchedIds.length < 20) unmatchedIds.push(item.id);
      } else if (entry.outcome) {
        duplicate++;
      } else {
        entry.outcome = true;
        marked.push(entry);
        writes.push(log.append(item.reward !== undefined ? { k: 'o', id: item.id, w: item.reward } : { k: 'o', id: item.id, y: [...(item.truths ?? [])] }, true).written);
      }
    }
    try {
      await Promise.all(writes);
    } catch (e) {
      for (const entry of marked) entry.outcome = false; // not acknowledged: a retry must be taken
      throw unavailable(`model '${this.model}': feedback not stored: ${(e as Error).message}`);
    }
    this.counters.unmatched += unmatched;
    this.counters.duplicate += duplicate;
    return { matched: marked.length, unmatched, duplicate, unmatched_ids: unmatchedIds };
  }

  /** Writes the state and closes the log (a graceful stop or the split removed). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const log = await this.ready.then(() => this.log, () => undefined);
    if (!log) return;
    await log.close(() => this.state());
  }

  /** The variants' statistics (made on first use). */
  statsOf(variant: string): VariantStats {
    let s = this.stats.get(variant);
    if (!s) this.stats.set(variant, (s = new VariantStats()));
    return s;
  }

  /** The log once open; UNAVAILABLE, with why, when the store could not be opened. */
  async opened(): Promise<RecordLog<ExperimentRecord>> {
    await this.ready.catch((e: unknown) => {
      throw unavailable(`model '${this.model}': the experiment's store could not be opened: ${(e as Error).message}`);
    });
    return this.log as RecordLog<ExperimentRecord>;
  }

  private async open(): Promise<void> {
    const replayed: ExperimentRecord[] = [];
    const replayedLines: string[] = [];
    const { log, state } = await RecordLog.open<ExperimentRecord>({ dir: this.dir, segmentRecords: Math.max(1000, Math.ceil(this.limits.maxPredictions / 10)) }, (record, line, after) => {
      if (after) {
        replayed.push(record);
        replayedLines.push(line);
      } else {
        this.index_(record, line);
      }
    });
    this.restore(state);
    replayed.forEach((record, i) => this.apply(record, replayedLines[i] as string));
    this.checkpointed = replayed.length === 0 ? log.writtenThrough : 0;
    log.onWritten = (records, lines) => {
      for (let i = 0; i < records.length; i++) this.apply(records[i] as ExperimentRecord, lines[i] as string);
    };
    this.log = log;
    if (log.durable) {
      this.timer = setInterval(() => void this.checkpoint(), CHECKPOINT_EVERY_MS);
      this.timer.unref();
    }
  }

  /** Checkpoints the state if anything changed, then drops the segments it covers that retention lets go. */
  private async checkpoint(): Promise<void> {
    const log = this.log;
    if (!log || log.writtenThrough === this.checkpointed) return;
    const through = log.writtenThrough;
    try {
      await log.checkpoint(this.state());
      this.checkpointed = through;
      await log.prune(this.limits.maxPredictions, Date.now() - this.limits.retentionMs, through);
    } catch {
      // The next tick tries again; the log itself reports a disk that cannot be written.
    }
  }

  /** Applies a record written to the log: the index, then the statistics. */
  private apply(r: ExperimentRecord, line: string): void {
    const entry = this.index_(r, line);
    if (r.k === 'p') {
      if (r.r !== 'c') this.statsOf(r.v).requests++;
      if (entry) this.agree(r, entry); // a lone answer has nothing to agree with yet
      const outcome = this.plan.outcome;
      if (entry?.truths && outcome && outcome.type !== 'reward') {
        this.statsOf(r.v).judge(outcome.type, r.p, entry.truths, outcome.labels);
        this.observeTests();
      }
    } else if (entry) {
      this.applyOutcome(r, entry);
    }
  }

  /**
   * Updates the index of recent predictions for a record. Returns the entry, or undefined for a lone answer (kept as
   * its line) and for an outcome whose prediction is not kept.
   */
  private index_(r: ExperimentRecord, line: string): Entry | undefined {
    if (r.k === 'o') {
      const entry = this.entryOf(r.id);
      if (entry) entry.outcome = true;
      return entry;
    }
    let entry = this.entryOf(r.id);
    if (!entry) {
      if (r.r === 'a') {
        this.index.set(r.id, line);
        this.evict();
        return undefined;
      }
      this.index.set(r.id, (entry = { t: r.t, answered: undefined, variants: [], rows: [], outcome: false }));
      this.evict();
    }
    const at = entry.variants.indexOf(r.v);
    if (at >= 0) entry.rows[at] = r.p; // an id used again: the latest prediction counts
    else {
      entry.variants.push(r.v);
      entry.rows.push(r.p);
    }
    if (r.r === 'a') entry.answered = r.v;
    return entry;
  }

  /** The entry of an id, made from its line if it is a lone answer. */
  private entryOf(id: string): Entry | undefined {
    const kept = this.index.get(id);
    if (typeof kept !== 'string') return kept;
    const r = JSON.parse(kept) as PredictionRecord;
    const entry: Entry = { t: r.t, answered: r.v, variants: [r.v], rows: [r.p], outcome: false };
    this.index.set(id, entry); // same key: its place in the eviction order stays
    return entry;
  }

  /**
   * Keeps the index within its bounds. Deletions go in chunks of a hundredth of the bound, and the age is looked at
   * every 1024 inserts: a Map iterated from its start walks past the slots of every key deleted since it last
   * compacted, so deleting one key per insert (and iterating for it) made each insert slower as the store filled.
   */
  private evict(): void {
    const max = this.limits.maxPredictions;
    if (this.index.size <= max && ++this.insertsSinceAgeCheck < 1024) return;
    this.insertsSinceAgeCheck = 0;
    const keep = this.index.size > max ? max - Math.max(1, Math.floor(max / 100)) : max;
    const oldest = Date.now() - this.limits.retentionMs;
    for (const [id, kept] of this.index) {
      if (this.index.size <= keep && timeOf(kept) >= oldest) break;
      this.index.delete(id);
    }
  }

  /** Agreement with the control, when a prediction joins one of the other side for the same request. */
  private agree(r: PredictionRecord, entry: Entry): void {
    const control = this.plan.control;
    if (r.v === control) {
      entry.variants.forEach((v, i) => {
        if (v !== control) this.agreementOf(v).compare(entry.rows[i] as RowPrediction[], r.p);
      });
    } else {
      const rows = rowsOf(entry, control);
      if (rows) this.agreementOf(r.v).compare(r.p, rows);
    }
  }

  private applyOutcome(r: OutcomeRecord, entry: Entry): void {
    const outcome = this.plan.outcome;
    if (!outcome) return;
    this.counters.matched++; // here, from the log: a restart after a kill -9 counts it again from there
    if (outcome.type === 'reward') {
      // Only the answer the user saw earned the reward; shadows and comparison runs were never shown.
      if (entry.answered !== undefined && r.w !== undefined) this.statsOf(entry.answered).rewarded(r.w);
    } else if (r.y) {
      const truths = r.y;
      entry.truths = truths;
      entry.variants.forEach((v, i) => this.statsOf(v).judge(outcome.type, entry.rows[i] as RowPrediction[], truths, outcome.labels));
    }
    this.observeTests();
    if (this.plan.thompson && Date.now() - this.lastReallocation >= 1000) {
      this.lastReallocation = Date.now();
      this.weights = reallocate(this.plan, this.stats);
      if (this.weights) this.onWeights?.(this.weights);
    }
  }

  /** Feeds each candidate's current difference from the control to its sequential test. */
  private observeTests(): void {
    const type = this.plan.outcome?.type;
    const controlStats = this.stats.get(this.plan.control);
    if (!type || !controlStats) return;
    const control = controlStats.primary(type).moments;
    for (const v of reportedVariants(this.plan)) {
      const candidate = v === this.plan.control ? undefined : this.stats.get(v)?.primary(type).moments;
      if (!candidate || candidate.count < 2 || control.count < 2) continue;
      let test = this.tests.get(v);
      if (!test) {
        const effect = minimumEffectOf(this.plan, control);
        if (effect === undefined) continue;
        this.tests.set(v, (test = new SequentialTest(effect)));
      }
      // Proportions through their own reading: it keeps an arm with no error yet from looking certain.
      if (type === 'classification') test.observeProportions(successesOf(control), control.count, successesOf(candidate), candidate.count);
      else test.observeMeans(control, candidate);
    }
  }

  private agreementOf(variant: string): Agreement {
    let a = this.agreement.get(variant);
    if (!a) this.agreement.set(variant, (a = new Agreement()));
    return a;
  }

  private state(): object {
    const o = <T extends { toJSON(): object }>(m: Map<string, T>) => Object.fromEntries([...m].map(([k, v]) => [k, v.toJSON()]));
    return { stats: o(this.stats), agreement: o(this.agreement), tests: o(this.tests), counters: { matched: this.counters.matched, unmatched: this.counters.unmatched, duplicate: this.counters.duplicate } };
  }

  /**
   * Takes the checkpointed state. A damaged one (it is written by rename, so only a disk fault makes one) starts the
   * statistics again from what the log still holds after it, rather than keep the server from starting.
   */
  private restore(state: unknown): void {
    try {
      this.restoreState(state);
    } catch {
      this.stats.clear();
      this.agreement.clear();
      this.tests.clear();
      this.counters.matched = this.counters.unmatched = this.counters.duplicate = 0;
    }
  }

  private restoreState(state: unknown): void {
    if (!state || typeof state !== 'object') return;
    const s = state as Record<string, Record<string, unknown> | undefined>;
    for (const [k, v] of Object.entries(s.stats ?? {})) this.stats.set(k, VariantStats.from(v));
    for (const [k, v] of Object.entries(s.agreement ?? {})) this.agreement.set(k, Agreement.from(v));
    for (const [k, v] of Object.entries(s.tests ?? {})) this.tests.set(k, SequentialTest.from(v));
    const c = s.counters ?? {};
    this.counters.matched = Number(c.matched) || 0;
    this.counters.unmatched = Number(c.unmatched) || 0;
    this.counters.duplicate = Number(c.duplicate) || 0;
  }
}
