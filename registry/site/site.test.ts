import { describe, expect, it } from 'vitest';
import { computeLeaderboard } from '../leaderboard.ts';
import { historyOf, leaderboardInput } from '../../testing/leaderboard.ts';
import { signedExample } from '../../testing/records.ts';
import { cspFor, esc } from './html.ts';
import { buildSite } from './index.ts';

// Per-dataset numbers with digits no mean of them shares, so a scan can find any that leaks.
export const privateScores = {
  'alice/cnn': { 'hosp-a/ct': { AUC: 0.8137, Dice: { mean: 0.7143 } }, 'hosp-b/mri': { AUC: 0.9021, Dice: { mean: 0.6917 } } },
  'bob/unet': { 'hosp-a/ct': { AUC: 0.7261, Dice: { mean: 0.7529 } }, 'hosp-b/mri': { AUC: 0.6843, Dice: { mean: 0.7781 } } },
  'carol/vit': { 'hosp-a/ct': { AUC: 0.9512, Dice: { mean: 0.8063 } } },
};

/** Every way a page or JSON file could spell a number. */
export function spellings(n: number): string[] {
  const out = new Set([String(n)]);
  for (let d = 2; d <= 6; d++) out.add(n.toPrecision(d)).add(n.toFixed(d));
  // Drop spellings too short to mean anything on their own ("0.81" could be a mean of anything).
  return [...out].filter((s) => s.replace(/^0\.|\./, '').length >= 3);
}

export function perDatasetNumbers(scores: typeof privateScores): number[] {
  const numbers: number[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'number') numbers.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(scores);
  return numbers;
}

