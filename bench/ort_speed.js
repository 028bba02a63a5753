// ort_speed.js - ONNX Runtime's side of bench_forward: each model's
// inference time inside the process (session created and warmed up first),
// at batch n (the whole input in one run) and at batch 1 (one run per row
// over the first ROWS rows, their mean); the best of REPEATS of each. All
// sessions are made first and every repeat runs each of them in turn, so
// that the models compared see the same load (this VM's speed drifts by
// 10-30 % within a minute).
//
//   node ort_speed.js INPUT.npy REPEATS ROWS THREADS MODEL...
//
// THREADS is an intra-op thread count or a comma list of them ("2,1"): each
// model gets a session per count. ROWS 0 skips batch 1. Prints per model, as
// bench_forward --models does, the first count's times unsuffixed and every
// count's with the suffix _tN:
//   model PATH, batch_seconds S, row_seconds S, batch_seconds_t2 S, ...
'use strict';
const path = require('path');
const tools = path.join(__dirname, '..', 'tests', 'tools');
const ort = require(path.join(tools, 'node_modules', 'onnxruntime-node'));
const { readTable, rowWidth } = require(path.join(tools, 'table_io'));

async function session(file, x, n, d, rows, threads) {
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
  return { file, threads, s, all, one, batch: Infinity, row: Infinity };
}

async function timeOnce(e) {
  let t0 = process.hrtime.bigint();
  await e.s.run(e.all);
  e.batch = Math.min(e.batch, Number(process.hrtime.bigint() - t0) / 1e9);
  if (!e.one.length) return;
  t0 = process.hrtime.bigint();
  for (const o of e.one) await e.s.run(o);
  e.row = Math.min(e.row, Number(process.hrtime.bigint() - t0) / 1e9 / e.one.length);
}

async function main() {
  const [input, rep, rowsArg, thr, ...models] = process.argv.slice(2);
  if (!models.length) {
    process.stderr.write('usage: node ort_speed.js INPUT.npy REPEATS ROWS THREADS[,THREADS...] MODEL...\n');
    process.exit(2);
  }
  const t = readTable(input);
  const n = t.shape[0], d = rowWidth(t.shape);
  const x = Float32Array.from(t.data);
  const rows = Math.min(Number(rowsArg), n);
  const counts = String(thr).split(',').map((v) => Math.max(1, Number(v)));
  const runs = [];
  for (const m of models)
    for (const c of counts) runs.push(await session(m, x, n, d, rows, c));
  for (let r = 0; r < Math.max(1, Number(rep)); r++)
    for (const e of runs) await timeOnce(e);
  for (const m of models) {
    let text = `model ${m}\n`;
    runs.filter((e) => e.file === m).forEach((e, i) => {
      const put = (k, v) => { if (!i) text += `${k} ${v}\n`; text += `${k}_t${e.threads} ${v}\n`; };
      put('batch_seconds', e.batch.toFixed(6));
      if (rows) put('row_seconds', e.row.toFixed(9));
    });
    process.stdout.write(text);
  }
  for (const e of runs) await e.s.release();
}
main().catch((e) => { process.stderr.write(`ort_speed: ${e.stack || e}\n`); process.exit(1); });
