// The leaderboard site, rendered from leaderboards into a map of files (path -> content). It
// touches no disk: the CLI and the Action write the map where they need it. Everything it renders
// comes from computeLeaderboard, which holds only what each benchmark's results policy publishes.
import { formatMetric, type Leaderboard, type LeaderboardRow } from '../leaderboard.ts';
import { publication } from '../publication.ts';
import { badge, barChart, CHART_STYLE, historyChart, matrix, MATRIX_STYLE, rangeSvg } from './charts.ts';
import { coverageCsv, historyCsv, indexCsv, rankingCsv, resultsCsv } from './csv.ts';
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

const POLICY_WORDS: Partial<Record<Leaderboard['publish'], string>> & { aggregate: string } = {
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

function num(value: number | null | undefined, cls = ''): string {
  const c = `num${cls ? ` ${cls}` : ''}`;
  return value === null || value === undefined
    ? `<td class="${c}" data-value=""></td>`
    : `<td class="${c}" data-value="${esc(String(value))}">${esc(formatMetric(value))}</td>`;
}

/** The metric a page's tables show beside the primary one: index k of metricNames, 0 for none. */
function metricClass(k: number): string {
  return `mcol m${k}`;
}

function metricHeads(others: string[]): string {
  return others.map((m, i) => `<th scope="col" class="num ${metricClass(i + 1)}" data-type="number">${esc(m)}</th>`).join('');
}

/**
 * The control choosing which other metric the tables show: plain links to targets on the page,
 * which the page's style answers without a script (:target), and the script turns into toggles.
 */
function metricChoice(board: Leaderboard): string {
  const others = board.metricNames.filter((m) => m !== board.primaryMetric);
  if (others.length === 0) return '';
  const links = [`<a href="#ranking" data-metric="0">${esc(board.primaryMetric)} only</a>`, ...others.map((m, i) => `<a href="#metric-${i + 1}" data-metric="${i + 1}">${esc(m)}</a>`)];
  return `<nav class="choice" aria-label="Metric shown beside ${esc(board.primaryMetric)}"><span class="muted">Also show:</span> ${links.join(' ')}</nav>
${others.map((_, i) => `<span class="target" id="metric-${i + 1}"></span>`).join('')}`;
}

/** The rules that show the chosen metric's columns: by :target without a script, by body[data-metric] with it. */
function metricStyle(board: Leaderboard): string {
  const others = board.metricNames.filter((m) => m !== board.primaryMetric);
  const rules: string[] = [];
  others.forEach((_, i) => {
    const k = i + 1;
    rules.push(
      `body:not([data-metric]):has(#metric-${k}:target) .m${k},body[data-metric="${k}"] .m${k}{display:table-cell}`,
      `body:not([data-metric]):has(#metric-${k}:target) .choice a[href="#metric-${k}"]{font-weight:bold;color:var(--fg);text-decoration:none}`,
    );
  });
  return rules.join('\n');
}

function modelCell(row: LeaderboardRow, link: ReturnType<typeof recordLink>): string {
  const named = row.modelName !== row.model;
  const note = [row.withheld, row.partial && row.withheld === undefined ? 'partial results included' : undefined].filter(Boolean).join('; ');
  return (
    `<td data-value="${esc(row.model)}">${link(row.links.model, named ? row.modelName : row.model)}` +
    (named ? `<span class="sub">${esc(row.model)}</span>` : '') +
    (note ? `<span class="sub note">${esc(note)}</span>` : '') +
    `<span class="sub">${link(row.links.association, 'association')} · <a href="badges/${esc(row.model)}.svg">badge</a></span></td>`
  );
}

function rankingTable(board: Leaderboard, link: ReturnType<typeof recordLink>): string {
  const others = board.metricNames.filter((m) => m !== board.primaryMetric);
  const counted = publication(board.publish).datasetCounts;
  const head =
    '<tr><th scope="col" class="num" data-type="number">Rank</th><th scope="col">Model</th>' +
    `<th scope="col" class="num" data-type="number">${esc(board.primaryMetric)}</th>` +
    metricHeads(others) +
    (counted ? '<th scope="col" class="num" data-type="number">Datasets</th>' : '') +
    '</tr>';
  const body = board.rows
    .map(
      (row) =>
        `<tr data-model="${esc(row.model)}">${num(row.rank)}${modelCell(row, link)}${num(row.primary)}` +
        others.map((m, i) => num(row.metrics[m], metricClass(i + 1))).join('') +
        (counted ? num(row.datasetCount) : '') +
        '</tr>',
    )
    .join('\n');
  return `<table class="sortable ranking" id="ranking">
<caption>Ranked on ${esc(board.primaryMetric)} (${esc(board.direction)} is better), the mean over each model's datasets. Sort by a column heading.</caption>
<thead>${head}</thead>
<tbody>
${body}
</tbody>
</table>`;
}

/** Under per-dataset: each model's mean rank over datasets, its worst dataset and its spread. */
function acrossTable(board: Leaderboard): string {
  const rows = board.rows.filter((r) => r.across);
  if (!board.cells || rows.length === 0) return '';
  const datasetNames = new Map(board.datasets.map((d) => [d.id, d.name]));
  const lo = Math.min(...rows.map((r) => r.across!.min));
  const hi = Math.max(...rows.map((r) => r.across!.max));
  const total = board.datasets.length;
  const body = rows
    .map((r) => {
      const a = r.across!;
      const worstName = datasetNames.get(a.worst.dataset) ?? a.worst.dataset;
      return (
        `<tr><td data-value="${esc(r.model)}">${esc(r.modelName)}</td>` +
        `<td class="num" data-value="${a.meanRank}">${esc(formatMetric(a.meanRank))}<span class="sub">${a.datasets} of ${total}</span></td>` +
        `<td data-value="${esc(a.worst.value)}">${esc(worstName)}<span class="sub">${esc(board.primaryMetric)} ${esc(formatMetric(a.worst.value))}, rank ${a.worst.rank}</span></td>` +
        `<td data-value="${esc(a.max - a.min)}">${rangeSvg(a.min, a.max, r.primary ?? a.min, { lo, hi })}<span class="sub">${esc(formatMetric(a.min))} to ${esc(formatMetric(a.max))}</span></td></tr>`
      );
    })
    .join('\n');
  return `<table class="sortable across" id="across">
<caption>Each model ranked on every dataset it has a result on: its mean rank, its worst dataset on ${esc(board.primaryMetric)}, and its spread from lowest to highest (the dot marks its mean). Under each mean rank: how many of the ${total} associated ${plural(total, 'dataset')} these numbers cover.</caption>
<colgroup><col><col class="w-rank"><col><col class="w-spread"></colgroup>
<thead><tr><th scope="col">Model</th><th scope="col" class="num" data-type="number">Mean rank</th><th scope="col" data-type="number">Worst dataset</th><th scope="col" data-type="number">Spread</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}

/** The link text of a result: its record, and who signed it. */
function signedText(cell: { signedBy?: string; imported?: boolean }): string {
  if (!cell.signedBy) return 'result';
  return cell.imported ? `imported, signed by ${cell.signedBy}` : `signed by ${cell.signedBy}`;
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
        others.map((m, i) => num(c.metrics[m], metricClass(i + 1))).join('') +
        `<td data-value="${esc(c.executedAt)}"><time datetime="${esc(c.executedAt)}">${esc(c.executedAt.slice(0, 10))}</time><span class="sub">${link(c.link, signedText(c))}${c.partial ? ' · partial' : ''}</span></td></tr>`,
    )
    .join('\n');
  return `<table class="sortable per-dataset" id="per-dataset">
<caption>Every model on every dataset, each number linked to its record, signed by its data owner. Sort by a column heading.</caption>
<thead><tr><th scope="col">Model</th><th scope="col">Dataset</th><th scope="col" class="num" data-type="number">${esc(board.primaryMetric)}</th>${metricHeads(others)}<th scope="col">Executed</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}

function coverageSection(board: Leaderboard): string {
  const c = board.coverage;
  const summary = `<p id="coverage-summary"><strong>${c.withResults}</strong> of ${c.pairs} approved model x dataset ${plural(c.pairs, 'pair')} ${c.withResults === 1 ? 'has' : 'have'} a result; <strong>${c.waiting}</strong> ${c.waiting === 1 ? 'waits' : 'wait'} for a run.</p>`;
  if (c.waitingPairs) {
    const byDataset = new Map<string, string[]>();
    for (const p of c.waitingPairs) {
      let list = byDataset.get(p.dataset);
      if (!list) byDataset.set(p.dataset, (list = []));
      list.push(p.model);
    }
    const datasetNames = new Map(board.datasets.map((d) => [d.id, d.name]));
    const list = byDataset.size
      ? `<details id="waiting"><summary>Who has not run yet (${c.waiting})</summary><ul>${[...byDataset]
          .map(([d, models]) => `<li>${esc(datasetNames.get(d) ?? d)}: ${models.map((m) => esc(m)).join(', ')}</li>`)
          .join('')}</ul></details>`
      : '';
    return `${summary}\n${matrix(board)}\n${list}`;
  }
  if (c.models) {
    const rows = c.models.map((m) => `<tr><td data-value="${esc(m.model)}">${esc(m.model)}</td>${num(m.datasets)}${num(m.waiting)}</tr>`).join('\n');
    return `${summary}
<table class="sortable coverage" id="coverage">
<caption>Per model: the approved datasets it has results on, and those waiting for its run.</caption>
<thead><tr><th scope="col">Model</th><th scope="col" class="num" data-type="number">With results</th><th scope="col" class="num" data-type="number">Waiting</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
  }
  return summary;
}

function historySection(board: Leaderboard): string {
  const points = board.history;
  if (points.length === 0) return '<p class="muted" id="no-history">No history: the site was built from a folder without the registry\'s Git history.</p>';
  const rankings = points.some((p) => p.rows);
  const lines = [...points].reverse().map((p) => {
    const leader = p.rows?.[0];
    return (
      `<tr><td data-value="${esc(p.at)}">${when(p.at)}</td>${num(p.counts.results)}${num(p.ranked)}` +
      (rankings ? `<td>${leader ? `${esc(leader.model)} (${esc(formatMetric(leader.primary))})` : ''}${p.results?.length ? `<span class="sub">${p.results.map((r) => esc(`${r.model} on ${r.dataset}, version ${r.version}`)).join('; ')}</span>` : ''}</td>` : '') +
      '</tr>'
    );
  });
  const note = rankings
    ? ''
    : `<p class="muted">Under this benchmark's policy the history shows counts only: a mean that moves when one dataset's result arrives would give that dataset's number away.</p>`;
  return `${historyChart(board)}
${note}
<details id="history-table"><summary>Every merge (${points.length})</summary>
<table class="sortable history">
<caption>The leaderboard after each merge on main, newest first.</caption>
<thead><tr><th scope="col" data-type="text">Merged</th><th scope="col" class="num" data-type="number">Results</th><th scope="col" class="num" data-type="number">Ranked</th>${rankings ? '<th scope="col">Leader; results added</th>' : ''}</tr></thead>
<tbody>
${lines.join('\n')}
</tbody>
</table>
</details>`;
}

function benchmarkPage(board: Leaderboard, options: SiteOptions): string {
  const link = recordLink(options, 2);
  const ranked = board.rows.filter((r) => r.rank !== null).length;
  const publishes = publication(board.publish);
  const downloads = [
    '<a href="leaderboard.json">JSON</a>',
    '<a href="leaderboard.csv">ranking CSV</a>',
    ...(board.cells ? ['<a href="results.csv">results CSV</a>'] : []),
    '<a href="coverage.csv">coverage CSV</a>',
    '<a href="history.csv">history CSV</a>',
  ];
  const body = `<nav aria-label="Site"><a href="../../index.html">${esc(options.title)}</a></nav>
<main>
<h1>${esc(board.name)}</h1>
${board.description ? `<p>${esc(board.description)}</p>` : ''}
<ul class="facts">
<li>Benchmark <strong>${esc(board.benchmark)}</strong> (${link(board.links.benchmark, 'record')})</li>
<li><strong id="count-models">${board.counts.models}</strong> ${plural(board.counts.models, 'model')}, ${ranked} ranked</li>
<li><strong id="count-datasets">${board.counts.datasets}</strong> ${plural(board.counts.datasets, 'dataset')}</li>
<li><strong>${board.counts.results}</strong> ${plural(board.counts.results, 'result')}</li>
<li>Last update: ${when(board.lastUpdate)}</li>
<li>Publishes: ${esc(POLICY_WORDS[board.publish] ?? POLICY_WORDS.aggregate)}</li>
${board.docsUrl ? `<li><a href="${esc(board.docsUrl)}" rel="noopener noreferrer">Documentation</a></li>` : ''}
<li>Download: ${downloads.join(' · ')}</li>
</ul>
<h2 id="leaderboard">Leaderboard</h2>
${ranked === 0 && board.rows.length ? `<p id="none-ranked">No model is ranked yet${publishes.perDataset ? '' : `: under this benchmark's policy a model's numbers are published once it has results on ${publishes.minDatasetsForMean} datasets`}.</p>` : ''}
${metricChoice(board)}
<div class="grid">
${rankingTable(board, link)}
${barChart(board)}
</div>
${board.cells ? `<h2 id="across-datasets">Across datasets</h2>\n${acrossTable(board)}` : ''}
<h2 id="coverage-heading">Coverage</h2>
${coverageSection(board)}
${board.cells ? `<h2 id="per-dataset-heading">Per dataset</h2>\n${perDatasetTable(board, link)}` : ''}
<h2 id="history">History</h2>
${historySection(board)}
<h2>Datasets</h2>
${
  board.datasets.length
    ? `<ul class="datasets">${board.datasets.map((d) => `<li>${link(d.link, d.name)}${d.name !== d.id ? ` <span class="muted">${esc(d.id)}</span>` : ''}</li>`).join('')}</ul>`
    : '<p class="muted">No dataset is associated yet.</p>'
}
</main>
<footer>Built by medperf-git${options.generatedAt ? ` on ${when(options.generatedAt)}` : ''} from the records of the registry.</footer>`;
  return page({ title: `${board.name} — ${options.title}`, body, script: true, style: CHART_STYLE + MATRIX_STYLE + metricStyle(board) });
}

function indexPage(boards: Leaderboard[], options: SiteOptions): string {
  const rows = boards
    .map((b) => {
      const leader = b.rows.find((r) => r.rank === 1);
      return (
        `<tr><td data-value="${esc(b.benchmark)}"><a href="${esc(benchmarkDir(b.benchmark))}/index.html">${esc(b.name)}</a>` +
        `<span class="sub">${b.counts.datasets} ${plural(b.counts.datasets, 'dataset')} · publishes ${esc(b.publish)}</span><span class="sub">updated ${when(b.lastUpdate)}</span></td>` +
        `<td data-value="${esc(leader?.modelName ?? '')}">${leader ? `${esc(leader.modelName)}<span class="sub">${esc(b.primaryMetric)} ${esc(formatMetric(leader.primary!))}</span>` : ''}</td>` +
        `${num(b.counts.models)}${num(b.counts.results)}</tr>`
      );
    })
    .join('\n');
  const body = `<main>
<h1>${esc(options.title)}</h1>
${options.description ? `<p>${esc(options.description)}</p>` : ''}
<table class="sortable benchmarks" id="benchmarks">
<caption>${boards.length} ${plural(boards.length, 'benchmark')}. Sort by a column heading.</caption>
<colgroup><col class="w-name"><col class="w-name"><col class="w-num"><col class="w-num"></colgroup>
<thead><tr><th scope="col">Benchmark</th><th scope="col">Leader</th><th scope="col" class="num" data-type="number">Models</th><th scope="col" class="num" data-type="number">Results</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p>Download: <a href="index.json">JSON</a> · <a href="index.csv">CSV</a></p>
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
  files.set('index.csv', indexCsv(sorted));
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
    files.set(`${dir}/leaderboard.csv`, rankingCsv(board));
    const results = resultsCsv(board);
    if (results !== undefined) files.set(`${dir}/results.csv`, results);
    files.set(`${dir}/coverage.csv`, coverageCsv(board));
    files.set(`${dir}/history.csv`, historyCsv(board));
    for (const row of board.rows) files.set(badgePath(board.benchmark, row.model), badge(board, row.model));
  }
  return files;
}
