/**
 * Every feature transform against scikit-learn itself: test/features/fixtures/make_transform_cases.py fits the real
 * transformers (StandardScaler, MinMaxScaler, SimpleImputer, KBinsDiscretizer, OneHotEncoder, OrdinalEncoder,
 * FunctionTransformer) and records their output for records with missing values and unseen categories; ferry's
 * compiled features must give the same model input. Token ids are computed independently in Python.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseModelConfig } from '../../src/config/model-config-schema.js';
import { compileFeatures } from '../../src/features/feature-plan.js';
import { DriftWindows, psi } from '../../src/features/drift.js';
import type { FeatureConfig } from '../../src/config/feature-config-schema.js';
import type { Tensor, TensorSpec } from '../../src/tensor/tensor.js';

interface Case {
  readonly name: string;
  readonly features: FeatureConfig[];
  readonly records: Record<string, unknown>[];
  readonly expected: number[][];
}
interface ErrorCase {
  readonly name: string;
  readonly features: FeatureConfig[];
  readonly records: Record<string, unknown>[];
  readonly error_contains: string;
  readonly value?: string;
}

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/transform-cases.json', import.meta.url), 'utf8')) as { sklearn: string; cases: Case[]; errors: ErrorCase[] };

/** Feature columns as a client sends them: FP64 (NaN for missing) or BYTES ('' for missing). */
function columnsOf(features: readonly FeatureConfig[], records: readonly Record<string, unknown>[]): Tensor[] {
  return features.map((f) => {
    const values = records.map((r) => r[f.name]);
    if ((f.type ?? 'number') === 'number') {
      return { name: f.name, datatype: 'FP64', shape: [records.length], data: Float64Array.from(values, (v) => (v === null || v === undefined ? NaN : Number(v))) };
    }
    return { name: f.name, datatype: 'BYTES', shape: [records.length], data: values.map((v) => (v === null || v === undefined ? '' : String(v))) };
  });
}

/** The model inputs the fixture's features fill, sized from the expected rows. */
function modelOf(c: { features: readonly FeatureConfig[]; expected?: number[][] }): TensorSpec[] {
  const into = c.features[0]!.into ?? 'float_input';
  const text = c.features.find((f) => f.type === 'text');
  if (text) return [{ name: into, datatype: 'INT64', shape: [-1, text.tokens!.length] }];
  return [{ name: into, datatype: 'FP64', shape: [-1, c.expected ? c.expected[0]!.length : -1] }];
}

describe(`feature transforms against scikit-learn ${fixtures.sklearn}`, () => {
  for (const c of fixtures.cases) {
    it(c.name, () => {
      const config = parseModelConfig({ features: c.features }, c.name); // the fixture passes the config schema
      const plan = compileFeatures(config.features!, modelOf(c));
      assert.deepEqual(plan.inputs.map((s) => s.name), c.features.map((f) => f.name));
      const [out] = plan.prepare(columnsOf(c.features, c.records));
      const width = c.expected[0]!.length;
      assert.deepEqual(out!.shape, [c.records.length, width]);
      const got = Array.from(out!.data as ArrayLike<number | bigint>, Number);
      c.expected.forEach((row, r) => row.forEach((want, j) => {
        const value = got[r * width + j]!;
        assert.ok(Math.abs(value - want) <= 1e-9 * Math.max(1, Math.abs(want)), `record ${r} column ${j}: ${value}, scikit-learn ${want}`);
      }));
    });
  }

  for (const e of fixtures.errors) {
    it(`refuses: ${e.name}`, () => {
      const plan = compileFeatures(parseModelConfig({ features: e.features }, e.name).features!, modelOf(e));
      assert.throws(() => plan.prepare(columnsOf(e.features, e.records)), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'INVALID_ARGUMENT');
        assert.ok(err.message.includes(e.error_contains), err.message);
        if (e.value) assert.ok(err.message.includes(e.value), err.message);
        return true;
      });
    });
  }
});

