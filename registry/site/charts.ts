// Charts drawn at build time, so they need no script and no network: bars and ranges are small
// SVGs inside HTML (labels are HTML text that wraps, so none is ever cut), the matrix and the
// history are SVGs that scale to the screen with every label measured whole. Colours come from
// colour-blind-safe palettes (Okabe-Ito for series, viridis for values), and nothing is told by
// colour alone: every chart has a text alternative, and series are labelled where they end.
import { formatMetric, type HistoryPoint, type Leaderboard } from '../leaderboard.ts';
import { esc } from './html.ts';

/** Bars beyond this many models would not be read; the table holds them all. */
export const MAX_BARS = 100;
/** Matrix rows and columns drawn at most. */
export const MAX_MATRIX = 120;
/** Models drawn in the history chart: the current top ones. */
export const MAX_HISTORY_SERIES = 8;

/** Okabe and Ito's palette, safe for every common colour-vision deficiency (black left out). */
export const SERIES_COLOURS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#999999'];
/** Each series is also named by a letter at its end, so colour is never the only key. */
const SERIES_LETTERS = 'ABCDEFGH';

/** Viridis, light (worse) to dark (better) reversed to dark-is-better, sampled at nine stops. */
const VIRIDIS = ['#fde725', '#b5de2b', '#6ece58', '#35b779', '#1f9e89', '#26828e', '#31688e', '#3e4989', '#482878'];

/** A generous estimate of a label's width at 12 px, so no label is ever cut. */
function textWidth(text: string, px = 7.4): number {
  return Math.ceil([...text].length * px);
}

function shade(t: number): string {
  const x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  const mix = (k: number) => Math.round(parseInt(a.slice(k, k + 2), 16) * (1 - f) + parseInt(b.slice(k, k + 2), 16) * f);
  return `#${[1, 3, 5].map((k) => mix(k).toString(16).padStart(2, '0')).join('')}`;
}

/** A ranked bar chart of the primary metric: an ordered list, each bar a small scaled SVG. */
export function barChart(board: Leaderboard): string {
  const ranked = board.rows.filter((r) => r.rank !== null && r.primary !== null).slice(0, MAX_BARS);
  if (ranked.length === 0) return '';
  const values = ranked.map((r) => r.primary!);
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  const span = hi - lo || 1;
  const items = ranked
    .map((r) => {
      const v = r.primary!;
      const x = ((Math.min(v, 0) - lo) / span) * 100;
      const w = Math.max(0.5, (Math.abs(v) / span) * 100);
      return (
        `<li><span class="bar-label">${r.rank}. ${esc(r.modelName)}</span>` +
        `<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true"><rect x="${x.toFixed(2)}" y="1" width="${w.toFixed(2)}" height="8"></rect></svg>` +
        `<span class="bar-value">${esc(formatMetric(v))}</span></li>`
      );
    })
    .join('');
  const more = board.rows.filter((r) => r.rank !== null).length - ranked.length;
  return (
    `<figure class="bars-figure"><ol class="bars" aria-label="${esc(`${board.primaryMetric} by model, ${board.direction} is better`)}">${items}</ol>` +
    `<figcaption class="muted">${esc(board.primaryMetric)} by model (${board.direction} is better)${more > 0 ? `; the top ${ranked.length} of ${ranked.length + more} shown, the table lists all` : ''}</figcaption></figure>`
  );
}

export const CHART_STYLE = `
.bars{list-style:none;padding:0;margin:0;display:grid;grid-template-columns:minmax(5rem,max-content) minmax(4rem,1fr) auto;gap:.2rem .6rem;align-items:center}
.bars li{display:contents}
.bar-label{overflow-wrap:anywhere}
.bar{width:100%;height:.9rem;display:block}
.bar rect{fill:var(--bar)}
.bar-value{font-variant-numeric:tabular-nums;text-align:right}
.range rect.track{fill:var(--track)}
.range rect.span{fill:var(--range)}
.range circle{fill:var(--fg)}
.series{list-style:none;padding:0;margin:.25rem 0;display:flex;flex-wrap:wrap;gap:.1rem 1.25rem;overflow-wrap:anywhere}
${SERIES_COLOURS.map((c, k) => `.swatch[data-series="${k}"]{background:${c}}`).join('\n')}
.legend{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;font-size:.9em;color:var(--muted)}
.swatch{display:inline-block;width:.9rem;height:.9rem;vertical-align:middle;border:1px solid var(--line)}
`;

