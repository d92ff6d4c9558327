// Classification metrics (demo): per pathology, AUC (Mann-Whitney) and accuracy at the threshold of
// parameters.yaml, and their means, written to results.yaml.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [task, ...rest] = process.argv.slice(2);
const args = Object.fromEntries(rest.map((a) => /^--([^=]+)=(.*)$/.exec(a)).filter(Boolean).map((m) => [m[1], m[2]]));
if (task !== 'evaluate') {
  console.error(`unknown task ${task}`);
  process.exit(2);
}
const threshold = Number(/threshold:\s*([\d.]+)/.exec(readFileSync(args.parameters_file, 'utf8'))?.[1] ?? 0.5);

function readCsv(path) {
  const [header, ...rows] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = header.split(',');
  return { cols, rows: new Map(rows.map((r) => r.split(',')).map((v) => [v[0], Object.fromEntries(v.map((x, i) => [cols[i], x]))])) };
}

function auc(scores, truth) {
  const pos = scores.filter((_, i) => truth[i] === 1);
  const neg = scores.filter((_, i) => truth[i] === 0);
  if (!pos.length || !neg.length) return 0.5;
  let wins = 0;
  for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (pos.length * neg.length);
}

const predictions = readCsv(join(args.predictions, 'predictions.csv'));
const labels = readCsv(join(args.labels, 'labels.csv'));
const names = labels.cols.slice(1);
const ids = [...labels.rows.keys()].filter((id) => predictions.rows.has(id));
if (ids.length !== labels.rows.size) {
  console.error(`predictions cover ${ids.length} of ${labels.rows.size} labelled images`);
  process.exit(1);
}
const round = (x) => Math.round(x * 1e6) / 1e6;
const result = { AUC: {}, accuracy: {} };
for (const name of names) {
  const s = ids.map((id) => Number(predictions.rows.get(id)[name]));
  const t = ids.map((id) => Number(labels.rows.get(id)[name]));
  result.AUC[name] = round(auc(s, t));
  result.accuracy[name] = round(s.filter((x, i) => (x >= threshold ? 1 : 0) === t[i]).length / ids.length);
}
const mean = (o) => round(Object.values(o).reduce((a, b) => a + b, 0) / Object.keys(o).length);
result.AUC.mean = mean(result.AUC);
result.accuracy.mean = mean(result.accuracy);
const lines = [];
for (const [metric, values] of Object.entries(result)) {
  lines.push(`${metric}:`);
  for (const [k, v] of Object.entries(values)) lines.push(`  ${k}: ${v}`);
}
writeFileSync(args.output_path, lines.join('\n') + '\n');
console.log(`AUC ${result.AUC.mean}, accuracy ${result.accuracy.mean} over ${ids.length} images`);
