/**
 * The HTML report: one self-contained page (chart.js inlined, no network) with three charts —
 * throughput by CPU count, latency distributions, runtime vs bare vs piscina — and the tables.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BenchResults } from '../results.ts';
import { reportTables } from './rows.ts';

const require = createRequire(import.meta.url);

function chartJsSource(): string {
  // The UMD build sits next to the package's main file (its exports map does not list it).
  return readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}

const escapeHtml = (s: string): string =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** JSON that is safe inside a <script> element. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replaceAll('<', '\\u003c');

/** Series for the charts, computed here so the page script only draws. */
function chartData(r: BenchResults) {
  const cpus = [...new Set(r.throughput.map((t) => t.cpus))].sort((a, b) => a - b);
  const series = (workload: string, implementation: string) => ({
    label: `${workload} · ${implementation}`,
    data: cpus.map(
      (c) =>
        r.throughput.find(
          (t) => t.workload === workload && t.implementation === implementation && t.cpus === c,
        )?.perSecond.median ?? null,
    ),
  });
  const scaling = [
    series('local', 'tasklet-rt'),
    series('local', 'bare'),
    series('shared', 'tasklet-rt'),
    series('shared', 'bare'),
    series('no-op task', 'piscina'),
  ].filter((s) => s.data.some((v) => v !== null));
  const top = r.settings.cpus;
  const versus = r.throughput
    .filter((t) => t.cpus === top)
    .map((t) => ({ label: `${t.workload} · ${t.implementation}`, value: t.perSecond.median }));
  const latency = r.latency.map((l) => ({
    label: `${l.workload} · ${l.target} · poll ${l.idlePollUs} µs`,
    points: l.distribution,
  }));
  return { cpus, scaling, versus, latency };
}

const PAGE_SCRIPT = `
const data = JSON.parse(document.getElementById('bench-data').textContent);
const colors = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];
const color = (i) => colors[i % colors.length];
new Chart(document.getElementById('scaling'), {
  type: 'line',
  data: { labels: data.cpus.map((c) => c + ' CPU' + (c > 1 ? 's' : '')),
    datasets: data.scaling.map((s, i) => ({ label: s.label, data: s.data, borderColor: color(i), backgroundColor: color(i) })) },
  options: { scales: { y: { type: 'logarithmic', title: { display: true, text: 'dispatches / s (all CPUs)' } } } },
});
new Chart(document.getElementById('versus'), {
  type: 'bar',
  data: { labels: data.versus.map((v) => v.label),
    datasets: [{ label: 'dispatches / s at ' + data.cpus[data.cpus.length - 1] + ' CPUs', data: data.versus.map((v) => v.value),
      backgroundColor: data.versus.map((v) => v.label.includes('bare') ? '#dc2626' : v.label.includes('piscina') ? '#4b5563' : '#2563eb') }] },
  options: { indexAxis: 'y', scales: { x: { type: 'logarithmic', title: { display: true, text: 'dispatches / s (log)' } } } },
});
const percentiles = data.latency.length ? data.latency[0].points.map((p) => 'p' + p[0]) : [];
new Chart(document.getElementById('latency'), {
  type: 'line',
  data: { labels: percentiles,
    datasets: data.latency.map((l, i) => ({ label: l.label, data: l.points.map((p) => p[1]), borderColor: color(i), backgroundColor: color(i) })) },
  options: { scales: { y: { type: 'logarithmic', title: { display: true, text: 'µs (log)' } } } },
});
`;

export function htmlReport(r: BenchResults): string {
  const tables = reportTables(r)
    .map(
      (t) =>
        `<h2>${escapeHtml(t.title)}</h2><table><thead><tr>${t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>` +
        `<tbody>${t.rows.map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tasklet-rt bench</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #111; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f3f4f6; } .chart { position: relative; height: 360px; margin-bottom: 2em; }
</style></head><body>
<h1>tasklet-rt bench</h1>
<p>${escapeHtml(`${r.startedAt} · ${r.host.cpuModel} · ${r.host.cores} cores · Node ${r.host.node} · ${r.settings.durationMs} ms × ${r.settings.runs} runs`)}</p>
<h2>Throughput by CPU count</h2><div class="chart"><canvas id="scaling"></canvas></div>
<h2>tasklet-rt vs bare vs piscina</h2><div class="chart"><canvas id="versus"></canvas></div>
<h2>Latency distribution</h2><div class="chart"><canvas id="latency"></canvas></div>
${tables}
<script id="bench-data" type="application/json">${scriptJson(chartData(r))}</script>
<script>${chartJsSource().replaceAll('</script', '<\\/script')}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
