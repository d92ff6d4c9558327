// The leaderboard site, rendered from leaderboards into a map of files (path -> content). It
// touches no disk: the CLI and the Action write the map where they need it. Everything it renders
// comes from computeLeaderboard, which holds only what each benchmark's results policy publishes.
import { formatMetric, MIN_DATASETS_FOR_MEAN, type Leaderboard, type LeaderboardRow } from '../leaderboard.ts';
import { badge, barChart, heatmap } from './charts.ts';
import { esc, page } from './html.ts';

export interface SiteOptions {
  /** The registry's title (registry.yaml). */
  title: string;
  description?: string;
  /**
   * Where links to records point: a URL prefix such as "https://github.com/org/registry/blob/main/",
   * or a path from the site's root to the registry's root ("../registry/"). Default: the site root.
   */
  recordBase?: string;
  /** When the site was built (ISO 8601); shown in the footer and the JSON. */
  generatedAt?: string;
}

export type SiteFiles = Map<string, string>;

const POLICY_WORDS: Record<Leaderboard['publish'], string> = {
  aggregate: 'one number per model over all its datasets; no per-dataset numbers',
  'per-model': 'one number per model and its count of datasets; no per-dataset numbers',
  'per-dataset': 'every model on every dataset',
};

export function benchmarkDir(benchmark: string): string {
  return `benchmarks/${benchmark}`;
}

export function badgePath(benchmark: string, model: string): string {
  return `${benchmarkDir(benchmark)}/badges/${model}.svg`;
}

