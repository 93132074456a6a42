import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { selectVersions } from '../../src/config/model-config.js';
import { parseModelConfig } from '../../src/config/model-config-schema.js';
import { parseByteSize, resolveSettings } from '../../src/config/server-config.js';
import { DEFAULT_SPIN_DURATION_US, spinning } from '../../src/runtime/onnx/onnx-runtime.js';

describe('model config', () => {
  it('accepts the documented keys', () => {
    const c = parseModelConfig({ name: 'm', platform: 'onnxruntime_onnx', default_model_filename: 'net.onnx', version_policy: { latest: { num_versions: 2 } }, parameters: { owner: 'team-a' } }, 'config.yaml');
    assert.equal(c.default_model_filename, 'net.onnx');
    assert.ok(Object.isFrozen(c));
  });

  it('names unknown keys and wrong values', () => {
    assert.throws(() => parseModelConfig({ max_batch_sise: 8 }, 'm/config.yaml'), /invalid model config m\/config.yaml: unknown key 'max_batch_sise'/);
    assert.throws(() => parseModelConfig({ version_policy: { latest: { num_versions: 0 } } }, 'c'), /version_policy/);
    assert.throws(() => parseModelConfig({ default_model_filename: '../x.onnx' }, 'c'), /default_model_filename: a file name without folders/);
  });

  it("maps session spinning to onnxruntime's entries: bounded by default, unbounded or off when asked", () => {
    const session = (v: unknown) => parseModelConfig({ session: v }, 'c').session;
    assert.deepEqual(spinning(undefined), { allow_spinning: '1', spin_duration_us: String(DEFAULT_SPIN_DURATION_US) });
    assert.deepEqual(spinning(session({ spin_duration_us: 500 })), { allow_spinning: '1', spin_duration_us: '500' });
    assert.deepEqual(spinning(session({ allow_spinning: true })), { allow_spinning: '1' });
    assert.deepEqual(spinning(session({ allow_spinning: true, spin_duration_us: 2000 })), { allow_spinning: '1', spin_duration_us: '2000' });
    assert.deepEqual(spinning(session({ allow_spinning: false, spin_duration_us: 2000 })), { allow_spinning: '0' });
    assert.throws(() => session({ spin_duration_us: -1 }), /session\.spin_duration_us/);
  });

  it('selects versions by policy', () => {
    assert.deepEqual(selectVersions({ latest: { num_versions: 2 } }, [3, 1, 10]), [3, 10]);
    assert.deepEqual(selectVersions({ all: {} }, [2, 1]), [1, 2]);
    assert.deepEqual(selectVersions({ specific: { versions: [1, 5] } }, [1, 2, 3]), [1]);
  });
});

describe('server settings', () => {
  it('parses sizes and refuses bad values with the setting named', () => {
    assert.equal(parseByteSize('64mb'), 64 * 1024 * 1024);
    assert.equal(parseByteSize('512k'), 512 * 1024);
    assert.equal(parseByteSize('100'), 100);
    assert.throws(() => parseByteSize('lots'), /'lots' is not a size/);
    assert.throws(() => resolveSettings({ modelRepository: 'x', httpPort: 70000 }), /http port must be an integer from 0 to 65535, got 70000/);
  });
});
