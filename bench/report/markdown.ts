/** The Markdown report: the same tables as the terminal. */
import type { BenchResults } from '../results.ts';
import { quickNotice, reportTables } from './rows.ts';

const cell = (s: string): string => s.replaceAll('|', '\\|');

/** The warm-up before each window, as the bench ran it (bench/window.ts). */
function warmupText(s: BenchResults['settings']): string {
  const settle = s.settleMaxMs ? `, then until the rate settles (at most ${s.settleMaxMs / 1000} s)` : '';
  return `warm-up ${s.warmupMs} ms${settle}`;
}

export function markdownReport(r: BenchResults): string {
  const lines = [
    '# tasklet-rt bench',
    '',
    `${r.startedAt} · ${r.host.cpuModel} · ${r.host.cores} cores · Node ${r.host.node} · ` +
      `${r.settings.durationMs} ms × ${r.settings.runs} runs, ${warmupText(r.settings)}`,
  ];
  const notice = quickNotice(r);
  if (notice !== null) lines.push('', `**${notice}**`);
  for (const t of reportTables(r)) {
    lines.push(
      '',
      `## ${t.title}`,
      '',
      `| ${t.head.map(cell).join(' | ')} |`,
      `|${t.head.map(() => ' --- |').join('')}`,
    );
    for (const row of t.rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}
