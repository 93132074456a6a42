/**
 * What an experiment has learnt about one variant: how many requests it answered (or shadowed), how many outcomes
 * came back, the running moments of each metric, and its agreement with the control on the same requests. Plain
 * sums, so an outcome costs a few additions and the whole state checkpoints as a small JSON object.
 */
import { Moments, proportionSummary, successesOf, type ArmSummary } from './statistics.js';
import { probabilityOf, sameLabel, type Label, type RowPrediction } from './prediction-summary.js';

export type OutcomeType = 'classification' | 'regression' | 'reward';

/** Log loss of a probability of 0 is infinite; clipped as scikit-learn's log_loss does. */
const MIN_PROBABILITY = 1e-15;

export class VariantStats {
  /** Requests it answered, or ran as a shadow or comparison. */
  requests = 0;
  /** Requests whose outcome came back. */
  feedback = 0;
  /** Classification: 1 per correct row, 0 per wrong one (the mean is the accuracy). */
  correct = new Moments();
  logLoss = new Moments();
  /** Regression: |prediction - truth| and its square per row. */
  absError = new Moments();
  squaredError = new Moments();
  /** Reward: one value per request answered. */
  reward = new Moments();

  /** Scores one request's rows against their truths (classification, regression). */
  judge(type: OutcomeType, rows: readonly RowPrediction[], truths: readonly Label[], labels: readonly Label[] | undefined): void {
    this.feedback++;
    for (let i = 0; i < truths.length; i++) {
      const row = rows[i];
      const truth = truths[i] as Label;
      if (row === undefined) continue;
      if (type === 'classification') {
        this.correct.add(sameLabel(row.l, truth) ? 1 : 0);
        const p = probabilityOf(row, truth, labels);
        if (p !== undefined) this.logLoss.add(-Math.log(Math.max(p, MIN_PROBABILITY)));
      } else {
        const value = row.s?.[0];
        if (value === undefined || !Number.isFinite(value) || typeof truth !== 'number') continue; // a NaN answer is not judged
        const error = value - truth;
        this.absError.add(Math.abs(error));
        this.squaredError.add(error * error);
      }
    }
  }

  /**
   * The arm the comparisons use: a proportion's variance smoothed (proportionSummary: an arm with no error yet does
   * not look certain), a mean's as measured.
   */
  arm(type: OutcomeType): ArmSummary {
    const { moments } = this.primary(type);
    return type === 'classification' ? proportionSummary(successesOf(moments), moments.count) : moments;
  }

  rewarded(value: number): void {
    this.feedback++;
    this.reward.add(value);
  }

  /** The moments the comparison between variants is made on, and whether higher is better. */
  primary(type: OutcomeType): { moments: Moments; higherIsBetter: boolean } {
    if (type === 'classification') return { moments: this.correct, higherIsBetter: true };
    if (type === 'regression') return { moments: this.absError, higherIsBetter: false };
    return { moments: this.reward, higherIsBetter: true };
  }

  toJSON(): object {
    return {
      requests: this.requests,
      feedback: this.feedback,
      correct: this.correct.toJSON(),
      logLoss: this.logLoss.toJSON(),
      absError: this.absError.toJSON(),
      squaredError: this.squaredError.toJSON(),
      reward: this.reward.toJSON(),
    };
  }

  static from(json: unknown): VariantStats {
    const s = new VariantStats();
    const j = (json ?? {}) as Record<string, unknown>;
    s.requests = Number(j.requests) || 0;
    s.feedback = Number(j.feedback) || 0;
    for (const key of ['correct', 'logLoss', 'absError', 'squaredError', 'reward'] as const) {
      if (j[key] !== undefined) s[key] = Moments.from(j[key]);
    }
    return s;
  }
}

/** How a candidate or shadow answers compared with the control on the same requests, before any outcome. */
export class Agreement {
  /** 1 per row with the same label as the control's, 0 otherwise. */
  labels = new Moments();
  /** Per row: the mean absolute difference between its scores and the control's. */
  scoreDifference = new Moments();

  compare(rows: readonly RowPrediction[], control: readonly RowPrediction[]): void {
    const n = Math.min(rows.length, control.length);
    for (let i = 0; i < n; i++) {
      const a = rows[i] as RowPrediction;
      const c = control[i] as RowPrediction;
      if (a.l !== undefined && c.l !== undefined) this.labels.add(sameLabel(a.l, c.l) ? 1 : 0);
      if (a.s && c.s && a.s.length === c.s.length && a.s.length > 0) {
        let sum = 0;
        for (let k = 0; k < a.s.length; k++) sum += Math.abs((a.s[k] as number) - (c.s[k] as number));
        if (Number.isFinite(sum)) this.scoreDifference.add(sum / a.s.length);
      }
    }
  }

  toJSON(): object {
    return { labels: this.labels.toJSON(), scoreDifference: this.scoreDifference.toJSON() };
  }

  static from(json: unknown): Agreement {
    const a = new Agreement();
    const j = (json ?? {}) as Record<string, unknown>;
    if (j.labels !== undefined) a.labels = Moments.from(j.labels);
    if (j.scoreDifference !== undefined) a.scoreDifference = Moments.from(j.scoreDifference);
    return a;
  }
}
