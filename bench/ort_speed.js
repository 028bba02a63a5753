// ort_speed.js - ONNX Runtime's side of bench_forward: each model's
// inference time inside the process (session created and warmed up first),
// at batch n (the whole input in one run) and at batch 1 (one run per row
// over the first ROWS rows, their mean); the best of REPEATS of each, the
// two alternating so that both see the same load.
//
//   node ort_speed.js INPUT.npy REPEATS ROWS THREADS MODEL...
//
// ROWS 0 skips batch 1. Prints per model, as bench_forward --models does:
//   model PATH, batch_seconds S, row_seconds S
'use strict';
const path = require('path');
const tools = path.join(__dirname, '..', 'tests', 'tools');
const ort = require(path.join(tools, 'node_modules', 'onnxruntime-node'));
const { readTable, rowWidth } = require(path.join(tools, 'table_io'));

async function timeModel(file, x, n, d, repeats, rows, threads) {
  // the options of tests/tools/ort_run.js: full graph optimisation, one
  // inter-op thread, THREADS intra-op threads (what lincomp's BLAS gets)
  const so = { executionProviders: ['cpu'], graphOptimizationLevel: 'all',
               intraOpNumThreads: threads, interOpNumThreads: 1 };
  const s = await ort.InferenceSession.create(file, so);
  const name = s.inputNames[0];
  const all = { [name]: new ort.Tensor('float32', x, [n, d]) };
  const one = [];
  for (let i = 0; i < rows; i++)
    one.push({ [name]: new ort.Tensor('float32', x.subarray(i * d, (i + 1) * d), [1, d]) });
  await s.run(all); // warm-up: first-run allocations are not inference
  if (rows) await s.run(one[0]);
  let batch = Infinity, row = Infinity;
  for (let r = 0; r < repeats; r++) {
    let t0 = process.hrtime.bigint();
    await s.run(all);
    batch = Math.min(batch, Number(process.hrtime.bigint() - t0) / 1e9);
    if (!rows) continue;
    t0 = process.hrtime.bigint();
    for (let i = 0; i < rows; i++) await s.run(one[i]);
    row = Math.min(row, Number(process.hrtime.bigint() - t0) / 1e9 / rows);
  }
  await s.release();
  return { batch, row };
}

async function main() {
  const [input, rep, rowsArg, thr, ...models] = process.argv.slice(2);
  if (!models.length) {
    process.stderr.write('usage: node ort_speed.js INPUT.npy REPEATS ROWS THREADS MODEL...\n');
    process.exit(2);
  }
  const t = readTable(input);
  const n = t.shape[0], d = rowWidth(t.shape);
  const x = Float32Array.from(t.data);
  const rows = Math.min(Number(rowsArg), n);
  for (const m of models) {
    const r = await timeModel(m, x, n, d, Math.max(1, Number(rep)), rows, Math.max(1, Number(thr)));
    process.stdout.write(`model ${m}\nbatch_seconds ${r.batch.toFixed(6)}\n` +
                         (rows ? `row_seconds ${r.row.toFixed(9)}\n` : ''));
  }
}
main().catch((e) => { process.stderr.write(`ort_speed: ${e.stack || e}\n`); process.exit(1); });
