/**
 * What a model's `traffic` config asks of its experiment: who the control is, which variants answer and which only
 * shadow, what outcome comes back, how candidates are compared and how weights move. A split with neither an outcome
 * nor a shadow is routing only: nothing is recorded, and the request path pays nothing more.
 */
import { variantName, type TrafficConfig } from '../config/model-config.js';
import type { Label } from './prediction-summary.js';
import type { OutcomeType } from './variant-stats.js';

export interface OutcomePlan {
  readonly type: OutcomeType;
  readonly labels: readonly Label[] | undefined;
  readonly minimumEffect: number | undefined;
}

/** Where a shadow's copy goes: a version of this model, or another model's default version. */
export interface ShadowTarget {
  readonly name: string;
  readonly model: string | undefined;
  readonly version: number | undefined;
}

export interface ExperimentPlan {
  /** The first variant: what every other one is compared with. */
  readonly control: string;
  /** The variants that answer requests, the control first. */
  readonly answering: readonly string[];
  readonly shadows: readonly ShadowTarget[];
  readonly outcome: OutcomePlan | undefined;
  /** When a candidate answers, the control also runs a copy (for agreement on the same requests). */
  readonly compare: boolean;
  readonly thompson: boolean;
  readonly allocationFloor: number;
}

export const DEFAULT_ALLOCATION_FLOOR = 0.05;

/** The experiment a traffic config asks for; undefined when it asks for none (no outcome, no shadow). */
export function planOf(traffic: TrafficConfig | undefined): ExperimentPlan | undefined {
  if (!traffic || (traffic.outcome === undefined && (traffic.shadow ?? []).length === 0)) return undefined;
  const answering = traffic.variants.map(variantName);
  const o = traffic.outcome;
  return {
    control: answering[0] as string,
    answering,
    shadows: (traffic.shadow ?? []).map((s) => ({ name: variantName(s), model: s.model, version: s.version })),
    outcome: o ? { type: o.type, labels: o.labels, minimumEffect: o.minimum_effect } : undefined,
    compare: traffic.compare ?? true,
    thompson: traffic.allocation === 'thompson',
    allocationFloor: traffic.allocation_floor ?? DEFAULT_ALLOCATION_FLOOR,
  };
}

/** Every variant the experiment reports on: the answering ones, then the shadows. */
export function reportedVariants(plan: ExperimentPlan): string[] {
  return [...plan.answering, ...plan.shadows.map((s) => s.name)];
}