describe('feature config', () => {
  const bad = (features: unknown, pattern: RegExp) => assert.throws(() => parseModelConfig({ features }, 'config.yaml'), pattern);

  it('names the field of a mistake', () => {
    bad([{ name: 'plan', type: 'category', one_hot: { vocabulary: ['a'] }, standard: { mean: 0, scale: 1 } }], /features\.0: 'standard' is for number features, and 'plan' is a category/);
    bad([{ name: 'age', standard: { mean: 0, scale: 0 } }], /features\.0\.standard\.scale: scale must not be 0/);
    bad([{ name: 'age', bucketize: { edges: [3, 1] } }], /features\.0\.bucketize\.edges: edges must ascend/);
    bad([{ name: 'plan', type: 'category' }], /needs one encoding: one_hot or ordinal/);
    bad([{ name: 'age', scale: 2 }], /features\.0: unknown key 'scale'/);
    bad([{ name: 'a' }, { name: 'a' }], /two features are named 'a'/);
    bad([{ name: 'age', missing: 'unknown' }], /missing: unknown is for categories and text/);
  });

  it('refuses a layout that does not fit the model, at load', () => {
    const features = parseModelConfig({ features: [{ name: 'age' }, { name: 'plan', type: 'category', one_hot: { vocabulary: ['a', 'b'] } }] }, 'c').features!;
    assert.throws(() => compileFeatures(features, [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }]), /features 'age', 'plan' fill 3 columns of model input 'x', whose shape is \[-1,4\]/);
    assert.throws(() => compileFeatures(features, [{ name: 'x', datatype: 'INT64', shape: [-1, 3] }]), /model input 'x' is INT64: number and category features fill FP32 or FP64 inputs/);
    assert.throws(() => compileFeatures(features, [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }, { name: 'y', datatype: 'FP32', shape: [-1, 1] }]), /model input 'y' is not filled by any feature/);
    const fill = parseModelConfig({ features: [{ name: 'plan', type: 'category', missing: { default: 'gold' }, one_hot: { vocabulary: ['a', 'b'] } }] }, 'c').features!;
    assert.throws(() => compileFeatures(fill, [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }]), /feature 'plan': its missing value "gold" is not in its vocabulary/);
  });
});

describe('drift', () => {
  it('computes the population stability index of the window against the reference', () => {
    const features = parseModelConfig({ features: [{ name: 'x', reference: { edges: [0, 10], shares: [0.25, 0.5, 0.25] } }] }, 'c').features!;
    const drift = new DriftWindows(features, 8);
    const observe = (values: number[]) => drift.observe(Float64Array.from(values.flatMap((v) => [v, 0])), values.length);
    observe([-1, 5, 5, 20, NaN, 20, 20, 20]);
    const [report] = drift.report();
    // 7 present rows: bins [1, 2, 4] / 7 against [0.25, 0.5, 0.25]
    const want = [1 / 7, 2 / 7, 4 / 7].reduce((s, a, i) => s + (a - [0.25, 0.5, 0.25][i]!) * Math.log(a / [0.25, 0.5, 0.25][i]!), 0);
    assert.equal(report!.rows, 8);
    assert.equal(report!.missingShare, 1 / 8);
    assert.ok(Math.abs(report!.psi! - want) < 1e-12);
    assert.equal(psi([0.25, 0.5, 0.25], [0.25, 0.5, 0.25]), 0);
    // The window slides: eight more rows in the middle bin replace all of the above.
    observe([5, 5, 5, 5, 5, 5, 5, 5]);
    const [after] = drift.report();
    assert.equal(after!.missingShare, 0);
    assert.ok(after!.psi! > 0.5, 'all in one bin against a 50% share');
  });

  it('counts missing numbers without a reference, and nothing of a refused request', () => {
    const features = parseModelConfig({ features: [{ name: 'x', missing: { default: 0 } }, { name: 'y' }] }, 'c').features!;
    const drift = new DriftWindows(features, 100);
    const plan = compileFeatures(features, [{ name: 'v', datatype: 'FP32', shape: [-1, 2] }], drift);
    plan.prepare([{ name: 'x', datatype: 'FP64', shape: [3], data: Float64Array.of(1.5, 2.5, NaN) }, { name: 'y', datatype: 'FP64', shape: [3], data: Float64Array.of(1, 2, 3) }]);
    assert.throws(() => plan.prepare([{ name: 'x', datatype: 'FP64', shape: [1], data: Float64Array.of(NaN) }, { name: 'y', datatype: 'FP64', shape: [1], data: Float64Array.of(NaN) }]), /row 0: feature 'y' is missing/);
    const [x, y] = drift.report();
    assert.equal(x!.rows, 3, 'the refused request left the windows as they were');
    assert.equal(x!.missingShare, 1 / 3);
    assert.equal(y!.missingShare, 0);
  });

  it('refuses features whose columns disagree on the rows', () => {
    const features = parseModelConfig({ features: [{ name: 'x' }, { name: 'y' }] }, 'c').features!;
    const plan = compileFeatures(features, [{ name: 'v', datatype: 'FP32', shape: [-1, 2] }]);
    assert.throws(() => plan.prepare([{ name: 'x', datatype: 'FP64', shape: [3], data: new Float64Array(3) }, { name: 'y', datatype: 'FP64', shape: [2], data: new Float64Array(2) }]), /features disagree on the number of rows: 'x' has 3, 'y' has 2/);
  });

  it('counts unseen and missing categories over the window', () => {
    const features = parseModelConfig({ features: [{ name: 'plan', type: 'category', missing: 'unknown', one_hot: { vocabulary: ['a', 'b'], unknown: 'ignore' } }] }, 'c').features!;
    const drift = new DriftWindows(features, 100);
    const plan = compileFeatures(features, [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }], drift);
    plan.prepare([{ name: 'plan', datatype: 'BYTES', shape: [4], data: ['a', 'z', '', 'b'] }]);
    const [report] = drift.report();
    assert.equal(report!.rows, 4);
    assert.equal(report!.unseenShare, 0.25);
    assert.equal(report!.missingShare, 0.25);
  });
});