function recordLink(options: SiteOptions, depth: number) {
  const base = options.recordBase ?? '';
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(base);
  const prefix = absolute ? base : '../'.repeat(depth) + base;
  return (path: string, text: string) => `<a href="${esc(prefix + path)}">${esc(text)}</a>`;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

function when(iso: string | null): string {
  if (!iso) return '<span class="muted">no results yet</span>';
  const d = new Date(iso);
  const shown = Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<time datetime="${esc(iso)}">${esc(shown)}</time>`;
}

function num(value: number | null | undefined): string {
  return value === null || value === undefined
    ? '<td class="num" data-value=""></td>'
    : `<td class="num" data-value="${esc(String(value))}">${esc(formatMetric(value))}</td>`;
}

function modelCell(row: LeaderboardRow, link: ReturnType<typeof recordLink>): string {
  const named = row.modelName !== row.model;
  return `<td data-value="${esc(row.model)}">${link(row.links.model, named ? row.modelName : row.model)}${
    named ? ` <span class="muted">${esc(row.model)}</span>` : ''
  }</td>`;
}

function rankingTable(board: Leaderboard, link: ReturnType<typeof recordLink>): string {
  const others = board.metricNames.filter((m) => m !== board.primaryMetric);
  const counted = board.publish !== 'aggregate';
  const head =
    '<tr><th scope="col" class="num" data-type="number">Rank</th><th scope="col">Model</th>' +
    `<th scope="col" class="num" data-type="number">${esc(board.primaryMetric)}</th>` +
    (counted ? '<th scope="col" class="num" data-type="number">Datasets</th>' : '') +
    others.map((m) => `<th scope="col" class="num" data-type="number">${esc(m)}</th>`).join('') +
    '<th scope="col">Note</th><th scope="col">Records</th></tr>';
  const body = board.rows
    .map((row) => {
      const note = [row.withheld, row.partial && row.withheld === undefined ? 'partial results included' : undefined]
        .filter(Boolean)
        .join('; ');
      return (
        `<tr data-model="${esc(row.model)}">${num(row.rank)}${modelCell(row, link)}${num(row.primary)}` +
        (counted ? num(row.datasetCount) : '') +
        others.map((m) => num(row.metrics[m])).join('') +
        `<td>${esc(note)}</td><td>${link(row.links.association, 'association')} · <a href="badges/${esc(row.model)}.svg">badge</a></td></tr>`
      );
    })
    .join('\n');
  return `<table class="sortable ranking" id="ranking">
<caption>Ranked on ${esc(board.primaryMetric)} (${esc(board.direction)} is better), the mean over each model's datasets. Select a column heading to sort.</caption>
<thead>${head}</thead>
<tbody>
${body}
</tbody>
</table>`;
}

function perDatasetTable(board: Leaderboard, link: ReturnType<typeof recordLink>): string {
  if (!board.cells) return '';
  const others = board.metricNames.filter((m) => m !== board.primaryMetric);
  const names = new Map(board.rows.map((r) => [r.model, r.modelName]));
  const datasetNames = new Map(board.datasets.map((d) => [d.id, d.name]));
  const body = board.cells
    .map(
      (c) =>
        `<tr><td data-value="${esc(c.model)}">${esc(names.get(c.model) ?? c.model)}</td><td data-value="${esc(c.dataset)}">${esc(datasetNames.get(c.dataset) ?? c.dataset)}</td>${num(c.primary)}` +
        others.map((m) => num(c.metrics[m])).join('') +
        `<td>${c.partial ? 'partial' : ''}</td><td>${when(c.executedAt)}</td><td>${link(c.link, 'result')}</td></tr>`,
    )
    .join('\n');
  return `<table class="sortable per-dataset" id="per-dataset">
<caption>Every model on every dataset.</caption>
<thead><tr><th scope="col">Model</th><th scope="col">Dataset</th><th scope="col" class="num" data-type="number">${esc(board.primaryMetric)}</th>${others
    .map((m) => `<th scope="col" class="num" data-type="number">${esc(m)}</th>`)
    .join('')}<th scope="col">Partial</th><th scope="col">Executed</th><th scope="col">Record</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}

function benchmarkPage(board: Leaderboard, options: SiteOptions): string {
  const link = recordLink(options, 2);
  const ranked = board.rows.filter((r) => r.rank !== null).length;
  const body = `<nav><a href="../../index.html">${esc(options.title)}</a></nav>
<main>
<h1>${esc(board.name)}</h1>
${board.description ? `<p>${esc(board.description)}</p>` : ''}
<ul class="facts">
<li>Benchmark <strong>${esc(board.benchmark)}</strong> (${link(board.links.benchmark, 'record')})</li>
<li><strong id="count-models">${board.counts.models}</strong> ${plural(board.counts.models, 'model')}, ${ranked} ranked</li>
<li><strong id="count-datasets">${board.counts.datasets}</strong> ${plural(board.counts.datasets, 'dataset')}</li>
<li><strong>${board.counts.results}</strong> ${plural(board.counts.results, 'result')}</li>
<li>Last update: ${when(board.lastUpdate)}</li>
<li>Publishes: ${esc(POLICY_WORDS[board.publish])}</li>
${board.docsUrl ? `<li><a href="${esc(board.docsUrl)}" rel="noopener noreferrer">Documentation</a></li>` : ''}
<li><a href="leaderboard.json">JSON</a></li>
</ul>
<h2>Leaderboard</h2>
${ranked === 0 && board.rows.length ? `<p id="none-ranked">No model is ranked yet${board.publish === 'per-dataset' ? '' : `: under this benchmark's policy a model's numbers are published once it has results on ${MIN_DATASETS_FOR_MEAN} datasets`}.</p>` : ''}
${rankingTable(board, link)}
${barChart(board)}
${board.cells ? `<h2>Per dataset</h2>\n${heatmap(board)}\n${perDatasetTable(board, link)}` : ''}
<h2>Datasets</h2>
${
  board.datasets.length
    ? `<ul class="datasets">${board.datasets.map((d) => `<li>${link(d.link, d.name)}${d.name !== d.id ? ` <span class="muted">${esc(d.id)}</span>` : ''}</li>`).join('')}</ul>`
    : '<p class="muted">No dataset is associated yet.</p>'
}
</main>
<footer>Built by medperf-git${options.generatedAt ? ` on ${when(options.generatedAt)}` : ''} from the records of the registry.</footer>`;
  return page({ title: `${board.name} — ${options.title}`, body, script: true });
}

function indexPage(boards: Leaderboard[], options: SiteOptions): string {
  const rows = boards
    .map((b) => {
      const leader = b.rows.find((r) => r.rank === 1);
      return (
        `<tr><td data-value="${esc(b.benchmark)}"><a href="${esc(benchmarkDir(b.benchmark))}/index.html">${esc(b.name)}</a></td>` +
        `${num(b.counts.models)}${num(b.counts.datasets)}${num(b.counts.results)}` +
        `<td>${leader ? `${esc(leader.modelName)} (${esc(b.primaryMetric)} ${esc(formatMetric(leader.primary!))})` : ''}</td>` +
        `<td>${esc(b.publish)}</td><td data-value="${esc(b.lastUpdate ?? '')}">${when(b.lastUpdate)}</td></tr>`
      );
    })
    .join('\n');
  const body = `<main>
<h1>${esc(options.title)}</h1>
${options.description ? `<p>${esc(options.description)}</p>` : ''}
<table class="sortable benchmarks" id="benchmarks">
<caption>${boards.length} ${plural(boards.length, 'benchmark')}. Select a column heading to sort.</caption>
<thead><tr><th scope="col">Benchmark</th><th scope="col" class="num" data-type="number">Models</th><th scope="col" class="num" data-type="number">Datasets</th><th scope="col" class="num" data-type="number">Results</th><th scope="col">Leader</th><th scope="col">Publishes</th><th scope="col">Last update</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p><a href="index.json">JSON</a></p>
</main>
<footer>Built by medperf-git${options.generatedAt ? ` on ${when(options.generatedAt)}` : ''}.</footer>`;
  return page({ title: options.title, body, script: true });
}

/** Every file of the site, by path. */
export function buildSite(boards: Leaderboard[], options: SiteOptions): SiteFiles {
  const files: SiteFiles = new Map();
  // Record links in the JSON are registry paths; where they resolve, when the site knows a URL for them.
  const recordsAt = options.recordBase && /^https?:\/\//.test(options.recordBase) ? options.recordBase : null;
  const sorted = [...boards].sort((a, b) => (a.benchmark < b.benchmark ? -1 : a.benchmark > b.benchmark ? 1 : 0));
  files.set('index.html', indexPage(sorted, options));
  files.set(
    'index.json',
    JSON.stringify(
      {
        title: options.title,
        generatedAt: options.generatedAt ?? null,
        benchmarks: sorted.map((b) => ({
          benchmark: b.benchmark,
          name: b.name,
          publish: b.publish,
          primaryMetric: b.primaryMetric,
          direction: b.direction,
          counts: b.counts,
          lastUpdate: b.lastUpdate,
          leaderboard: `${benchmarkDir(b.benchmark)}/leaderboard.json`,
        })),
      },
      null,
      2,
    ) + '\n',
  );
  for (const board of sorted) {
    const dir = benchmarkDir(board.benchmark);
    files.set(`${dir}/index.html`, benchmarkPage(board, options));
    files.set(`${dir}/leaderboard.json`, JSON.stringify({ ...board, recordsAt, generatedAt: options.generatedAt ?? null }, null, 2) + '\n');
    for (const row of board.rows) files.set(badgePath(board.benchmark, row.model), badge(board, row.model));
  }
  return files;
}
