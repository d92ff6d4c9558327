// Chest X-ray classifier (demo): for each pathology, a logistic unit over the mean intensity of the
// lung region its weights name. Task `infer`: prepared images in, predictions.csv out.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [task, ...rest] = process.argv.slice(2);
const args = Object.fromEntries(rest.map((a) => /^--([^=]+)=(.*)$/.exec(a)).filter(Boolean).map((m) => [m[1], m[2]]));

function readPgm(path) {
  const buf = readFileSync(path);
  const m = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(buf.subarray(0, 64).toString('latin1'));
  if (!m) throw new Error(`${path}: not a binary PGM image`);
  const [w, h] = [Number(m[1]), Number(m[2])];
  return { w, h, pixels: buf.subarray(m[0].length, m[0].length + w * h) };
}

if (task !== 'infer') {
  console.error(`unknown task ${task}`);
  process.exit(2);
}
const weights = JSON.parse(readFileSync(args.weights, 'utf8'));
const params = Object.fromEntries(
  readFileSync(args.parameters_file, 'utf8').split('\n').map((l) => /^(\w+):\s*(\S+)/.exec(l)).filter(Boolean).map((m) => [m[1], m[2]]),
);
const ids = readdirSync(args.data_path).filter((f) => f.endsWith('.pgm')).map((f) => f.slice(0, -4)).sort();
const labels = Object.keys(weights.units);
const rows = [['id', ...labels].join(',')];
for (const id of ids) {
  const img = readPgm(join(args.data_path, `${id}.pgm`));
  const scores = labels.map((label) => {
    const { region: [x0, y0, x1, y1], bias, scale } = weights.units[label];
    let sum = 0;
    let n = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) (sum += img.pixels[y * img.w + x]), n++;
    const z = scale * (sum / n / 255 - bias);
    return (1 / (1 + Math.exp(-z))).toFixed(6);
  });
  rows.push([id, ...scores].join(','));
}
mkdirSync(args.output_path, { recursive: true });
writeFileSync(join(args.output_path, 'predictions.csv'), rows.join('\n') + '\n');
console.log(`${weights.name}: predicted ${ids.length} images (batch size ${params.batch_size ?? 'n/a'})`);
