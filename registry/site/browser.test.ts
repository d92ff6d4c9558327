/// <reference lib="dom" />
// The site in a real browser: Debian's Chromium through playwright-core, pages served from loopback.
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeLeaderboard } from '../leaderboard.ts';
import { historyOf, leaderboardInput } from '../../testing/leaderboard.ts';
import { buildSite } from './index.ts';
import { axeViolations, launchChromium, layoutProblems, serveFolder, writeSite } from '../../testing/browser.ts';

const m = (AUC: number, dice: number, F1: number) => ({ AUC, Dice: { mean: dice }, F1 });
const scores = {
  'alice/cnn': { 'hosp-a/ct': m(0.8137, 0.7143, 0.7), 'hosp-b/mri': m(0.9021, 0.6917, 0.8), 'university-hospital-c/xray': m(0.84, 0.7, 0.75) },
  'bob/unet': { 'hosp-a/ct': m(0.7261, 0.7529, 0.65), 'hosp-b/mri': m(0.6843, 0.7781, 0.6), 'university-hospital-c/xray': m(0.71, 0.76, 0.62) },
  'carol/vit': { 'hosp-a/ct': m(0.9512, 0.8063, 0.9), 'hosp-b/mri': m(0.9377, 0.8112, 0.91) },
  'dave/mlp': { 'hosp-a/ct': m(0.5522, 0.6, 0.5), 'hosp-b/mri': m(0.6101, 0.58, 0.55), 'university-hospital-c/xray': m(0.58, 0.59, 0.52) },
};
const LONG = 'carol/vit';
const LONG_NAME = 'Carol ViT-L/16, a vision transformer pretrained on public chest images and fine-tuned per site';
/** Screenshots land here when set (to look at them), else in the test's folder. */
const SHOTS = process.env.MEDPERF_GIT_SCREENSHOTS;
const WIDTHS = [375, 1280];
const PAGES = ['index.html', 'benchmarks/lung/index.html', 'benchmarks/brain/index.html', 'benchmarks/heart/index.html'];

const HOSTILE_SCRIPT = '<script>window.__pwned = 1</script>';
const HOSTILE_IMG = '"><img src=x onerror="window.__pwned = 2">';

