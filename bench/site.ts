// The leaderboard site against its floor, in one run. The synthetic registry is the one
// bench/validate.ts generates under bench/.cache/validate/ (100,000 results in 1,000 benchmarks);
// when it is missing, an equivalent one is generated under bench/.cache/site/. Measured:
//   floor       read and YAML-parse every record file, in this process
//   site        load every benchmark's records, compute its leaderboard, render and write the site
//   site-paint  first contentful paint in Chromium of the largest benchmark page of that site, and
//               of a benchmark with 10,000 results published per dataset (100 models x 100 datasets)
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jsYaml from 'js-yaml';
import type { Browser } from 'playwright-core';
import { buildSiteFolder } from '../cli/site.ts';
import { computeLeaderboard } from '../registry/leaderboard.ts';
import { leaderboardInput } from '../registry/leaderboard.fixtures.ts';
import { buildSite } from '../registry/site/index.ts';
import { launchChromium, serveFolder, writeSite } from '../registry/site/testing.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const SHARED = join(HERE, '.cache/validate/registry-100k');
const OWN = join(HERE, '.cache/site/registry-100k');
const OUT = join(HERE, '.cache/site/out');

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** 1,000 benchmarks x 10 models x 10 datasets, valid records (the shape of bench/validate.ts's registry). */
function generate(dir: string): void {
  if (existsSync(`${dir}.complete`)) return;
  rmSync(dir, { recursive: true, force: true });
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  const cubeHash = (role: string, id: string) =>
    `    ${role}:\n      id: ${id}\n      config_sha256: ${hex(`c ${id}`)}\n      image: sha256:${hex(`i ${id}`)}\n`;
  const test = (uid: string) => `compatibility_test:\n  metrics:\n    AUC: 0.7\n  dataset_generated_uid: ${uid}\n  medperf_git_version: 0.1.0\n`;
  put('registry.yaml', 'title: Synthetic registry\nadmins:\n  - admin\n');
  for (let b = 0; b < 1000; b++) {
    const committee = `committee-${b % 100}`;
    const [prep, ref, metrics] = ['prep', 'ref', 'metrics'].map((n) => `${committee}/${n}-${b}`) as [string, string, string];
    for (const [id, kind] of [[prep, 'data-preparator'], [ref, 'model'], [metrics, 'metrics']] as const) {
      put(`mlcubes/${id}.yaml`, `name: ${id}\nkind: ${kind}\nmlcube:\n  url: https://example.org/${id}/mlcube.yaml\n  sha256: ${hex(`c ${id}`)}\nimage:\n  digest: sha256:${hex(`i ${id}`)}\nstate: operational\n`);
    }
    put(
      `benchmarks/bench-${b}/benchmark.yaml`,
      `name: Synthetic benchmark ${b}\ncommittee:\n  - ${committee}\ndata_preparation_mlcube: ${prep}\nreference_model: ${ref}\ndata_evaluator_mlcube: ${metrics}\n` +
        `demo_dataset:\n  url: https://example.org/demo.tar.gz\n  sha256: ${hex(`d ${b}`)}\n  generated_uid: ${hex(`u ${b}`)}\n` +
        `results_policy:\n  publish: per-model\n  primary_metric: AUC\n  direction: higher\nstate: operational\n`,
    );
    const models = [ref, ...Array.from({ length: 9 }, (_, i) => `owner-${(b * 7 + i * 131) % 997}/model-${(b * 7 + i * 131) % 7000}`)];
    models.forEach((m, i) => put(`benchmarks/bench-${b}/models/${m}.yaml`, `initiated_by: ${m.split('/')[0]}\n${test(hex(`u ${b}`))}priority: ${i}\n`));
    for (let d = 0; d < 10; d++) {
      const dataset = `hospital-${(b * 10 + d) % 2000}/data-${b}-${d}`;
      const uid = hex(`uid ${dataset}`);
      put(
        `datasets/${dataset}.yaml`,
        `name: data-${b}-${d}\ndata_preparation_mlcube: ${prep}\ninput_data_hash: ${hex(`in ${dataset}`)}\ngenerated_uid: ${uid}\nstate: operational\nsubmitted_as_prepared: false\n`,
      );
      put(`benchmarks/bench-${b}/datasets/${dataset}.yaml`, `initiated_by: ${dataset.split('/')[0]}\n${test(uid)}`);
      for (const m of models) {
        put(
          `benchmarks/bench-${b}/results/${dataset}/${m}.yaml`,
          `benchmark: bench-${b}\nmodel: ${m}\ndataset: ${dataset}\nmetrics:\n  AUC: ${(0.5 + ((b + d) % 50) / 100).toFixed(3)}\n  F1: 0.4\n` +
            `partial: false\nversion: 1\nprovenance:\n  cubes:\n${cubeHash('model', m)}  dataset_generated_uid: ${uid}\n  medperf_git_version: 0.1.0\n  executed_at: "2026-11-02T10:00:00Z"\n`,
        );
      }
    }
  }
  writeFileSync(`${dir}.complete`, '1');
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      if (!rel && e.name === '.git') continue;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk('');
  return out;
}

/** The floor: list, read and YAML-parse every record file, nothing else. */
function floor(dir: string): void {
  let n = 0;
  for (const p of listFiles(dir)) if (p.endsWith('.yaml') && jsYaml.load(readFileSync(join(dir, p), 'utf8'), { schema: jsYaml.CORE_SCHEMA })) n++;
  if (n === 0) throw new Error('floor parsed nothing');
}

async function cpuSeconds(fn: () => unknown): Promise<{ cpu: number; wall: number }> {
  const wall = performance.now();
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return { cpu: (used.user + used.system) / 1e6, wall: (performance.now() - wall) / 1000 };
}

/** First contentful paint of a page, best of three fresh loads. */
async function firstPaint(browser: Browser, url: string): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'load' });
    const fcp = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const found = performance.getEntriesByName('first-contentful-paint')[0];
          if (found) return resolve(found.startTime);
          new PerformanceObserver((list) => resolve(list.getEntries()[0]!.startTime)).observe({ type: 'paint', buffered: true });
        }),
    );
    best = Math.min(best, fcp / 1000);
    await context.close();
  }
  return best;
}

