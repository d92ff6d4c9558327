// The page shell: every text escaped, one inline stylesheet and one inline script allowed by
// their hashes in a strict Content-Security-Policy, nothing fetched from anywhere else.
import { createHash } from 'node:crypto';
import escapeHtml from 'escape-html';

/** Escapes text for HTML and XML content and attribute values. */
export function esc(value: string | number): string {
  return escapeHtml(String(value));
}

export const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#57606a;--line:#d0d7de;--accent:#0969da;--bar:#0072b2;--range:#0072b2;--track:#d0d7de}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--line:#30363d;--accent:#4493f8;--bar:#56b4e9;--range:#56b4e9;--track:#30363d}}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:72rem;padding:1rem 1.5rem}
a{color:var(--accent)}
h1{font-size:1.6rem;margin:.5rem 0;overflow-wrap:anywhere}
h2{font-size:1.25rem;margin:1.5rem 0 .25rem}
p,li,figcaption,caption{overflow-wrap:anywhere}
.muted,caption,footer,.sub{color:var(--muted)}
.sub{display:block;font-size:.85em}
.facts{display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;padding:0;list-style:none;margin:.5rem 0}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}
caption{text-align:left;padding:.25rem 0}
th,td{border-bottom:1px solid var(--line);padding:.3rem .6rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:normal}
td.num{white-space:nowrap}
th button{font:inherit;font-weight:bold;background:none;border:0;padding:0;color:inherit;cursor:pointer;text-align:inherit}
th button:focus-visible,a:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
th[aria-sort=ascending] button::after{content:" \\25B2"}
th[aria-sort=descending] button::after{content:" \\25BC"}
.mcol{display:none}
table.benchmarks{table-layout:fixed}
col.w-num{width:4.75rem}
table.across{table-layout:fixed}
col.w-rank{width:5rem}
col.w-spread{width:30%}
table.across td{overflow-wrap:break-word}
table.benchmarks td{overflow-wrap:break-word}
.choice{display:flex;flex-wrap:wrap;gap:.25rem .75rem;align-items:baseline;margin:.25rem 0}
.choice a[aria-pressed=true]{font-weight:bold;color:var(--fg);text-decoration:none}
.target{display:block;height:0;overflow:hidden}
figure{margin:.5rem 0 1rem}
.chart{display:block;max-width:100%;height:auto}
.chart text{fill:currentColor;font:12px system-ui,sans-serif}
.range{display:block;width:100%;max-width:10rem;height:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,26rem),1fr));gap:0 2rem;align-items:start}
details summary{cursor:pointer;color:var(--accent)}
ul.datasets{padding-left:1.2rem}
@media (max-width:40rem){body{padding:.75rem;font-size:14px}th,td{padding:.25rem .3rem}}
`;

/**
 * Sorts tables marked sortable from their column headings (buttons, so the keyboard sorts too);
 * turns the metric links into toggles that show a metric without leaving the page. The page
 * reads the same without it: the table is in ranked order and the links work on their own.
 */
export const SORT_SCRIPT = `
for (const table of document.querySelectorAll('table.sortable')) {
  const heads = Array.from(table.tHead.rows[0].cells);
  heads.forEach((th, col) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = th.textContent;
    th.replaceChildren(button);
    button.addEventListener('click', () => {
      const ascending = th.getAttribute('aria-sort') !== 'ascending';
      for (const h of heads) h.removeAttribute('aria-sort');
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      const numeric = th.dataset.type === 'number';
      const key = (row) => {
        const cell = row.cells[col];
        const raw = cell.dataset.value ?? cell.textContent.trim();
        return numeric ? (raw === '' ? null : Number(raw)) : raw;
      };
      const body = table.tBodies[0];
      const rows = Array.from(body.rows);
      rows.sort((a, b) => {
        const x = key(a), y = key(b);
        if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
        const order = numeric ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      body.append(...rows);
    });
  });
}
const links = Array.from(document.querySelectorAll('.choice a[data-metric]'));
const choose = (metric) => {
  document.body.dataset.metric = metric;
  for (const a of links) {
    a.setAttribute('aria-pressed', String(a.dataset.metric === metric));
  }
};
for (const a of links) {
  a.setAttribute('role', 'button');
  a.addEventListener('click', (event) => {
    event.preventDefault();
    choose(a.dataset.metric);
    history.replaceState(null, '', a.getAttribute('href'));
  });
  a.addEventListener('keydown', (event) => {
    if (event.key === ' ') {
      event.preventDefault();
      a.click();
    }
  });
}
if (links.length) {
  const chosen = links.find((a) => a.getAttribute('href') === location.hash) ?? links[0];
  choose(chosen.dataset.metric);
}
`;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

/** Nothing loads but this page, its own style and script, and same-origin images. */
export function cspFor(style: string): string {
  return [
    "default-src 'none'",
    `style-src 'sha256-${sha256(style)}'`,
    `script-src 'sha256-${sha256(SORT_SCRIPT)}'`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export const CSP = cspFor(STYLE);

export function page(opts: { title: string; body: string; script?: boolean; style?: string }): string {
  const style = STYLE + (opts.style ?? '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(cspFor(style))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(opts.title)}</title>
<style>${style}</style>
</head>
<body>
${opts.body}
${opts.script ? `<script>${SORT_SCRIPT}</script>` : ''}
</body>
</html>
`;
}
