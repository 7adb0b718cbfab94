/**
 * The terminal report: one cli-table3 table per section, each at most `width` columns wide (100
 * unless told): a table that would be wider wraps its widest columns, at word boundaries where the
 * words fit.
 */
import Table from 'cli-table3';
import type { BenchResults } from '../results.ts';
import { quickNotice, reportTables, type TextTable } from './rows.ts';

export const TERMINAL_WIDTH = 100;

/** Columns a string takes on a terminal (every character in these reports is one column wide). */
const columns = (s: string): number => [...s].length;

/** Lines of at most `width` columns, broken at spaces (a longer word keeps its own line). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && columns(line) + 1 + columns(word) > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

/** cli-table3 column widths include one space of padding on each side. */
const PADDING = 2;
/** Below this a column would show too little of anything to read. */
const NARROWEST = 3 + PADDING;

interface Layout {
  colWidths?: number[];
  wordWrap?: boolean;
  wrapOnWordBoundary?: boolean;
}

/**
 * Column widths so that the table fits in `width` columns: the widest column gives up a column at
 * a time, first down to its longest word (wrapping between words), then, if the table still does
 * not fit, down to NARROWEST (breaking words).
 */
export function fitColumns(t: TextTable, width: number): Layout {
  const cells = (i: number) => [t.head[i] ?? '', ...t.rows.map((row) => row[i] ?? '')];
  const natural = t.head.map((_, i) => Math.max(...cells(i).map(columns)) + PADDING);
  const longestWord = t.head.map(
    (_, i) => Math.max(...cells(i).flatMap((c) => c.split(' ').map(columns))) + PADDING,
  );
  const borders = t.head.length + 1;
  const total = (ws: number[]) => ws.reduce((a, b) => a + b, 0) + borders;
  if (total(natural) <= width) return {};
  const widths = [...natural];
  const shrink = (floor: (i: number) => number): void => {
    while (total(widths) > width) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++)
        if (widths[i]! > floor(i) && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      if (widest < 0) return;
      widths[widest]!--;
    }
  };
  shrink((i) => Math.max(longestWord[i]!, NARROWEST));
  if (total(widths) <= width) return { colWidths: widths, wordWrap: true, wrapOnWordBoundary: true };
  shrink(() => NARROWEST);
  return { colWidths: widths, wordWrap: true, wrapOnWordBoundary: false };
}

export function renderTable(t: TextTable, width: number): string {
  const table = new Table({ head: t.head, style: { head: [], border: [] }, ...fitColumns(t, width) });
  table.push(...t.rows);
  return table.toString();
}

export function terminalReport(r: BenchResults, width = TERMINAL_WIDTH): string {
  const text = (s: string) => wrapText(s, width).join('\n');
  const parts = [text(`tasklet-rt bench — ${r.host.cpuModel}, ${r.host.cores} cores, Node ${r.host.node}`)];
  const notice = quickNotice(r);
  if (notice !== null) parts.push(text(notice));
  for (const t of reportTables(r)) parts.push(`\n${text(t.title)}\n${renderTable(t, width)}`);
  return `${parts.join('\n')}\n`;
}
