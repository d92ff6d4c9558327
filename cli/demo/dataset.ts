// Synthetic chest X-ray-like data for the demo benchmark, deterministic and offline: 28x28 8-bit
// grayscale PGM images with a lung-field background, where each pathology present adds a bright
// patch in its own region with a random strength (so models are good, not perfect), and MedPerf's
// labels.csv ("Image ID,Label", labels joined by |).
//
//   npx tsx cli/demo/dataset.ts [out-dir]   (default examples/data/generated)
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { packagePath } from '../../registry/package-root.ts';

export const PATHOLOGIES = ['cardiomegaly', 'effusion', 'pneumonia'] as const;
/** Where each pathology shows, [x0, y0, x1, y1] on the 28x28 image. */
const REGIONS: Record<(typeof PATHOLOGIES)[number], [number, number, number, number]> = {
  cardiomegaly: [10, 14, 18, 22],
  effusion: [3, 20, 9, 26],
  pneumonia: [18, 4, 25, 11],
};
const SIZE = 28;

/** mulberry32: a small seeded generator, so the same seed gives the same bytes everywhere. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedDataset {
  dataPath: string;
  labelsPath: string;
}

/** Writes `count` raw images to <dir>/data and their labels to <dir>/labels/labels.csv. */
export function generateDataset(dir: string, options: { count?: number; seed?: number; prefix?: string } = {}): GeneratedDataset {
  const count = options.count ?? 60;
  const rand = random(options.seed ?? 1);
  const dataPath = join(dir, 'data');
  const labelsPath = join(dir, 'labels');
  mkdirSync(dataPath, { recursive: true });
  mkdirSync(labelsPath, { recursive: true });
  const rows = ['Image ID,Label'];
  for (let i = 0; i < count; i++) {
    const id = `${options.prefix ?? 'cxr'}-${String(i).padStart(4, '0')}`;
    const px = new Uint8Array(SIZE * SIZE);
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++) {
        // Two darker lung fields on a lighter chest, plus noise.
        const lung = Math.abs(x - 8) < 5 || Math.abs(x - 19) < 5 ? 60 : 110;
        px[y * SIZE + x] = Math.round(lung + rand() * 40);
      }
    const present = PATHOLOGIES.filter(() => rand() < 0.35);
    for (const p of present) {
      const [x0, y0, x1, y1] = REGIONS[p];
      const strength = 20 + rand() * 90;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) px[y * SIZE + x] = Math.min(255, px[y * SIZE + x]! + strength);
    }
    writeFileSync(join(dataPath, `${id}.pgm`), Buffer.concat([Buffer.from(`P5\n${SIZE} ${SIZE}\n255\n`, 'latin1'), Buffer.from(px)]));
    rows.push(`${id},${present.length ? present.join('|') : 'no finding'}`);
  }
  writeFileSync(join(labelsPath, 'labels.csv'), rows.join('\n') + '\n');
  // Explicit modes: the cubes read this data as an unprivileged user when the CLI runs as root, and
  // the demo tarball's bytes (its sha256) must not depend on the umask.
  for (const folder of [dataPath, labelsPath]) {
    chmodSync(folder, 0o755);
    for (const file of readdirSync(folder)) chmodSync(join(folder, file), 0o644);
  }
  return { dataPath, labelsPath };
}

/**
 * The benchmark's demo dataset tarball, as MedPerf ships one: paths.yaml naming data/ and labels/.
 * Deterministic bytes (fixed mtimes, no owners, gzip without a timestamp), so its sha256 is stable.
 */
export async function buildDemoTarball(outFile: string, options: { count?: number; seed?: number } = {}): Promise<void> {
  const staging = await mkdtemp(join(tmpdir(), 'demo-data-'));
  try {
    generateDataset(staging, { count: options.count ?? 30, seed: options.seed ?? 7, prefix: 'demo' });
    writeFileSync(join(staging, 'paths.yaml'), 'data_path: data\nlabels_path: labels\n');
    chmodSync(join(staging, 'paths.yaml'), 0o644);
    const chunks: Buffer[] = [];
    const stream = tar.c({ cwd: staging, portable: true, mtime: new Date(0), noDirRecurse: false }, ['paths.yaml', 'data', 'labels']);
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    writeFileSync(outFile, gzipSync(Buffer.concat(chunks), { level: 9 }));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? packagePath('examples', 'data', 'generated'));
  const owner = generateDataset(join(out, 'data-owner'), { count: 60, seed: 1 });
  mkdirSync(out, { recursive: true });
  await buildDemoTarball(join(out, 'demo_data.tar.gz'));
  console.log(`raw data for a data owner: ${owner.dataPath} and ${owner.labelsPath}`);
  console.log(`demo dataset tarball: ${join(out, 'demo_data.tar.gz')}`);
}
