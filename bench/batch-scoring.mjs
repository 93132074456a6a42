#!/usr/bin/env node
/**
 * The scoring loop of `ferry batch` against a bare onnxruntime-node loop, over the same pre-parsed batches.
 * Parses the first ROWS rows of a CSV once (ferry's CSV reader, BATCH rows a batch), keeps every batch in memory,
 * then times, alternately, REPS times each (a rep = PASSES passes over all the batches, long enough that one
 * hiccup of a shared machine does not decide it):
 *   ferry: scorer.score(batch.inputs) for every batch: what the batch job calls (data plane, batcher, runtime);
 *   bare:  session.run({float_input: tensor}) for every batch, on a session of the same model bytes (ZipMap fixed as
 *          ferry loads it, since onnxruntime-node cannot return the map output) with ferry's session options.
 * Prints one JSON line. Run from the repository root after `npm run build`:
 *
 *   node bench/batch-scoring.mjs DATA.csv [ROWS] [BATCH] [REPS] [PASSES]
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { openCsvReader } from '../dist/batch/readers/csv-reader.js';
import { mapColumns } from '../dist/batch/column-mapping.js';
import { openScorer } from '../dist/batch/scorer.js';
import { fixZipMap } from '../dist/runtime/onnx/zipmap-fix.js';

const [csv, rowsArg = '1000000', batchArg = '4096', repsArg = '9', passesArg = '3'] = process.argv.slice(2);
if (!csv) {
  process.stderr.write('usage: node bench/batch-scoring.mjs DATA.csv [ROWS] [BATCH] [REPS] [PASSES]\n');
  process.exit(2);
}
const ROWS = Number(rowsArg);
const BATCH = Number(batchArg);
const REPS = Number(repsArg);
const PASSES = Number(passesArg);
const MODELS = new URL('../examples/models', import.meta.url).pathname;
const MODEL_FILE = `${MODELS}/breast_cancer/1/model.onnx`;

const scorer = await openScorer({ model: 'breast_cancer', modelsDir: MODELS });
const reader = await openCsvReader(csv, {
  batchSize: BATCH,
  mapColumns: (header) => mapColumns(header, scorer.inputs, { map: {}, idColumn: 'id', arrayColumns: false }),
});
const batches = [];
let rows = 0;
for await (const b of reader.batches()) {
  batches.push(b.inputs);
  rows += b.ids.length;
  if (rows >= ROWS) break;
}
await reader.close();

const fixed = await fixZipMap(await readFile(MODEL_FILE));
// ferry's session options (src/runtime/onnx/onnx-runtime.ts): thread pools do not spin.
const session = await ort.InferenceSession.create(fixed.model, {
  logSeverityLevel: 3,
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
});
const feeds = batches.map(([t]) => ({ [session.inputNames[0]]: new ort.Tensor('float32', t.data, t.shape) }));

let checksum = { ferry: 0, bare: 0 };
async function ferryLoop() {
  let n = 0;
  for (let pass = 0; pass < PASSES; pass++) {
    for (const inputs of batches) {
      const out = await scorer.score(inputs);
      n += out[0].shape[0];
    }
  }
  checksum.ferry = n;
}
async function bareLoop() {
  let n = 0;
  for (let pass = 0; pass < PASSES; pass++) {
    for (const f of feeds) {
      const out = await session.run(f);
      n += out[session.outputNames[0]].dims[0];
    }
  }
  checksum.bare = n;
}

const times = { ferry: [], bare: [] };
await ferryLoop(); // warm-up, both
await bareLoop();
for (let r = 0; r < REPS; r++) {
  for (const [name, loop] of r % 2 === 0 ? [['ferry', ferryLoop], ['bare', bareLoop]] : [['bare', bareLoop], ['ferry', ferryLoop]]) {
    const t0 = performance.now();
    await loop();
    times[name].push((performance.now() - t0) / 1000);
  }
}
if (checksum.ferry !== rows * PASSES || checksum.bare !== rows * PASSES) throw new Error(`rows scored ${JSON.stringify(checksum)}, expected ${rows * PASSES}`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ratios = times.ferry.map((t, i) => times.bare[i] / t);
const medianRatio = median(ratios);
process.stdout.write(`${JSON.stringify({
  rows, batchSize: BATCH, batches: batches.length, reps: REPS, passes: PASSES,
  ferrySeconds: times.ferry, bareSeconds: times.bare,
  ferryRowsPerS: (rows * PASSES) / median(times.ferry), bareRowsPerS: (rows * PASSES) / median(times.bare),
  ratioMedian: median(times.bare) / median(times.ferry), ratioPerRepMedian: medianRatio, ratioPerRep: ratios,
})}\n`);
await session.release();
await scorer.close();
