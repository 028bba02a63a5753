// chart_ticks.js SVG [KIND...] - checks the tick labels of a chart lincomp
// wrote (src/cli/svg.h: <g class='ticks' data-kind='K'> groups of <text>).
// Each axis must read as round numbers: an arithmetic progression whose step
// is 1, 2, 2.5 or 5 times a power of ten, every value a multiple of it;
// parameter counts from 0, written as 0, whole numbers below 1000 or with a
// k/M suffix; sizes as percents from 0 %; thresholds 0.1 apart in [0, 1],
// written with one decimal; accuracies inside [0, 1]. Each KIND given must
// appear on at least one axis. Prints what is wrong and exits 1, else 0.
const fs = require("fs");
const [file, ...want] = process.argv.slice(2);
const svg = fs.readFileSync(file, "utf8");
const problems = [];
const seen = new Set();

function parse(kind, s) {
  let m;
  switch (kind) {
    case "count":
      if (s === "0") return 0;
      if ((m = /^(\d+(?:\.\d+)?)([kM])$/.exec(s))) return Number(m[1]) * (m[2] === "k" ? 1e3 : 1e6);
      if (/^[1-9]\d{0,2}$/.test(s)) return Number(s);
      return null;
    case "percent":
      return (m = /^(\d+(?:\.\d+)?) %$/.exec(s)) ? Number(m[1]) : null;
    case "threshold":
      return /^[01]\.\d$/.test(s) && Number(s) <= 1 ? Number(s) : null;
    default:
      return /^-?\d+(?:\.\d+)?$/.test(s) ? Number(s) : null;
  }
}

function roundStep(d) {
  const e = Math.floor(Math.log10(d) + 1e-9), m = d / 10 ** e;
  return [1, 2, 2.5, 5, 10].some((r) => Math.abs(m - r) < 1e-6);
}

const groups = [...svg.matchAll(/<g class='ticks' data-kind='(\w+)'[^>]*>([\s\S]*?)<\/g>/g)];
if (!groups.length) problems.push("no tick groups");
groups.forEach((g, gi) => {
  const kind = g[1], where = `axis ${gi + 1} (${kind})`;
  seen.add(kind);
  const labels = [...g[2].matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => t[1]);
  if (labels.length < 2) return problems.push(`${where}: ${labels.length} labels`);
  const v = labels.map((s) => parse(kind, s));
  const bad = labels.filter((s, i) => v[i] === null);
  if (bad.length) return problems.push(`${where}: labels not of its kind: ${bad.join(", ")}`);
  const d = v[1] - v[0];
  if (!(d > 0) || !roundStep(d)) return problems.push(`${where}: step ${d} is not 1-2-5 (${labels.join(", ")})`);
  for (let i = 1; i < v.length; i++)
    if (Math.abs(v[i] - v[i - 1] - d) > 1e-9 * Math.max(1, Math.abs(d)))
      return problems.push(`${where}: not evenly spaced: ${labels.join(", ")}`);
  for (const x of v)
    if (Math.abs(x / d - Math.round(x / d)) > 1e-6) return problems.push(`${where}: ${x} is not a multiple of ${d}`);
  if ((kind === "count" || kind === "percent") && v[0] !== 0) problems.push(`${where}: starts at ${labels[0]}, not 0`);
  if (kind === "threshold" && Math.abs(d - 0.1) > 1e-9) problems.push(`${where}: threshold step ${d}, not 0.1`);
  if ((kind === "fraction" || kind === "threshold") && (v[0] < 0 || v[v.length - 1] > 1))
    problems.push(`${where}: outside [0, 1]: ${labels.join(", ")}`);
  if (kind === "count" && v.some((x) => x >= 1000) && labels.some((s) => s !== "0" && !/[kM]$/.test(s)))
    problems.push(`${where}: mixes suffixes: ${labels.join(", ")}`);
});
for (const k of want) if (!seen.has(k)) problems.push(`no ${k} axis`);
if (problems.length) {
  console.log(problems.join("; "));
  process.exit(1);
}
