// Chest X-ray data preparator (MedPerf tutorial style): prepare, sanity_check, statistics.
// Raw data: <data_path>/*.pgm (8-bit grayscale) and <labels_path>/labels.csv ("Image ID,Label",
// labels separated by |). Prepared data: the images normalised to image_output_size, and
// labels.csv with one 0/1 column per pathology of labels_list.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [task, ...rest] = process.argv.slice(2);
const args = Object.fromEntries(rest.map((a) => /^--([^=]+)=(.*)$/.exec(a)).filter(Boolean).map((m) => [m[1], m[2]]));
const params = readParameters(args.parameters_file);

function readParameters(path) {
  // parameters.yaml: flat `key: value` lines, lists as JSON-style [a, b].
  const out = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Za-z_]+):\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const v = m[2].trim();
    out[m[1]] = v.startsWith('[') ? JSON.parse(v.replace(/'/g, '"')) : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v.replace(/^["']|["']$/g, '');
  }
  return out;
}

function readPgm(path) {
  const buf = readFileSync(path);
  const header = buf.subarray(0, 64).toString('latin1');
  const m = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(header);
  if (!m) throw new Error(`${path}: not a binary PGM image`);
  const [w, h] = [Number(m[1]), Number(m[2])];
  return { w, h, pixels: buf.subarray(m[0].length, m[0].length + w * h) };
}

function writePgm(path, w, h, pixels) {
  writeFileSync(path, Buffer.concat([Buffer.from(`P5\n${w} ${h}\n255\n`, 'latin1'), Buffer.from(pixels)]));
}

function readCsv(path) {
  const [header, ...rows] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = header.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i], v])));
}

const size = params.image_output_size ?? [28, 28, 1];
const labelsList = params.labels_list;

if (task === 'prepare') {
  mkdirSync(args.output_path, { recursive: true });
  mkdirSync(args.output_labels_path, { recursive: true });
  const rows = readCsv(join(args.labels_path, 'labels.csv'));
  const out = [['id', ...labelsList].join(',')];
  for (const row of rows) {
    const id = row[params.image_column_id];
    const img = readPgm(join(args.data_path, `${id}.pgm`));
    // Nearest-neighbour resize to the output size, then stretch the contrast to 0..255.
    const [W, H] = size;
    const px = new Uint8Array(W * H);
    let lo = 255;
    let hi = 0;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const v = img.pixels[Math.floor((y * img.h) / H) * img.w + Math.floor((x * img.w) / W)];
        px[y * W + x] = v;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    for (let i = 0; i < px.length; i++) px[i] = hi > lo ? Math.round(((px[i] - lo) * 255) / (hi - lo)) : 0;
    writePgm(join(args.output_path, `${id}.pgm`), W, H, px);
    const present = new Set(String(row[params.label_column_id] ?? '').toLowerCase().split('|'));
    out.push([id, ...labelsList.map((l) => (present.has(l) ? 1 : 0))].join(','));
  }
  writeFileSync(join(args.output_labels_path, 'labels.csv'), out.join('\n') + '\n');
  console.log(`prepared ${rows.length} images`);
} else if (task === 'sanity_check') {
  const rows = readCsv(join(args.labels_path, 'labels.csv'));
  const problems = [];
  for (const row of rows) {
    let img;
    try {
      img = readPgm(join(args.data_path, `${row.id}.pgm`));
    } catch (e) {
      problems.push(`${row.id}: ${e.message}`);
      continue;
    }
    if (img.w !== size[0] || img.h !== size[1]) problems.push(`${row.id}: ${img.w}x${img.h}, expected ${size[0]}x${size[1]}`);
    for (const l of labelsList) if (row[l] !== '0' && row[l] !== '1') problems.push(`${row.id}: label ${l} is ${row[l]}`);
  }
  const images = readdirSync(args.data_path).filter((f) => f.endsWith('.pgm')).length;
  if (images !== rows.length) problems.push(`${images} images but ${rows.length} labels`);
  if (problems.length) {
    console.error(`sanity check failed:\n${problems.join('\n')}`);
    process.exit(1);
  }
  console.log(`sanity check passed: ${rows.length} images`);
} else if (task === 'statistics') {
  const rows = readCsv(join(args.labels_path, 'labels.csv'));
  const lines = [`num_samples: ${rows.length}`, 'label_counts:'];
  for (const l of labelsList) lines.push(`  ${l}: ${rows.filter((r) => r[l] === '1').length}`);
  writeFileSync(args.output_path, lines.join('\n') + '\n');
  console.log(`statistics written for ${rows.length} samples`);
} else {
  console.error(`unknown task ${task}`);
  process.exit(2);
}
