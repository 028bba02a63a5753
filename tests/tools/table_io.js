'use strict';
// Reading numeric tables for the test tools: NumPy .npy (format versions 1-3,
// float/int/uint of any width, either byte order, C order) and CSV (an
// optional non-numeric header row, then numeric cells).
// Every reader returns { shape: [n, ...], data: Float64Array (C order) }.
// Errors are thrown as Error with a message naming the file and the place.

const fs = require('fs');

const NPY_MAGIC = '\x93NUMPY';

// The header is a Python dict literal; we only need three keys.
function parseNpyHeader(text, file) {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape)
    throw new Error(`${file}: npy header lacks descr, fortran_order or shape: ${text.trim()}`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s !== '');
  const dimsN = dims.map((s) => {
    if (!/^\d+$/.test(s)) throw new Error(`${file}: npy shape entry '${s}' is not a count`);
    return Number(s);
  });
  return { descr: descr[1], fortran: fortran[1] === 'True', shape: dimsN };
}

// Element reader for a dtype string such as '<f4', '>f8', '|u1', '<i8'.
function npyElement(descr, file) {
  const m = /^([<>|=])([fiu])(\d+)$/.exec(descr);
  if (!m) throw new Error(`${file}: npy dtype '${descr}' is not a plain number type`);
  const little = m[1] !== '>';
  const kind = m[2];
  const size = Number(m[3]);
  const get = {
    f4: (v, o) => v.getFloat32(o, little),
    f8: (v, o) => v.getFloat64(o, little),
    i1: (v, o) => v.getInt8(o),
    u1: (v, o) => v.getUint8(o),
    i2: (v, o) => v.getInt16(o, little),
    u2: (v, o) => v.getUint16(o, little),
    i4: (v, o) => v.getInt32(o, little),
    u4: (v, o) => v.getUint32(o, little),
    i8: (v, o) => Number(v.getBigInt64(o, little)),
    u8: (v, o) => Number(v.getBigUint64(o, little)),
  }[kind + size];
  if (!get) throw new Error(`${file}: npy dtype '${descr}' is not supported`);
  return { size, get };
}

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== NPY_MAGIC)
    throw new Error(`${file}: not a .npy file (magic \\x93NUMPY missing at byte 0)`);
  const major = buf[6];
  let hlen, hstart;
  if (major === 1) { hlen = buf.readUInt16LE(8); hstart = 10; }
  else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new Error(`${file}: npy header truncated at byte 8`);
    hlen = buf.readUInt32LE(8); hstart = 12;
  } else throw new Error(`${file}: npy format version ${major} unknown (expected 1, 2 or 3)`);
  if (hstart + hlen > buf.length)
    throw new Error(`${file}: npy header of ${hlen} bytes runs past the end of the file`);
  const hdr = parseNpyHeader(buf.toString(major === 3 ? 'utf8' : 'latin1', hstart, hstart + hlen), file);
  if (hdr.fortran) throw new Error(`${file}: npy in Fortran order is not supported (save with C order)`);
  const el = npyElement(hdr.descr, file);
  const count = hdr.shape.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  if (buf.length - off !== count * el.size)
    throw new Error(`${file}: npy data is ${buf.length - off} bytes at offset ${off}, ` +
                    `shape (${hdr.shape.join(',')}) of ${hdr.descr} needs ${count * el.size}`);
  const view = new DataView(buf.buffer, buf.byteOffset + off, count * el.size);
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = el.get(view, i * el.size);
  // a scalar or 1-D array is a column: one value per sample
  const shape = hdr.shape.length === 0 ? [1, 1] : hdr.shape.length === 1 ? [hdr.shape[0], 1] : hdr.shape;
  return { shape, data };
}

// Accepts what C's printf and JavaScript print for special values too.
function parseCell(s) {
  const t = s.trim().replace(/^"(.*)"$/, '$1').trim();
  if (t === '') return undefined;
  const l = t.toLowerCase();
  if (l === 'nan' || l === '-nan') return NaN;
  if (l === 'inf' || l === '+inf' || l === 'infinity' || l === '+infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

function readCsv(file) {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  const rows = [];
  let cols = -1;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') throw new Error(`${file}:${i + 1}: empty line inside the table`);
    const cells = lines[i].split(',');
    const vals = cells.map(parseCell);
    const bad = vals.findIndex((v) => v === undefined);
    if (bad >= 0) {
      if (i === 0) continue;      // a header row
      throw new Error(`${file}:${i + 1}: column ${bad + 1} '${cells[bad].trim()}' is not a number`);
    }
    if (cols < 0) cols = vals.length;
    else if (vals.length !== cols)
      throw new Error(`${file}:${i + 1}: ${vals.length} columns, expected ${cols} as in the first data row`);
    rows.push(vals);
  }
  if (cols < 0) cols = 0;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => data.set(r, i * cols));
  return { shape: [rows.length, cols], data };
}

// By extension: .npy is binary, anything else is CSV.
function readTable(file) {
  return /\.npy$/i.test(file) ? readNpy(file) : readCsv(file);
}

// Values per sample: the product of all dimensions after the first.
function rowWidth(shape) {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

// %.9g-like: 9 significant digits round-trip any float32 exactly.
function formatNumber(v) {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return String(Number(v.toPrecision(9)));
}

module.exports = { readNpy, readCsv, readTable, rowWidth, formatNumber };