let dir: string;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveFolder>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medperf-git-site-'));
  const lung = leaderboardInput('lung', { publish: 'per-dataset' }, scores, {
    cubes: { [LONG]: LONG_NAME, 'alice/cnn': HOSTILE_SCRIPT, 'bob/unet': HOSTILE_IMG },
    datasets: { 'hosp-a/ct': HOSTILE_IMG },
  });
  lung.models!.push('erin/new-model');
  const brain = leaderboardInput('brain', { publish: 'aggregate', primary_metric: 'Dice.mean' }, scores);
  const heart = leaderboardInput('heart', { publish: 'per-model' }, scores);
  const boards = [lung, brain, heart].map((input) => ({ ...computeLeaderboard(input), history: historyOf(input) }));
  const files = buildSite(boards, {
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
async function open(path: string, opts: { javaScript?: boolean; width?: number; withoutPageScript?: boolean } = {}): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ javaScriptEnabled: opts.javaScript ?? true, viewport: { width: opts.width ?? 1200, height: 900 } });
  if (opts.withoutPageScript) {
    await context.route('**/*.html*', async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, body: (await response.text()).replace(/<script>[\s\S]*?<\/script>/g, '') });
    });
  }
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
    for (const path of [...PAGES, 'benchmarks/lung/badges/carol/vit.svg']) {
      const { page, problems } = await open(path);
      expect(problems, path).toEqual([]);
      await page.context().close();
    }
  });

  it('shows the benchmarks on the index and links to their pages', async () => {
    const { page } = await open('index.html');
    expect(await page.locator('#benchmarks tbody tr').count()).toBe(3);
    await page.getByRole('link', { name: 'lung' }).click();
    await page.waitForURL(/benchmarks\/lung\/index\.html$/);
    expect(await page.locator('h1').textContent()).toBe('lung');
    await page.context().close();
  });

  it('reads the ranked table without JavaScript, and sorts it with JavaScript, by mouse and by keyboard', async () => {
    const plain = await open('benchmarks/lung/index.html', { javaScript: false });
    expect(await modelOrder(plain.page)).toEqual(['carol/vit', 'alice/cnn', 'bob/unet', 'dave/mlp', 'erin/new-model']);
    await plain.page.context().close();

    const { page, problems } = await open('benchmarks/lung/index.html');
    const header = page.locator('#ranking thead th', { hasText: 'Model' }).getByRole('button');
    await header.click();
    expect(await modelOrder(page)).toEqual(['alice/cnn', 'bob/unet', 'carol/vit', 'dave/mlp', 'erin/new-model']);
    await header.focus();
    await page.keyboard.press('Enter');
    expect(await modelOrder(page)).toEqual(['erin/new-model', 'dave/mlp', 'carol/vit', 'bob/unet', 'alice/cnn']);
    const auc = page.locator('#ranking thead th', { hasText: /^AUC$/ }).getByRole('button');
    await auc.focus();
    await page.keyboard.press('Space');
    expect(await modelOrder(page)).toEqual(['dave/mlp', 'bob/unet', 'alice/cnn', 'carol/vit', 'erin/new-model']);
    expect(await page.locator('#ranking thead th', { hasText: /^AUC/ }).getAttribute('aria-sort')).toBe('ascending');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows the primary metric, and another one chosen from links that work with and without JavaScript', async () => {
    for (const javaScript of [false, true]) {
      const { page, problems } = await open('benchmarks/lung/index.html', { javaScript });
      const f1 = page.locator('#ranking thead th', { hasText: /^F1$/ });
      const f1Cells = page.locator('#per-dataset thead th', { hasText: /^F1$/ });
      expect(await page.locator('#ranking thead th', { hasText: /^AUC$/ }).isVisible()).toBe(true);
      expect(await f1.isVisible()).toBe(false);
      await page.locator('.choice').getByRole(javaScript ? 'button' : 'link', { name: 'F1', exact: true }).click();
      expect(await f1.isVisible(), `F1 shown (JavaScript ${javaScript})`).toBe(true);
      expect(await f1Cells.isVisible()).toBe(true);
      expect(await page.locator('#ranking tbody tr').first().locator('td.m2').innerText()).toBe('0.905');
      expect(await page.locator('#ranking thead th', { hasText: /^Dice\.mean$/ }).isVisible()).toBe(false);
      expect(new URL(page.url()).hash).toBe('#metric-2');
      if (javaScript) {
        expect(await page.locator('.choice a[aria-pressed=true]').innerText()).toBe('F1');
        // By keyboard: back to the primary metric alone.
        await page.locator('.choice a', { hasText: 'AUC only' }).focus();
        await page.keyboard.press('Enter');
        expect(await f1.isVisible()).toBe(false);
      }
      expect(await layoutProblems(page)).toEqual([]);
      expect(problems).toEqual([]);
      await page.context().close();
    }
    // A shared link opens with its metric shown, without JavaScript too.
    const linked = await open('benchmarks/lung/index.html#metric-1', { javaScript: false });
    expect(await linked.page.locator('#ranking thead th', { hasText: /^Dice\.mean$/ }).isVisible()).toBe(true);
    await linked.page.context().close();
  });

  it('renders the charts: a bar per ranked model, ranges, the matrix with waiting pairs only where the policy allows, the history', async () => {
    const { page } = await open('benchmarks/lung/index.html');
    const bars = page.locator('ol.bars svg.bar rect');
    expect(await bars.count()).toBe(4);
    const widths = await bars.evaluateAll((rects) => rects.map((r) => r.getBoundingClientRect().width));
    // Ranked best first, so the bars shrink.
    expect([...widths].sort((a, b) => b - a)).toEqual(widths);
    expect(widths[3]).toBeGreaterThan(0);
    expect(await page.locator('svg.matrix > rect').count()).toBe(15);
    expect(await page.locator('svg.matrix > rect[fill="url(#waiting)"] title').allTextContents()).toEqual([
      'carol/vit on university-hospital-c/xray: approved, waiting for a run',
      'erin/new-model on hosp-a/ct: approved, waiting for a run',
      'erin/new-model on hosp-b/mri: approved, waiting for a run',
      'erin/new-model on university-hospital-c/xray: approved, waiting for a run',
    ]);
    expect(await page.locator('#coverage-summary').innerText()).toBe('11 of 15 approved model x dataset pairs have a result; 4 wait for a run.');
    expect(await page.locator('#across tbody tr').first().innerText()).toMatch(/^Carol ViT-L\/16.*\s+1\s*2 of 3\s+hosp-b\/mri\s+AUC 0\.938, rank 1\s+0\.938 to 0\.951$/s);
    expect(await page.locator('#across svg.range').count()).toBe(4);
    expect(await page.locator('svg.history path').count()).toBe(4);
    expect(await page.locator('svg.history').getAttribute('aria-label')).toBe('Rank on AUC of the top 4 models at each of 11 merges, from 2026-10-01 to 2026-10-11');
    await page.context().close();

    for (const path of ['benchmarks/brain/index.html', 'benchmarks/heart/index.html']) {
      const { page: other } = await open(path);
      expect(await other.locator('svg.matrix').count()).toBe(0);
      expect(await other.locator('#per-dataset, #across, #waiting').count()).toBe(0);
      expect(await other.locator('ol.bars li').count()).toBe(4);
      expect(await other.locator('#coverage-summary').innerText()).toBe('11 of 12 approved model x dataset pairs have a result; 1 waits for a run.');
      // Counts only: results and ranked models over time.
      expect(await other.locator('svg.history path').count()).toBe(2);
      expect(await other.locator('#coverage').count()).toBe(path.includes('heart') ? 1 : 0);
      await other.context().close();
    }
  });

  it('fits 375 px and 1280 px: no sideways scroll, whole labels, no serious or critical axe-core finding, with and without JavaScript', async () => {
    const shots = SHOTS ?? join(dir, 'screenshots');
    mkdirSync(shots, { recursive: true });
    const found: string[] = [];
    for (const width of WIDTHS) {
      for (const path of PAGES) {
        for (const javaScript of [true, false]) {
          const { page, problems } = await open(path, { width, javaScript });
          // axe-core needs JavaScript: the page without it is checked as served with its script left out.
          const checked = javaScript ? page : (await open(path, { width, withoutPageScript: true })).page;
          for (const p of [...problems, ...(await layoutProblems(page)), ...(await axeViolations(checked))]) found.push(`${path} at ${width} px${javaScript ? '' : ', no JavaScript'}: ${p}`);
          if (checked !== page) await checked.context().close();
          if (javaScript) {
            const png = await page.screenshot({ fullPage: true });
            writeFileSync(join(shots, `${width}-${path.replace(/\/index\.html$|\.html$/, '').replaceAll('/', '-')}.png`), png);
            expect(png.subarray(1, 4).toString()).toBe('PNG');
          }
          await page.context().close();
        }
      }
    }
    expect(found).toEqual([]);
  }, 300_000);

  it('links the downloads, which hold the tables of the page', async () => {
    const { page } = await open('benchmarks/lung/index.html');
    const links = await page.locator('.facts a[href$=".csv"], .facts a[href$=".json"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(links).toEqual(['leaderboard.json', 'leaderboard.csv', 'results.csv', 'coverage.csv', 'history.csv']);
    for (const href of links) {
      const response = await page.request.get(new URL(href!, page.url()).href);
      expect(response.status(), href!).toBe(200);
    }
    const csv = await (await page.request.get(new URL('leaderboard.csv', page.url()).href)).text();
    expect(csv.split('\n')[0]).toBe('rank,model,model_name,datasets,AUC,Dice.mean,F1,mean_rank,datasets_ranked,worst_dataset,worst_value,min,max,partial,withheld');
    expect(csv.split('\n')[1]).toMatch(/^1,carol\/vit,"Carol ViT-L\/16, a vision transformer[^"]*",2,0\.944/);
    await page.context().close();
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
    expect(await first.innerText()).toMatch(/^1\s+Carol ViT-L\/16, a vision transformer.*carol\/vit.*0\.944/s);
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
