/// <reference lib="dom" />
// The site in a real browser: Debian's Chromium through playwright-core, pages served from loopback.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeLeaderboard } from '../leaderboard.ts';
import { leaderboardInput } from '../../testing/leaderboard.ts';
import { buildSite } from './index.ts';
import { launchChromium, serveFolder, writeSite } from '../../testing/browser.ts';

const scores = {
  'alice/cnn': { 'hosp-a/ct': { AUC: 0.8137, Dice: { mean: 0.7143 } }, 'hosp-b/mri': { AUC: 0.9021, Dice: { mean: 0.6917 } } },
  'bob/unet': { 'hosp-a/ct': { AUC: 0.7261, Dice: { mean: 0.7529 } }, 'hosp-b/mri': { AUC: 0.6843, Dice: { mean: 0.7781 } } },
  'carol/vit': { 'hosp-a/ct': { AUC: 0.9512, Dice: { mean: 0.8063 } }, 'hosp-b/mri': { AUC: 0.9377, Dice: { mean: 0.8112 } } },
  'dave/mlp': { 'hosp-a/ct': { AUC: 0.5522, Dice: { mean: 0.6 } }, 'hosp-b/mri': { AUC: 0.6101, Dice: { mean: 0.58 } } },
};

const HOSTILE_SCRIPT = '<script>window.__pwned = 1</script>';
const HOSTILE_IMG = '"><img src=x onerror="window.__pwned = 2">';

let dir: string;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveFolder>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medperf-git-site-'));
  const lung = leaderboardInput('lung', { publish: 'per-dataset' }, scores, {
    cubes: { 'carol/vit': 'Carol ViT-B', 'alice/cnn': HOSTILE_SCRIPT, 'bob/unet': HOSTILE_IMG },
    datasets: { 'hosp-a/ct': HOSTILE_IMG },
  });
  const brain = leaderboardInput('brain', { publish: 'aggregate', primary_metric: 'Dice.mean' }, scores);
  const files = buildSite([computeLeaderboard(lung), computeLeaderboard(brain)], {
    title: 'Federated registry',
    recordBase: 'https://github.com/org/registry/blob/main/',
    generatedAt: '2026-11-02T00:00:00Z',
  });
  await writeSite(files, dir);
  server = await serveFolder(dir);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Opens a page and collects what a user would see go wrong: console errors, page errors, dialogs. */
async function open(path: string, opts: { javaScript?: boolean } = {}): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ javaScriptEnabled: opts.javaScript ?? true, viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  const response = await page.goto(server.url + path, { waitUntil: 'load' });
  expect(response?.status()).toBe(200);
  return { page, problems };
}

async function modelOrder(page: Page): Promise<string[]> {
  return page.locator('#ranking tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-model') ?? ''));
}

describe('the site in Chromium', () => {
  it('loads every page without console errors, and every badge', async () => {
    for (const path of ['index.html', 'benchmarks/lung/index.html', 'benchmarks/brain/index.html', 'benchmarks/lung/badges/carol/vit.svg']) {
      const { page, problems } = await open(path);
      expect(problems, path).toEqual([]);
      await page.context().close();
    }
  });

  it('shows the benchmarks on the index and links to their pages', async () => {
    const { page } = await open('index.html');
    expect(await page.locator('#benchmarks tbody tr').count()).toBe(2);
    await page.getByRole('link', { name: 'lung' }).click();
    await page.waitForURL(/benchmarks\/lung\/index\.html$/);
    expect(await page.locator('h1').textContent()).toBe('lung');
    await page.context().close();
  });

  it('reads the ranked table without JavaScript, and sorts it with JavaScript', async () => {
    const plain = await open('benchmarks/lung/index.html', { javaScript: false });
    expect(await modelOrder(plain.page)).toEqual(['carol/vit', 'alice/cnn', 'bob/unet', 'dave/mlp']);
    await plain.page.context().close();

    const { page, problems } = await open('benchmarks/lung/index.html');
    const header = page.locator('#ranking thead th', { hasText: 'Model' }).getByRole('button');
    await header.click();
    expect(await modelOrder(page)).toEqual(['alice/cnn', 'bob/unet', 'carol/vit', 'dave/mlp']);
    await header.click();
    expect(await modelOrder(page)).toEqual(['dave/mlp', 'carol/vit', 'bob/unet', 'alice/cnn']);
    const auc = page.locator('#ranking thead th', { hasText: /^AUC$/ }).getByRole('button');
    await auc.click();
    expect(await modelOrder(page)).toEqual(['dave/mlp', 'bob/unet', 'alice/cnn', 'carol/vit']);
    expect(await page.locator('#ranking thead th', { hasText: /^AUC/ }).getAttribute('aria-sort')).toBe('ascending');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('renders the charts: a bar per ranked model, and the heatmap only where the policy allows', async () => {
    const { page } = await open('benchmarks/lung/index.html');
    const bars = page.locator('svg.bar-chart rect');
    expect(await bars.count()).toBe(4);
    const widths = await bars.evaluateAll((rects) => rects.map((r) => (r as SVGGraphicsElement).getBBox().width));
    // Ranked best first, so the bars shrink.
    expect([...widths].sort((a, b) => b - a)).toEqual(widths);
    expect(widths[3]).toBeGreaterThan(0);
    expect(await page.locator('svg.heatmap rect').count()).toBe(8);
    expect((await page.locator('svg.heatmap').boundingBox())!.height).toBeGreaterThan(100);
    await page.context().close();

    const aggregate = await open('benchmarks/brain/index.html');
    expect(await aggregate.page.locator('svg.heatmap').count()).toBe(0);
    expect(await aggregate.page.locator('#per-dataset').count()).toBe(0);
    expect(await aggregate.page.locator('svg.bar-chart rect').count()).toBe(4);
    await aggregate.page.context().close();
  });

  it('shows the leader in a screenshot of the benchmark page', async () => {
    const { page } = await open('benchmarks/lung/index.html');
    const png = await page.screenshot({ fullPage: false });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    // Decode the screenshot in a blank page and count its colours: a blank page has one.
    const blank = await page.context().newPage();
    const colours = await blank.evaluate(async (data) => {
      const img = new Image();
      img.src = `data:image/png;base64,${data}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const pixels = ctx.getImageData(0, 0, img.width, img.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < pixels.length; i += 4 * 7) seen.add((pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!);
      return { size: [img.width, img.height], distinct: seen.size };
    }, png.toString('base64'));
    expect(colours.size).toEqual([1200, 900]);
    expect(colours.distinct).toBeGreaterThan(20);
    // The leader's row is on screen, first in the table, with its name and score.
    const first = page.locator('#ranking tbody tr').first();
    const box = (await first.boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(900);
    expect(await first.innerText()).toMatch(/^1\s+Carol ViT-B carol\/vit\s+0\.944/);
    await page.context().close();
  });

  it('renders hostile record names as inert text', async () => {
    const { page, problems } = await open('benchmarks/lung/index.html');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);
    const text = await page.locator('#ranking').innerText();
    expect(text).toContain(HOSTILE_SCRIPT);
    expect(text).toContain(HOSTILE_IMG);
    expect(await page.locator('.datasets').innerText()).toContain(HOSTILE_IMG);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
