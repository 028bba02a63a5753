// ort_eval.js - the ONNX Runtime side of the whole-process comparison with
// `lincomp eval`: load IDX images (+ labels) and a model, run it, print the
// accuracy. Usage: node ort_eval.js MODEL.onnx IMAGES-idx3-ubyte[.gz]
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const path = require('path');
const ort = require(path.join(__dirname, '..', 'tests', 'tools', 'node_modules', 'onnxruntime-node'));

function readIdx(file) {
  let buf = fs.readFileSync(file);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = zlib.gunzipSync(buf);
  const nd = buf[3];
  const dims = [];
  for (let i = 0; i < nd; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  return { dims, data: buf.subarray(4 + 4 * nd) };
}

async function main() {
  const [model, images] = process.argv.slice(2);
  const img = readIdx(images);
  const lab = readIdx(images.replace('images-idx3', 'labels-idx1'));
  const n = img.dims[0], d = img.dims[1] * img.dims[2];
  const x = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) x[i] = img.data[i] / 255;
  const sess = await ort.InferenceSession.create(model);
  const out = await sess.run({ [sess.inputNames[0]]: new ort.Tensor('float32', x, [n, d]) });
  const y = out[sess.outputNames[0]].data, k = y.length / n;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (y[i * k + j] > y[i * k + best]) best = j;
    if (best === lab.data[i]) correct++;
  }
  console.log(`accuracy ${(correct / n).toFixed(4)}`);
}
main().catch((e) => { console.error(e.message); process.exit(1); });
