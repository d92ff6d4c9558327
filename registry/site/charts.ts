// Charts as inline SVG: drawn at build time, so they need no script and no network.
import { formatMetric, type Leaderboard } from '../leaderboard.ts';
import { esc } from './html.ts';

/** Bars beyond this many models would not fit a page; the table holds them all. */
export const MAX_BARS = 100;
/** Heatmap rows and columns shown at most. */
export const MAX_HEATMAP = 120;

function textWidth(text: string, px = 7): number {
  return Math.ceil(text.length * px);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A ranked bar chart of the primary metric (means, as the policy publishes them). */
export function barChart(board: Leaderboard): string {
  const ranked = board.rows.filter((r) => r.rank !== null && r.primary !== null).slice(0, MAX_BARS);
  if (ranked.length === 0) return '';
  const values = ranked.map((r) => r.primary!);
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  const span = hi - lo || 1;
  const labels = ranked.map((r) => truncate(`${r.rank}. ${r.model}`, 40));
  const labelWidth = Math.max(...labels.map((l) => textWidth(l))) + 12;
  const barWidth = 420;
  const rowHeight = 22;
  const width = labelWidth + barWidth + 70;
  const height = ranked.length * rowHeight + 8;
  const x0 = labelWidth + ((0 - lo) / span) * barWidth;
  const bars = ranked
    .map((r, i) => {
      const v = r.primary!;
      const x = labelWidth + ((Math.min(v, 0) - lo) / span) * barWidth;
      const w = Math.max(1, (Math.abs(v) / span) * barWidth);
      const y = 4 + i * rowHeight;
      return (
        `<g><title>${esc(`${r.model}: ${board.primaryMetric} ${formatMetric(v)}`)}</title>` +
        `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${esc(labels[i]!)}</text>` +
        `<rect x="${x.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="#2f81f7"></rect>` +
        `<text x="${(Math.max(x + w, x0) + 6).toFixed(1)}" y="${y + 15}">${esc(formatMetric(v))}</text></g>`
      );
    })
    .join('');
  const more = board.rows.filter((r) => r.rank !== null).length - ranked.length;
  return (
    `<figure><svg class="chart bar-chart" role="img" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<title>${esc(`${board.primaryMetric} by model, ${board.direction} is better`)}</title>${bars}</svg>` +
    `<figcaption class="muted">${esc(board.primaryMetric)} by model (${board.direction} is better)${more > 0 ? `; the top ${ranked.length} of ${ranked.length + more} shown, the table lists all` : ''}</figcaption></figure>`
  );
}

/** Light to dark blue; the better end of the scale is the darker. */
function shade(t: number): string {
  const from = [0xdb, 0xe9, 0xf6];
  const to = [0x08, 0x30, 0x6b];
  return `#${from.map((f, i) => Math.round(f + (to[i]! - f) * t).toString(16).padStart(2, '0')).join('')}`;
}

/** The model x dataset heatmap of the primary metric; only where the policy publishes per dataset. */
export function heatmap(board: Leaderboard): string {
  if (board.publish !== 'per-dataset' || !board.cells?.length) return '';
  const models = board.rows.map((r) => r.model).filter((m) => board.cells!.some((c) => c.model === m)).slice(0, MAX_HEATMAP);
  const datasets = board.datasets.map((d) => d.id).slice(0, MAX_HEATMAP);
  const values = board.cells.map((c) => c.primary).filter((v): v is number => v !== null);
  if (values.length === 0) return '';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const cell = 28;
  const left = Math.max(...models.map((m) => textWidth(truncate(m, 36)))) + 12;
  const top = Math.max(...datasets.map((d) => textWidth(truncate(d, 36)))) * 0.72 + 16;
  const width = left + datasets.length * cell + 10;
  const height = top + models.length * cell + 10;
  const col = new Map(datasets.map((d, i) => [d, i]));
  const row = new Map(models.map((m, i) => [m, i]));
  const parts: string[] = [];
  datasets.forEach((d, i) => {
    const x = left + i * cell + cell / 2;
    parts.push(`<text transform="translate(${x.toFixed(1)},${(top - 6).toFixed(1)}) rotate(-45)">${esc(truncate(d, 36))}</text>`);
  });
  models.forEach((m, i) => {
    parts.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(truncate(m, 36))}</text>`);
  });
  for (const c of board.cells) {
    const i = row.get(c.model);
    const j = col.get(c.dataset);
    if (i === undefined || j === undefined || c.primary === null) continue;
    let t = hi === lo ? 1 : (c.primary - lo) / (hi - lo);
    if (board.direction === 'lower') t = 1 - t;
    parts.push(
      `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell - 2}" height="${cell - 2}" fill="${shade(t)}">` +
        `<title>${esc(`${c.model} on ${c.dataset}: ${board.primaryMetric} ${formatMetric(c.primary)}`)}</title></rect>`,
    );
  }
  return (
    `<figure><svg class="chart heatmap" role="img" xmlns="http://www.w3.org/2000/svg" width="${width.toFixed(0)}" height="${height.toFixed(0)}" viewBox="0 0 ${width.toFixed(0)} ${height.toFixed(0)}">` +
    `<title>${esc(`${board.primaryMetric} of each model on each dataset`)}</title>${parts.join('')}</svg>` +
    `<figcaption class="muted">${esc(board.primaryMetric)} of each model on each dataset; darker is better${
      models.length < board.rows.length || datasets.length < board.datasets.length ? `; the first ${models.length} models and ${datasets.length} datasets shown` : ''
    }</figcaption></figure>`
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
