#!/usr/bin/env node
'use strict';
// Compares two numeric tables element-wise: |a - b| <= atol + rtol * |b|,
// B being the reference. Values are compared as float32 (the models'
// precision), so a CSV cell printed with %.9g equals its .npy float. Prints one line with the worst element (the one
// furthest past, or nearest to, its tolerance) and exits 0 when all agree,
// 1 on a mismatch or a shape difference, 2 on usage or read errors.
const USAGE = `usage: node compare.js A B [--rtol X] [--atol X]
  A, B    CSV (with or without a header row) or .npy; B is the reference
  --rtol  relative tolerance (default 1e-5)
  --atol  absolute tolerance (default 1e-6)`;

const { readTable, rowWidth } = require('./table_io');

function die(msg, code) {
  process.stderr.write(`compare: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opt = { files: [], rtol: 1e-5, atol: 1e-6 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rtol' || a === '--atol') {
      const s = argv[++i];
      const v = Number(s);
      if (s === undefined || s.trim() === '' || !Number.isFinite(v) || v < 0)
        die(`${a} wants a non-negative number, got '${s}'`, 2);
      opt[a.slice(2)] = v;
    } else if (a === '-h' || a === '--help') { process.stdout.write(USAGE + '\n'); process.exit(0); }
    else if (a.startsWith('--')) die(`unknown option ${a}\n${USAGE}`, 2);
    else opt.files.push(a);
  }
  if (opt.files.length !== 2) die(USAGE, 2);
  return opt;
}

// Equal NaNs and equal infinities agree; any other non-finite value does not.
function excess(a, b, rtol, atol) {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? -1 : Infinity;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b ? -1 : Infinity;
  const tol = atol + rtol * Math.abs(b);
  const d = Math.abs(a - b);
  return tol > 0 ? d / tol - 1 : (d > 0 ? Infinity : -1);
}

function main() {
  const opt = parseArgs(process.argv.slice(2));
  const [fa, fb] = opt.files;
  let A, B;
  try { A = readTable(fa); B = readTable(fb); } catch (e) { die(e.message, 2); }
  const ra = A.shape[0], ca = rowWidth(A.shape);
  const rb = B.shape[0], cb = rowWidth(B.shape);
  if (ra !== rb || ca !== cb) {
    console.log(`shape differs: ${fa} is ${ra}x${ca}, ${fb} is ${rb}x${cb}`);
    process.exit(1);
  }
  if (ra * ca === 0) {
    console.log(`both tables are empty (${ra}x${ca})`);
    process.exit(0);
  }
  let worst = -Infinity, wi = 0, bad = 0, maxAbs = 0;
  for (const t of [A, B]) for (let i = 0; i < t.data.length; i++) t.data[i] = Math.fround(t.data[i]);
  for (let i = 0; i < A.data.length; i++) {
    const e = excess(A.data[i], B.data[i], opt.rtol, opt.atol);
    if (e > 0) bad++;
    if (e > worst) { worst = e; wi = i; }
    const d = Math.abs(A.data[i] - B.data[i]);
    if (d > maxAbs) maxAbs = d;
  }
  const r = Math.floor(wi / ca), c = wi % ca;
  const a = A.data[wi], b = B.data[wi];
  const where = `row ${r} col ${c}: ${a} vs ${b} (|diff| ${Math.abs(a - b)}, ` +
                `tol ${opt.atol + opt.rtol * Math.abs(b)})`;
  if (bad) {
    console.log(`MISMATCH: ${bad} of ${A.data.length} elements differ; worst at ${where}`);
    process.exit(1);
  }
  console.log(`OK: ${ra}x${ca} agree; max |diff| ${maxAbs}; closest to tolerance at ${where}`);
}

main();
