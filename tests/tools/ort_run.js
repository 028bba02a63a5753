#!/usr/bin/env node
'use strict';
// Runs an ONNX model in ONNX Runtime (CPU) on a table of float32 inputs and
// writes the model's first output as CSV, one row per sample, so the tests can
// compare lincomp with an independent implementation.
const USAGE = `usage: node ort_run.js MODEL.onnx INPUT(.npy|.csv) [OUT.csv|-] [options]
  INPUT       .npy (any number type, shape (n, ...)) or CSV with a header row
  OUT         CSV file, header y0,y1,... then one row per sample; - or absent:
              stdout (absent with --time: no output)
  --shape D1,D2,...  per-sample input shape when the model's is not fixed
                     (default: the model's input metadata, else the data's)
  --time N    run the whole batch N times, print the best wall time in
              seconds on stderr
  --threads N ONNX Runtime intra-op threads (default: ONNX Runtime's choice)`;

const fs = require('fs');
const path = require('path');
const { readTable, rowWidth, formatNumber } = require('./table_io');

function die(msg, code = 1) {
  process.stderr.write(`ort_run: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opt = { files: [], shape: null, time: 0, threads: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) die(`${a} needs a value\n${USAGE}`, 2);
      return argv[++i];
    };
    const count = (s) => {
      if (!/^\d+$/.test(s) || Number(s) < 1) die(`${a} wants a positive integer, got '${s}'`, 2);
      return Number(s);
    };
    if (a === '--shape') opt.shape = value().split(',').map(count);
    else if (a === '--time') opt.time = count(value());
    else if (a === '--threads') opt.threads = count(value());
    else if (a === '-h' || a === '--help') { process.stdout.write(USAGE + '\n'); process.exit(0); }
    else if (a.startsWith('--')) die(`unknown option ${a}\n${USAGE}`, 2);
    else opt.files.push(a);
  }
  if (opt.files.length < 2 || opt.files.length > 3) die(USAGE, 2);
  return opt;
}

// The input tensor's shape: [n, ...per-sample dims]. Fixed model dimensions
// win; symbolic ones fall back to --shape, then to the data's own shape.
function inputShape(meta, table, opt, modelFile) {
  const n = table.shape[0];
  const width = rowWidth(table.shape);
  let dims = null;
  if (opt.shape) dims = opt.shape;
  else if (meta && meta.isTensor && meta.shape.length >= 2) {
    const rest = meta.shape.slice(1);
    if (rest.every((d) => typeof d === 'number' && d > 0)) dims = rest;
    else if (meta.shape.length === 2) dims = [width];
    else if (table.shape.length === meta.shape.length) dims = table.shape.slice(1);
    else die(`${modelFile}: input '${meta.name}' has shape [${meta.shape.join(',')}] ` +
             'with unknown sizes; give --shape', 1);
  } else dims = [width];
  const need = dims.reduce((a, b) => a * b, 1);
  if (need !== width)
    die(`input has ${width} values per sample, model input wants ${need} (shape ${dims.join('x')})`);
  return [n, ...dims];
}

function writeCsv(out, data, n) {
  const w = n > 0 ? data.length / n : 0;
  const lines = [Array.from({ length: w }, (_, j) => `y${j}`).join(',')];
  for (let i = 0; i < n; i++) {
    const row = new Array(w);
    for (let j = 0; j < w; j++) row[j] = formatNumber(data[i * w + j]);
    lines.push(row.join(','));
  }
  const text = lines.join('\n') + '\n';
  if (out === '-') process.stdout.write(text);
  else {
    // write beside the target and rename, so a failed run leaves no file
    const tmp = path.join(path.dirname(out), `.${path.basename(out)}.tmp${process.pid}`);
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, out);
  }
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const [modelFile, inputFile] = opt.files;
  const out = opt.files[2] || (opt.time ? null : '-');
  let ort;
  try { ort = require('onnxruntime-node'); } catch (e) {
    die(`onnxruntime-node is not installed (cd ${__dirname} && npm install --ignore-scripts): ${e.message}`);
  }
  let table;
  try { table = readTable(inputFile); } catch (e) { die(e.message); }

  const so = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };
  if (opt.threads) { so.intraOpNumThreads = opt.threads; so.interOpNumThreads = 1; }
  let session;
  try { session = await ort.InferenceSession.create(modelFile, so); } catch (e) {
    die(`${modelFile}: ONNX Runtime cannot load it: ${e.message}`);
  }
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  if (meta && meta.isTensor && meta.type !== 'float32')
    die(`${modelFile}: input '${meta.name}' is ${meta.type}, only float32 is supported`);
  const shape = inputShape(meta, table, opt, modelFile);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(table.data), shape) };

  let result;
  let best = Infinity;
  for (let r = 0; r < Math.max(1, opt.time); r++) {
    const t0 = process.hrtime.bigint();
    result = await session.run(feeds);
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (dt < best) best = dt;
  }
  if (opt.time) process.stderr.write(`${best.toFixed(6)}\n`);
  const y = result[session.outputNames[0]];
  if (out) writeCsv(out, y.data, shape[0]);
}

main().catch((e) => die(e.stack || String(e)));