describe('buildSite', () => {
  it('writes an index, a page, a JSON file and a badge per model for each benchmark', () => {
    const board = computeLeaderboard(leaderboardInput('lung', { publish: 'per-dataset' }, privateScores, { cubes: { 'alice/cnn': 'Alice CNN' } }));
    const files = buildSite([board], { title: 'Test registry', recordBase: 'https://github.com/org/registry/blob/main/' });
    expect([...files.keys()].sort()).toEqual([
      'benchmarks/lung/badges/alice/cnn.svg',
      'benchmarks/lung/badges/bob/unet.svg',
      'benchmarks/lung/badges/carol/vit.svg',
      'benchmarks/lung/coverage.csv',
      'benchmarks/lung/history.csv',
      'benchmarks/lung/index.html',
      'benchmarks/lung/leaderboard.csv',
      'benchmarks/lung/leaderboard.json',
      'benchmarks/lung/results.csv',
      'index.csv',
      'index.html',
      'index.json',
    ]);
    const html = files.get('benchmarks/lung/index.html')!;
    // The page's own stylesheet, and only it, is allowed by its hash.
    const style = html.match(/<style>([\s\S]*?)<\/style>/)![1]!;
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${esc(cspFor(style))}">`);
    expect(html).toContain('href="https://github.com/org/registry/blob/main/mlcubes/alice/cnn.yaml">Alice CNN</a>');
    expect(html).toContain('href="https://github.com/org/registry/blob/main/benchmarks/lung/results/hosp-a/ct/alice/cnn.yaml">result</a>');
    expect(html).toContain('<ol class="bars"');
    expect(html).toContain('class="chart matrix"');
    expect(files.get('benchmarks/lung/leaderboard.csv')!.split('\n')[1]).toBe('1,carol/vit,carol/vit,1,0.9512,0.8063,1,1,hosp-a/ct,0.9512,0.9512,0.9512,false,');
    expect(files.get('benchmarks/lung/results.csv')!.split('\n')[0]).toBe('model,dataset,AUC,Dice.mean,partial,executed_at,record');
    expect(files.get('benchmarks/lung/coverage.csv')).toContain('carol/vit,hosp-b/mri,waiting\n');
    expect(files.get('index.csv')!.split('\n')[1]).toBe('lung,lung,per-dataset,AUC,higher,3,2,5,2026-11-01T10:04:00.000Z,carol/vit,0.9512');
    expect(files.get('benchmarks/lung/badges/alice/cnn.svg')).toContain('>AUC 0.86 · rank 2/3<');
    const json = JSON.parse(files.get('benchmarks/lung/leaderboard.json')!);
    expect(json.rows[0].model).toBe('carol/vit');
    expect(json.recordsAt + json.rows[0].links.model).toBe('https://github.com/org/registry/blob/main/mlcubes/carol/vit.yaml');
    expect(JSON.parse(files.get('index.json')!).benchmarks[0]).toMatchObject({ benchmark: 'lung', counts: { models: 3, datasets: 2, results: 5 } });
  });

  it('links each per-dataset number to its record and says who signed it', () => {
    const input = leaderboardInput('lung', {}, privateScores);
    input.results = input.results.map((r, i) => ({ ...r, record: signedExample(r.record, i === 0 ? 'medperf-admin' : r.dataset.split('/')[0]) }));
    input.results[0]!.record = { ...input.results[0]!.record, signature: { ...input.results[0]!.record.signature!, imported: true } };
    const html = buildSite([computeLeaderboard(input)], { title: 'T', recordBase: 'https://github.com/org/registry/blob/main/' }).get('benchmarks/lung/index.html')!;
    const first = input.results[0]!;
    expect(html).toContain(`href="https://github.com/org/registry/blob/main/benchmarks/lung/results/${first.dataset}/${first.model}.yaml">imported, signed by medperf-admin</a>`);
    expect(html).toContain('href="https://github.com/org/registry/blob/main/benchmarks/lung/results/hosp-b/mri/alice/cnn.yaml">signed by hosp-b</a>');
    expect(html).toContain('each number linked to its record, signed by its data owner');
  });

  it('links records relative to the page when given a relative registry root', () => {
    const board = computeLeaderboard(leaderboardInput('lung', {}, privateScores));
    const html = buildSite([board], { title: 'T', recordBase: '../registry/' }).get('benchmarks/lung/index.html')!;
    expect(html).toContain('href="../../../registry/benchmarks/lung/benchmark.yaml"');
  });

  for (const publish of ['aggregate', 'per-model'] as const) {
    it(`under a ${publish} policy no file (page, JSON, CSV, history) holds a per-dataset number or a result link`, () => {
      const input = leaderboardInput('lung', { publish }, privateScores);
      // With a history in which each result merged on its own: a moving mean would leak by difference.
      const board = { ...computeLeaderboard(input), history: historyOf(input) };
      expect(board.history.length).toBeGreaterThan(2);
      const files = buildSite([board], { title: 'Private', recordBase: 'https://github.com/org/registry/blob/main/' });
      const leaks: string[] = [];
      for (const [path, content] of files) {
        for (const n of perDatasetNumbers(privateScores)) {
          for (const s of spellings(n)) if (content.includes(s)) leaks.push(`${path}: ${s}`);
        }
        if (content.includes('/results/')) leaks.push(`${path}: a result record link`);
      }
      expect(leaks).toEqual([]);
      // The aggregate itself is there: alice's mean AUC, in the page and in the CSV beside the JSON.
      expect(files.get('benchmarks/lung/index.html')).toContain('0.858');
      expect(files.get('benchmarks/lung/leaderboard.csv')).toContain('0.8579');
      expect(files.get('benchmarks/lung/index.html')).not.toContain('matrix');
      expect(files.has('benchmarks/lung/results.csv')).toBe(false);
      expect([...files.keys()].filter((p) => p.endsWith('.csv')).sort()).toEqual([
        'benchmarks/lung/coverage.csv',
        'benchmarks/lung/history.csv',
        'benchmarks/lung/leaderboard.csv',
        'index.csv',
      ]);
    });
  }

  it('the privacy scan finds per-dataset numbers where the policy publishes them', () => {
    const files = buildSite([computeLeaderboard(leaderboardInput('lung', { publish: 'per-dataset' }, privateScores))], { title: 'Open' });
    const html = files.get('benchmarks/lung/index.html')!;
    const json = files.get('benchmarks/lung/leaderboard.json')!;
    for (const n of perDatasetNumbers(privateScores)) {
      expect(spellings(n).some((s) => html.includes(s)), String(n)).toBe(true);
      expect(json).toContain(String(n));
    }
  });

  it('escapes record text a spreadsheet would run as a formula in every CSV', () => {
    const input = leaderboardInput('lung', { publish: 'per-dataset' }, { '=cmd/x': { '+hosp/a': { AUC: 0.5 } } }, { cubes: { '=cmd/x': '=HYPERLINK("http://evil")' } });
    const files = buildSite([computeLeaderboard(input)], { title: '@SUM(1)' });
    for (const [path, content] of files) {
      if (!path.endsWith('.csv')) continue;
      for (const line of content.trim().split('\n')) for (const cell of line.split(',')) expect(cell, `${path}: ${line}`).not.toMatch(/^"?[=+@]/);
    }
    expect(files.get('benchmarks/lung/leaderboard.csv')).toContain(`'=HYPERLINK`);
  });

  it('renders hostile record names as text', () => {
    const input = leaderboardInput('lung', {}, privateScores, {
      cubes: { 'alice/cnn': '<script>alert(1)</script>', 'bob/unet': '"><img src=x onerror=alert(2)>' },
      datasets: { 'hosp-a/ct': "'><svg onload=alert(3)>" },
    });
    input.record.name = '</title><script>alert(4)</script>';
    input.record.description = '<iframe src=javascript:alert(5)>';
    const files = buildSite([computeLeaderboard(input)], { title: '<b>reg</b>' });
    for (const [path, content] of files) {
      if (!/\.(html|svg)$/.test(path)) continue;
      expect(content, path).not.toMatch(/<script>alert|<img src=x|<svg onload|<iframe|<b>reg/);
      // The one script a page holds is the sorting script.
      expect(content.match(/<script>/g)?.length ?? 0, path).toBeLessThanOrEqual(1);
    }
    expect(files.get('benchmarks/lung/index.html')).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
