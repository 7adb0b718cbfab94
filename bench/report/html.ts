/**
 * The HTML report: one self-contained page (chart.js inlined, no network) with three charts —
 * throughput by CPU count, latency distributions, runtime vs bare vs piscina — and the tables.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BenchResults } from '../results.ts';
import { quickNotice, reportTables, warmupText } from './rows.ts';

const require = createRequire(import.meta.url);

function chartJsSource(): string {
  // The UMD build sits next to the package's main file (its exports map does not list it).
  return readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}

const escapeHtml = (s: string): string =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** JSON that is safe inside a <script> element. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replaceAll('<', '\\u003c');

/**
 * A log axis from the power of ten at or below the smallest value to the one at or above the
 * largest, so that every point lies inside the chart and the axis starts and ends on a label.
 */
export function decadeBounds(values: (number | null)[]): { min: number; max: number } | null {
  const positive = values.filter((v): v is number => v !== null && Number.isFinite(v) && v > 0);
  if (positive.length === 0) return null;
  const min = 10 ** Math.floor(Math.log10(Math.min(...positive)));
  const max = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
  return { min, max: max > min ? max : min * 10 };
}

/** A log axis cannot show zero: such a point is left out rather than drawn off the chart. */
const onLogAxis = (v: number | null | undefined): number | null =>
  v !== null && v !== undefined && Number.isFinite(v) && v > 0 ? v : null;

