/**
 * ferry_feature_*: each feature's drift against training (features/drift.ts), as Prometheus gauges computed when
 * scraped; the request path only updates the windows.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ModelDrift } from '../dataplane/dataplane.js';

export function registerDriftMetrics(registry: Registry, source: () => readonly ModelDrift[]): void {
  const labelNames = ['model', 'version', 'feature'];
  // Under --processes N each process keeps its own windows: shares and PSI are averaged across them, rows summed.
  const gauge = (name: string, help: string, aggregator: 'sum' | 'average', collect?: () => void) =>
    new Gauge({ name, help, labelNames, aggregator, registers: [registry], ...(collect ? { collect } : {}) });
  // The first registered, so its collect runs before the others are read: the reports are made once per scrape.
  const rows = gauge('ferry_feature_window_rows', 'Rows in the sliding window a feature drift is measured over', 'sum', () => update());
  const psi = gauge('ferry_feature_drift_psi', 'Population stability index of a number feature in the window against its training reference (0.1: some drift, 0.25: large)', 'average');
  const missing = gauge('ferry_feature_missing_share', 'Share of rows in the window where the feature is missing', 'average');
  const unseen = gauge('ferry_feature_unseen_share', 'Categories: share of rows with a category unseen in training; texts: share of tokens outside the vocabulary', 'average');
  const update = (): void => {
    for (const g of [rows, psi, missing, unseen]) g.reset();
    for (const d of source()) {
      for (const f of d.features) {
        const labels = { model: d.model, version: d.version, feature: f.feature };
        rows.set(labels, f.rows);
        missing.set(labels, f.missingShare);
        if (f.psi !== undefined) psi.set(labels, f.psi);
        if (f.unseenShare !== undefined) unseen.set(labels, f.unseenShare);
      }
    }
  };
}
