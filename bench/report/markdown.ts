/** The Markdown report: the same tables as the terminal. */
import type { BenchResults } from '../results.ts';
import { quickNotice, reportTables, warmupText } from './rows.ts';

const cell = (s: string): string => s.replaceAll('|', '\\|');

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