export async function main(): Promise<void> {
  let registry = SHARED;
  if (!existsSync(`${SHARED}.complete`)) {
    registry = OWN;
    const started = Date.now();
    generate(OWN);
    console.log(`# generated ${OWN} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const build = () => buildSiteFolder({ dir: registry, out: OUT, generatedAt: '2026-11-03T00:00:00Z' });
  // Each measured twice, alternating, the better run kept, on CPU time (wall printed too).
  let f = await cpuSeconds(() => floor(registry));
  let s = await cpuSeconds(build);
  const f2 = await cpuSeconds(() => floor(registry));
  const s2 = await cpuSeconds(build);
  if (f2.cpu < f.cpu) f = f2;
  if (s2.cpu < s.cpu) s = s2;
  const built = await build();
  const results = built.boards.reduce((n, b) => n + b.counts.results, 0);
  console.log(
    `# ${results} results in ${built.boards.length} benchmarks, ${built.files.size} files: floor ${f.cpu.toFixed(2)} s CPU (${f.wall.toFixed(2)} s wall), ` +
      `site ${s.cpu.toFixed(2)} s CPU (${s.wall.toFixed(2)} s wall)`,
  );
  console.log(`BENCH site ratio=${(s.cpu / f.cpu).toFixed(2)} target<=2`);

  // The largest benchmark page of that site, and a far larger one: 10,000 results, per dataset.
  const pages = [...built.files.keys()].filter((p) => /^benchmarks\/[^/]+\/index\.html$/.test(p));
  const largest = pages.reduce((a, b) => (statSync(join(OUT, a)).size >= statSync(join(OUT, b)).size ? a : b));
  const bigDir = join(OUT, 'large');
  const scores: Record<string, Record<string, { AUC: number; F1: number }>> = {};
  for (let m = 0; m < 100; m++) {
    const byDataset: Record<string, { AUC: number; F1: number }> = {};
    for (let d = 0; d < 100; d++) byDataset[`hospital-${d}/data-${d}`] = { AUC: ((m * 37 + d * 11) % 100) / 100, F1: ((m + d) % 10) / 10 };
    scores[`owner-${m}/model-${m}`] = byDataset;
  }
  await writeSite(buildSite([computeLeaderboard(leaderboardInput('large', { publish: 'per-dataset' }, scores))], { title: 'Large' }), bigDir);
  const server = await serveFolder(OUT);
  const browser = await launchChromium();
  try {
    const paint = await firstPaint(browser, server.url + largest);
    const bigPage = 'large/benchmarks/large/index.html';
    const bigPaint = await firstPaint(browser, server.url + bigPage);
    console.log(`# largest page of the site: ${largest}, ${(statSync(join(OUT, largest)).size / 1024).toFixed(0)} KiB`);
    console.log(`BENCH site-paint seconds=${paint.toFixed(3)} target<=1`);
    console.log(`# 10,000-result per-dataset page: ${(statSync(join(OUT, bigPage)).size / 1024).toFixed(0)} KiB`);
    console.log(`BENCH site-paint-10k-results seconds=${bigPaint.toFixed(3)} target<=1`);
  } finally {
    await browser.close();
    await server.close();
  }
}
