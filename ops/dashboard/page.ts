/**
 * `GET /ops`: one plain HTML page, no framework and nothing fetched but /ops.json. The server
 * renders the current snapshot into it (escaped), and a small inline script rebuilds the
 * tables from /ops.json every 2 s with DOM text nodes (nothing from the JSON becomes markup).
 */
import { CLIENT_ROWS, ENGINE_COLUMNS, STAGE_COLUMNS, engineRows, stageRows, type Row } from './rows.ts';
import type { OpsSnapshot } from './snapshot.ts';

export const REFRESH_MS = 2_000;

/** HTML-escapes text for element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function table(id: string, columns: readonly string[], rows: readonly Row[]): string {
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((r) => `<tr class="${escapeHtml(r.className)}">${r.cells.map((c, i) => `<td class="${escapeHtml(r.cellClasses?.[i] ?? '')}">${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table id="${escapeHtml(id)}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .2em .6em; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child, td:nth-child(2) { text-align: left; }
tr.stage td { font-weight: 600; background: #fafafa; border-top: 2px solid #999; }
tr.part td { color: #555; }
td.behind { background: #fff3cd; }
tr.up td:nth-child(3) { background: #2e7d32; color: #fff; }
tr.down td:nth-child(3), td.down { background: #c62828; color: #fff; }
tr.off td:nth-child(3) { background: #bbb; }
.note { color: #666; font-size: .9em; } #status { color: #c62828; }
`;

export function renderOpsPage(snapshot: OpsSnapshot): string {
  const topologies = snapshot.topologies
    .map((t) => `<h2>topology ${escapeHtml(t.name)}</h2>\n${table(`topology-${t.name}`, STAGE_COLUMNS, stageRows(snapshot, t.name))}`)
    .join('\n');
  const script = `${CLIENT_ROWS}
function fill(id, rows) {
  const body = document.getElementById(id)?.tBodies[0];
  if (!body) return;
  body.replaceChildren(...rows.map((r) => {
    const tr = document.createElement('tr');
    tr.className = r.className;
    r.cells.forEach((c, i) => {
      const td = document.createElement('td');
      td.className = (r.cellClasses && r.cellClasses[i]) || '';
      td.textContent = c;
      tr.appendChild(td);
    });
    return tr;
  }));
}
async function refresh() {
  const status = document.getElementById('status');
  try {
    const res = await fetch('ops.json', { cache: 'no-store' });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    const snapshot = await res.json();
    document.getElementById('at').textContent = snapshot.at;
    fill('engines', engineRows(snapshot));
    for (const t of snapshot.topologies) fill('topology-' + t.name, stageRows(snapshot, t.name));
    status.textContent = snapshot.logError ? 'log not read: ' + snapshot.logError + ' (figures of ' + snapshot.at + ')' : '';
  } catch (err) {
    status.textContent = 'refresh failed: ' + err.message;
  } finally {
    setTimeout(refresh, ${REFRESH_MS});
  }
}
setTimeout(refresh, ${REFRESH_MS});
`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice ops</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Sluice ops</h1>
<p>Read at <span id="at">${escapeHtml(snapshot.at)}</span>, refreshed every ${REFRESH_MS / 1000} s. <span id="status">${snapshot.logError ? escapeHtml(`log not read: ${snapshot.logError} (figures of ${snapshot.at})`) : ''}</span></p>
<h2>engines</h2>
${table('engines', ENGINE_COLUMNS, engineRows(snapshot))}
${topologies}
<p class="note">${escapeHtml(snapshot.notes.lag)}</p>
<p class="note">${escapeHtml(snapshot.notes.throughput)}${snapshot.runsStages ? '' : ' This process runs no stages.'}</p>
<p class="note">The same numbers: <a href="ops.json">/ops.json</a>, <a href="metrics">/metrics</a>.</p>
<script>${script.replace(/<\//g, '<\\/')}</script>
</body>
</html>
`;
}
