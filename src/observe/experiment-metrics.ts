/**
 * ferry_experiment_*: what GET /v2/models/NAME/experiment says, as Prometheus gauges, computed when scraped (the
 * request path pays nothing for them). Gauges, not counters: an experiment's counts start again when its model's
 * store does (a new --data-dir), and its statistics go both ways.
 */
import { Gauge, type Registry } from 'prom-client';

/** The part of an experiment's report the metrics read (experiment/experiment-report.ts makes it). */
export interface ExperimentView {
  readonly model: string;
  readonly feedback: { readonly matched: number; readonly unmatched: number; readonly duplicate: number };
  readonly variants: readonly {
    readonly name: string;
    readonly role: string;
    readonly weight?: number;
    readonly requests: number;
    readonly feedback: number;
    readonly metrics: Readonly<Record<string, { readonly value: number | null }>>;
    readonly agreement?: { readonly label_agreement: { readonly value: number | null }; readonly mean_abs_score_difference: { readonly value: number | null } };
    readonly comparison?: { readonly difference: number | null; readonly p_value: number; readonly always_valid_p_value: number; readonly verdict: string };
    readonly shadow?: { readonly dropped: number; readonly failed: number };
  }[];
}

const VERDICTS = ['candidate_better', 'control_better', 'no_difference_yet'];

export function registerExperimentMetrics(registry: Registry, source: () => readonly ExperimentView[]): void {
  const gauge = (name: string, help: string, labelNames: string[], collect?: () => void) => new Gauge({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) });
  // The first registered, so its collect runs before the others are read: the reports are made once per scrape.
  const predictions = gauge('ferry_experiment_predictions', 'Requests a variant answered (or ran as a shadow) in an experiment', ['model', 'variant', 'role'], () => update());
  const outcomes = gauge('ferry_experiment_outcomes', 'Requests of a variant whose outcome came back (feedback)', ['model', 'variant']);
  const metric = gauge('ferry_experiment_metric', "A variant's metric from the outcomes (accuracy, log_loss, mae, rmse, mean_reward)", ['model', 'variant', 'metric']);
  const weight = gauge('ferry_experiment_weight', "A variant's share of the requests without a version", ['model', 'variant']);
  const agreement = gauge('ferry_experiment_agreement', 'Agreement with the control on the same requests: share of equal labels, mean absolute score difference', ['model', 'variant', 'measure']);
  const difference = gauge('ferry_experiment_difference', "The candidate's metric minus the control's", ['model', 'variant']);
  const pValue = gauge('ferry_experiment_p_value', 'The comparison with the control: fixed_horizon, or always_valid (may be read at any time)', ['model', 'variant', 'test']);
  const verdict = gauge('ferry_experiment_verdict', 'The current verdict of a candidate against the control (1 for the one that holds)', ['model', 'variant', 'verdict']);
  const shadow = gauge('ferry_experiment_shadow_runs', 'Shadow runs not made: dropped under load, or failed', ['model', 'variant', 'result']);
  const feedback = gauge('ferry_experiment_feedback', 'Feedback received, by whether it matched a recorded prediction', ['model', 'result']);
  const all = [predictions, outcomes, metric, weight, agreement, difference, pValue, verdict, shadow, feedback];
  const update = (): void => {
    for (const g of all) g.reset();
    for (const e of source()) {
      const model = e.model;
      for (const [result, n] of Object.entries(e.feedback)) feedback.set({ model, result }, n);
      for (const v of e.variants) {
        const variant = v.name;
        predictions.set({ model, variant, role: v.role }, v.requests);
        outcomes.set({ model, variant }, v.feedback);
        if (v.weight !== undefined) weight.set({ model, variant }, v.weight);
        for (const [name, estimate] of Object.entries(v.metrics)) if (estimate.value !== null) metric.set({ model, variant, metric: name }, estimate.value);
        if (v.agreement?.label_agreement.value != null) agreement.set({ model, variant, measure: 'label' }, v.agreement.label_agreement.value);
        if (v.agreement?.mean_abs_score_difference.value != null) agreement.set({ model, variant, measure: 'score_difference' }, v.agreement.mean_abs_score_difference.value);
        const c = v.comparison;
        if (c) {
          if (c.difference !== null) difference.set({ model, variant }, c.difference);
          pValue.set({ model, variant, test: 'fixed_horizon' }, c.p_value);
          pValue.set({ model, variant, test: 'always_valid' }, c.always_valid_p_value);
          for (const name of VERDICTS) verdict.set({ model, variant, verdict: name }, name === c.verdict ? 1 : 0);
        }
        if (v.shadow) {
          shadow.set({ model, variant, result: 'dropped' }, v.shadow.dropped);
          shadow.set({ model, variant, result: 'failed' }, v.shadow.failed);
        }
      }
    }
  };
}