/** Series for the charts, computed here so the page script only draws. */
function chartData(r: BenchResults) {
  const cpus = [...new Set(r.throughput.map((t) => t.cpus))].sort((a, b) => a - b);
  const series = (workload: string, implementation: string) => ({
    label: `${workload} · ${implementation}`,
    bare: implementation === 'bare',
    data: cpus.map((c) =>
      onLogAxis(
        r.throughput.find(
          (t) => t.workload === workload && t.implementation === implementation && t.cpus === c,
        )?.perSecond.median,
      ),
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
    .map((t) => ({ label: `${t.workload} · ${t.implementation}`, value: onLogAxis(t.perSecond.median) }));
  const latency = r.latency.map((l) => ({
    label: `${l.workload} · ${l.target} · poll ${l.idlePollUs} µs`,
    points: l.distribution.map(([p, us]): [number, number | null] => [p, onLogAxis(us)]),
  }));
  return {
    cpus,
    scaling,
    versus,
    latency,
    bounds: {
      scaling: decadeBounds(scaling.flatMap((s) => s.data)),
      versus: decadeBounds(versus.map((v) => v.value)),
      latency: decadeBounds(latency.flatMap((l) => l.points.map((p) => p[1]))),
    },
  };
}

/**
 * Draws the charts once, without animation (a screenshot or a print shows the final figures),
 * filling their boxes. Log axes are labelled at powers of ten only (also at 2 and 5 when the axis
 * spans two decades or less), never rotated, so their labels cannot overlap.
 */
const PAGE_SCRIPT = `
const data = JSON.parse(document.getElementById('bench-data').textContent);
const colors = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];
const color = (i) => colors[i % colors.length];
Chart.defaults.animation = false;
Chart.defaults.font.size = 13;
Chart.defaults.color = '#111';
const trim = (n) => String(Number(n.toPrecision(3)));
const rateTick = (v) => v >= 1e6 ? trim(v / 1e6) + ' M' : v >= 1e3 ? trim(v / 1e3) + ' k' : trim(v);
const microsTick = (v) => v >= 1e6 ? trim(v / 1e6) + ' s' : v >= 1e3 ? trim(v / 1e3) + ' ms' : trim(v) + ' µs';
function logAxis(bounds, title, format) {
  return {
    type: 'logarithmic',
    min: bounds ? bounds.min : undefined,
    max: bounds ? bounds.max : undefined,
    title: { display: true, text: title },
    // Decades stand out; the lines at 2..9 are faint.
    grid: { color: (c) => (c.tick && c.tick.major ? '#c4c4c4' : '#f0f0f0') },
    ticks: {
      major: { enabled: true },
      autoSkip: false,
      maxRotation: 0,
      callback(value) {
        // Chart.js puts ticks at 1, 1.1, 1.2 ... 2, 3 ... of each decade: only exact 1 (2, 5) get a label.
        const v = Number(value);
        const mantissa = v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9));
        const is = (m) => Math.abs(mantissa - m) < 1e-6;
        const decades = Math.log10(this.max / this.min);
        return is(1) || (decades <= 2.001 && (is(2) || is(5))) ? format(v) : '';
      },
    },
  };
}
const base = { animation: false, responsive: true, maintainAspectRatio: false,
  plugins: { legend: { labels: { usePointStyle: true, pointStyle: 'line', pointStyleWidth: 40, boxWidth: 40,
    // A point-style legend takes its style from the points, which are never dashed.
    generateLabels: (chart) => Chart.defaults.plugins.legend.labels.generateLabels(chart)
      .map((item) => ({ ...item, lineDash: chart.data.datasets[item.datasetIndex].borderDash || [] })) } } } };
if (document.getElementById('scaling')) new Chart(document.getElementById('scaling'), {
  type: 'line',
  data: { labels: data.cpus.map((c) => c + ' CPU' + (c > 1 ? 's' : '')),
    datasets: data.scaling.map((s, i) => ({ label: s.label, data: s.data, borderColor: color(i), backgroundColor: color(i),
      borderWidth: 2.5, borderDash: s.bare ? [8, 5] : [] })) },
  options: { ...base, scales: { y: logAxis(data.bounds.scaling, 'dispatches / s, all CPUs (log)', rateTick) } },
});
if (document.getElementById('versus')) new Chart(document.getElementById('versus'), {
  type: 'bar',
  data: { labels: data.versus.map((v) => v.label),
    datasets: [{ label: 'dispatches / s at ' + data.cpus[data.cpus.length - 1] + ' CPUs', data: data.versus.map((v) => v.value),
      backgroundColor: data.versus.map((v) => v.label.includes('bare') ? '#dc2626' : v.label.includes('piscina') ? '#4b5563' : '#2563eb') }] },
  // One bar a figure, each labelled on the axis: a legend would only repeat the axis title.
  options: { ...base, indexAxis: 'y', plugins: { legend: { display: false } },
    scales: { x: logAxis(data.bounds.versus, 'dispatches / s at ' + data.cpus[data.cpus.length - 1] + ' CPUs, all CPUs (log)', rateTick) } },
});
const percentiles = data.latency.length ? data.latency[0].points.map((p) => 'p' + p[0]) : [];
if (document.getElementById('latency')) new Chart(document.getElementById('latency'), {
  type: 'line',
  data: { labels: percentiles,
    datasets: data.latency.map((l, i) => ({ label: l.label, data: l.points.map((p) => p[1]), borderColor: color(i), backgroundColor: color(i),
      borderWidth: 2.5 })) },
  options: { ...base, scales: { y: logAxis(data.bounds.latency, 'latency (log)', microsTick), x: { title: { display: true, text: 'percentile' } } } },
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
  const notice = quickNotice(r);
  const data = chartData(r);
  // A chart with nothing to draw (a workload left out with --only) is left out too.
  const charts = [
    { id: 'scaling', title: 'Throughput by CPU count', shown: data.scaling.length > 0 },
    { id: 'versus', title: 'tasklet-rt vs bare vs piscina', shown: data.versus.length > 0 },
    { id: 'latency', title: 'Latency distribution', shown: data.latency.length > 0 },
  ]
    .filter((c) => c.shown)
    .map((c) => `<h2>${c.title}</h2><div class="chart"><canvas id="${c.id}"></canvas></div>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tasklet-rt bench</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #111; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f3f4f6; } .chart { position: relative; height: 380px; margin-bottom: 2em; }
.notice { border: 1px solid #d97706; background: #fffbeb; padding: 0.6em 1em; font-weight: 600; }
</style></head><body>
<h1>tasklet-rt bench</h1>
<p>${escapeHtml(`${r.startedAt} · ${r.host.cpuModel} · ${r.host.cores} cores · Node ${r.host.node} · ${r.settings.durationMs} ms × ${r.settings.runs} runs, ${warmupText(r.settings)}`)}</p>
${notice === null ? '' : `<p class="notice">${escapeHtml(notice)}</p>\n`}${charts}
${tables}
<script id="bench-data" type="application/json">${scriptJson(data)}</script>
<script>${chartJsSource().replaceAll('</script', '<\\/script')}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