/**
 * A model's spread across datasets, min to max, on a common scale: a track over the whole scale,
 * the span drawn over it and a dot at the mean of the model's datasets.
 */
export function rangeSvg(min: number, max: number, mean: number, scale: { lo: number; hi: number }): string {
  const span = scale.hi - scale.lo || 1;
  const at = (v: number) => ((v - scale.lo) / span) * 96 + 2;
  const x = at(min);
  const w = Math.max(0.8, at(max) - x);
  return (
    `<svg class="range" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="${esc(`from ${formatMetric(min)} to ${formatMetric(max)}`)}">` +
    `<rect class="track" x="2" y="4.25" width="96" height="1.5"></rect><rect class="span" x="${x.toFixed(2)}" y="2" width="${w.toFixed(2)}" height="6"></rect>` +
    `<circle cx="${at(mean).toFixed(2)}" cy="5" r="1.6"></circle></svg>`
  );
}

/** Characters per line of a matrix row label. */
const MATRIX_LABEL_CHARS = 22;

/** A label cut into lines of at most `max` characters, at `/`, `-`, `_` or `.` where it can be. */
export function wrapLabel(text: string, max: number): string[] {
  const pieces = text.split(/(?<=[/\-_.])/);
  const lines: string[] = [];
  let line = '';
  for (let piece of pieces) {
    while (piece.length > max) {
      if (line) lines.push(line), (line = '');
      lines.push(piece.slice(0, max));
      piece = piece.slice(max);
    }
    if ((line + piece).length > max && line) {
      lines.push(line);
      line = '';
    }
    line += piece;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The model x dataset matrix (only where the policy publishes per dataset): each pair with a
 * result coloured by its primary metric, each approved pair still waiting for a run hatched.
 * Labels are the records' ids, measured whole; the SVG scales to the screen.
 */
export function matrix(board: Leaderboard): string {
  if (board.publish !== 'per-dataset' || !board.cells) return '';
  const models = board.rows.map((r) => r.model).slice(0, MAX_MATRIX);
  const datasets = board.datasets.map((d) => d.id).slice(0, MAX_MATRIX);
  if (models.length === 0 || datasets.length === 0) return '';
  const values = board.cells.map((c) => c.primary).filter((v): v is number => v !== null);
  const lo = values.length ? Math.min(...values) : 0;
  const hi = values.length ? Math.max(...values) : 1;
  const gap = 2;
  const diag = Math.SQRT1_2;
  // Long model ids wrap onto lines at their separators, so the matrix keeps its width for cells.
  const labels = models.map((m) => wrapLabel(m, MATRIX_LABEL_CHARS));
  const lines = Math.max(...labels.map((l) => l.length));
  const cell = Math.max(26, lines * 13 + 4);
  const left = Math.max(...labels.flat().map((l) => textWidth(l))) + 10;
  const longest = Math.max(...datasets.map((d) => textWidth(d)));
  const top = Math.ceil(longest * diag) + 14;
  const width = Math.ceil(left + datasets.length * cell + Math.max(10, longest * diag - cell / 2) + 4);
  const height = top + models.length * cell + 4;
  const col = new Map(datasets.map((d, i) => [d, i]));
  const row = new Map(models.map((m, i) => [m, i]));
  const parts: string[] = [
    '<defs><pattern id="waiting" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="none"></rect><line x1="0" y1="0" x2="0" y2="6" stroke="currentColor" stroke-width="2"></line></pattern></defs>',
  ];
  datasets.forEach((d, i) => {
    const x = left + i * cell + cell / 2;
    parts.push(`<text transform="translate(${x.toFixed(1)},${top - 6}) rotate(-45)">${esc(d)}</text>`);
  });
  labels.forEach((label, i) => {
    const first = top + i * cell + cell / 2 + 3 - ((label.length - 1) * 13) / 2;
    parts.push(
      `<text x="${left - 6}" y="${first}" text-anchor="end">${label.map((l, n) => `<tspan x="${left - 6}" dy="${n ? 13 : 0}">${esc(l)}</tspan>`).join('')}</text>`,
    );
  });
  for (const c of board.cells) {
    const i = row.get(c.model);
    const j = col.get(c.dataset);
    if (i === undefined || j === undefined) continue;
    const text = c.primary === null ? `${c.model} on ${c.dataset}: a result without ${board.primaryMetric}` : `${c.model} on ${c.dataset}: ${board.primaryMetric} ${formatMetric(c.primary)}`;
    let t = c.primary === null ? 0 : hi === lo ? 1 : (c.primary - lo) / (hi - lo);
    if (board.direction === 'lower') t = 1 - t;
    parts.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell - gap}" height="${cell - gap}" fill="${shade(t)}"><title>${esc(text)}</title></rect>`);
  }
  for (const p of board.coverage.waitingPairs ?? []) {
    const i = row.get(p.model);
    const j = col.get(p.dataset);
    if (i === undefined || j === undefined) continue;
    parts.push(
      `<rect x="${left + j * cell + 0.5}" y="${top + i * cell + 0.5}" width="${cell - gap - 1}" height="${cell - gap - 1}" fill="url(#waiting)" stroke="currentColor" stroke-width="1" opacity="0.6"><title>${esc(`${p.model} on ${p.dataset}: approved, waiting for a run`)}</title></rect>`,
    );
  }
  const shown = models.length < board.rows.length || datasets.length < board.datasets.length ? `; the first ${models.length} models and ${datasets.length} datasets drawn` : '';
  const summary = `${board.primaryMetric} of each model on each dataset; ${board.coverage.withResults} of ${board.coverage.pairs} pairs have a result, ${board.coverage.waiting} wait for a run`;
  return (
    `<figure><svg class="chart matrix" role="img" aria-label="${esc(summary)}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `${parts.join('')}</svg>` +
    `<figcaption><span class="legend"><span><span class="swatch swatch-worse"></span> ${esc(formatMetric(board.direction === 'higher' ? lo : hi))}</span>` +
    `<span><span class="swatch swatch-better"></span> ${esc(formatMetric(board.direction === 'higher' ? hi : lo))} (better)</span>` +
    `<span><span class="swatch swatch-waiting"></span> approved, waiting for a run</span></span>` +
    `<span class="muted">${esc(summary)}${shown}. The table below lists every number.</span></figcaption></figure>`
  );
}

export const MATRIX_STYLE = `
.swatch-worse{background:${VIRIDIS[0]}}
.swatch-better{background:${VIRIDIS[VIRIDIS.length - 1]}}
.swatch-waiting{background:repeating-linear-gradient(45deg,currentColor 0 2px,transparent 2px 5px);opacity:.6}
`;

function dateOf(iso: string): string {
  return iso.slice(0, 10);
}

/**
 * How the leaderboard changed, one step per merge: under `per-dataset` the rank of each of the
 * current top models (a line per model, labelled at its end); otherwise results and ranked models
 * counted over time.
 */
export function historyChart(board: Leaderboard): string {
  const points = board.history;
  if (points.length < 2) return '';
  const step = 36;
  const pad = 12;
  const plotLeft = 40;
  const plotWidth = Math.max(step * (points.length - 1), 120);
  const x = (i: number) => plotLeft + (points.length === 1 ? 0 : (i / (points.length - 1)) * plotWidth);
  const parts: string[] = [];
  let height: number;
  let labelWidth = 0;
  let summary: string;
  const legend: string[] = [];
  if (points.every((p) => p.rows)) {
    const top = board.rows.filter((r) => r.rank !== null).slice(0, MAX_HISTORY_SERIES).map((r) => r.model);
    const deepest = Math.max(1, ...points.flatMap((p) => p.rows!.map((r) => r.rank)).filter((r) => Number.isFinite(r)));
    const rows = Math.min(deepest, Math.max(top.length, 1) + 4);
    const rowHeight = 22;
    height = pad * 2 + (rows - 1) * rowHeight + 24;
    const y = (rank: number) => pad + (Math.min(rank, rows) - 1) * rowHeight;
    for (let r = 1; r <= rows; r++) parts.push(`<text x="${plotLeft - 10}" y="${y(r) + 4}" text-anchor="end">${r === rows && deepest > rows ? `${r}+` : r}</text>`);
    top.forEach((model, k) => {
      const colour = SERIES_COLOURS[k % SERIES_COLOURS.length]!;
      const seen = points.map((p, i) => ({ i, row: p.rows!.find((r) => r.model === model) })).filter((e) => e.row);
      if (seen.length === 0) return;
      const d = seen.map((e, n) => `${n ? 'L' : 'M'}${x(e.i).toFixed(1)},${y(e.row!.rank)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2.5"></path>`);
      for (const e of seen) {
        parts.push(
          `<circle cx="${x(e.i).toFixed(1)}" cy="${y(e.row!.rank)}" r="3.5" fill="${colour}"><title>${esc(`${model}: rank ${e.row!.rank}, ${board.primaryMetric} ${formatMetric(e.row!.primary)}, ${dateOf(points[e.i]!.at)}`)}</title></circle>`,
        );
      }
      const last = seen.at(-1)!;
      const letter = SERIES_LETTERS[k]!;
      labelWidth = Math.max(labelWidth, textWidth(letter) + 4);
      parts.push(`<text x="${(x(last.i) + 8).toFixed(1)}" y="${y(last.row!.rank) + 4}" font-weight="bold">${letter}</text>`);
      legend.push(
        `<li><span class="swatch" data-series="${k}"></span> <strong>${letter}</strong> ${esc(model)} <span class="muted">(now ${esc(formatMetric(last.row!.primary))})</span></li>`,
      );
    });
    summary = `Rank on ${board.primaryMetric} of the top ${top.length} models at each of ${points.length} merges, from ${dateOf(points[0]!.at)} to ${dateOf(points.at(-1)!.at)}`;
  } else {
    const most = Math.max(1, ...points.map((p) => p.counts.results));
    const plotHeight = 110;
    height = pad * 2 + plotHeight + 24;
    const y = (n: number) => pad + plotHeight - (n / most) * plotHeight;
    parts.push(`<text x="${plotLeft - 10}" y="${y(most) + 4}" text-anchor="end">${most}</text><text x="${plotLeft - 10}" y="${y(0) + 4}" text-anchor="end">0</text>`);
    const series: Array<[string, (p: HistoryPoint) => number]> = [
      ['results', (p) => p.counts.results],
      ['models ranked', (p) => p.ranked],
    ];
    series.forEach(([name, value], k) => {
      const colour = SERIES_COLOURS[k]!;
      const d = points.map((p, i) => `${i ? `H${x(i).toFixed(1)} V` : `M${x(i).toFixed(1)},`}${y(value(p)).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2.5"${k ? ' stroke-dasharray="6 3"' : ''}></path>`);
      const last = points.at(-1)!;
      const label = `${value(last)} ${name}`;
      labelWidth = Math.max(labelWidth, textWidth(label));
      parts.push(`<text x="${(x(points.length - 1) + 8).toFixed(1)}" y="${(y(value(last)) + 4 + (k ? 12 : 0)).toFixed(1)}">${esc(label)}</text>`);
    });
    summary = `Results and ranked models at each of ${points.length} merges, from ${dateOf(points[0]!.at)} to ${dateOf(points.at(-1)!.at)}`;
  }
  const base = height - 8;
  parts.push(`<text x="${plotLeft}" y="${base}">${esc(dateOf(points[0]!.at))}</text>`);
  parts.push(`<text x="${plotLeft + plotWidth}" y="${base}" text-anchor="end">${esc(dateOf(points.at(-1)!.at))}</text>`);
  const width = Math.ceil(plotLeft + plotWidth + 8 + labelWidth + 8);
  return (
    `<figure><svg class="chart history" role="img" aria-label="${esc(summary)}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>` +
    `<figcaption>${legend.length ? `<ul class="series">${legend.join('')}</ul>` : ''}<span class="muted">${esc(summary)}; the table below lists every step.</span></figcaption></figure>`
  );
}

/** A badge for a model: "lung | AUC 0.81 · rank 2/5". */
export function badge(board: Leaderboard, model: string): string {
  const row = board.rows.find((r) => r.model === model);
  const ranked = board.rows.filter((r) => r.rank !== null).length;
  const label = board.benchmark;
  const message =
    row && row.rank !== null && row.primary !== null
      ? `${board.primaryMetric} ${formatMetric(row.primary, 2)} · rank ${row.rank}/${ranked}`
      : 'not ranked';
  const lw = textWidth(label, 6.5) + 12;
  const mw = textWidth(message, 6.5) + 12;
  const color = row?.rank === 1 ? '#2da44e' : row?.rank ? '#0969da' : '#6e7781';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${lw + mw}" height="20" role="img" aria-label="${esc(`${label}: ${message}`)}">
<title>${esc(`${label}: ${message}`)}</title>
<rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${mw}" height="20" fill="${color}"/>
<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">
<text x="${lw / 2}" y="14">${esc(label)}</text><text x="${lw + mw / 2}" y="14">${esc(message)}</text>
</g>
</svg>
`;
}
