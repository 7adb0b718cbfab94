/** The terminal report: one cli-table3 table per section. */
import Table from 'cli-table3';
import type { BenchResults } from '../results.ts';
import { reportTables } from './rows.ts';

export function terminalReport(r: BenchResults): string {
  const parts = [`tasklet-rt bench — ${r.host.cpuModel}, ${r.host.cores} cores, Node ${r.host.node}`];
  for (const t of reportTables(r)) {
    const table = new Table({ head: t.head, style: { head: [], border: [] } });
    table.push(...t.rows);
    parts.push(`\n${t.title}\n${table.toString()}`);
  }
  return `${parts.join('\n')}\n`;
}
