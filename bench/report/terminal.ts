/**
 * The terminal report: one cli-table3 table per section, each at most `width` columns wide (100
 * unless told): a table that would be wider wraps its widest columns, between words where the
 * words fit, never splitting a number from its unit.
 */
import Table from 'cli-table3';
import type { BenchResults } from '../results.ts';
import { quickNotice, reportTables, type TextTable } from './rows.ts';

export const TERMINAL_WIDTH = 100;

/** Columns a string takes on a terminal (every character in these reports is one column wide). */
const columns = (s: string): number => [...s].length;

/**
 * Lines of at most `width` columns, broken at spaces (a longer word keeps its own line), each as
 * indented as the text.
 */
export function wrapText(text: string, width: number): string[] {
  const indent = /^ */.exec(text)![0];
  const room = Math.max(width - indent.length, 1);
  const lines: string[] = [];
  let line = '';
  for (const word of text.slice(indent.length).split(' ')) {
    if (line !== '' && columns(line) + 1 + columns(word) > room) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.map((l) => indent + l);
}

/** cli-table3 column widths include one space of padding on each side. */
const PADDING = 2;
/** Below this a column would show too little of anything to read. */
const NARROWEST = 2 + PADDING;

/**
 * A unit stays on the line of its number: "1.50 M", "38.2 MiB", "(12 lost)", and a spread
 * "(1.00 M–2.00 M)" is one piece.
 */
const UNIT = /^(k|M|µs|ms|s|MiB|×|lost)(\)|–.*)?$/;

/** A cell's unbreakable pieces: its words, each number with its unit. */
function atoms(cell: string): string[] {
  const out: string[] = [];
  for (const word of cell.split(' ')) {
    if (out.length > 0 && UNIT.test(word)) out[out.length - 1] += ` ${word}`;
    else out.push(word);
  }
  return out;
}

/** `text` in pieces of at most `width` columns. */
function chunks(text: string, width: number): string[] {
  const chars = [...text];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += width) out.push(chars.slice(i, i + width).join(''));
  return out;
}

/**
 * A cell as lines of at most `width` columns: broken between atoms; an atom wider than that
 * between its words, and a word wider than that anywhere.
 */
function wrapCell(cell: string, width: number): string {
  const pieces = atoms(cell).flatMap((atom) =>
    columns(atom) <= width ? [atom] : atom.split(' ').flatMap((word) => chunks(word, width)),
  );
  const lines: string[] = [];
  let line = '';
  for (const piece of pieces) {
    if (line === '') line = piece;
    else if (columns(line) + 1 + columns(piece) <= width) line += ` ${piece}`;
    else {
      lines.push(line);
      line = piece;
    }
  }
  lines.push(line);
  return lines.join('\n');
}

/**
 * Column widths (padding included) so that the table fits in `width` columns: the widest column
 * gives up a column at a time, first down to its widest atom (so that lines break only between
 * atoms), then down to its longest word, then down to NARROWEST (breaking words).
 */
export function fitColumns(t: TextTable, width: number): number[] {
  const cells = (i: number) => [t.head[i] ?? '', ...t.rows.map((row) => row[i] ?? '')];
  const widestOf = (i: number, split: (cell: string) => string[]) =>
    Math.max(...cells(i).flatMap(split).map(columns)) + PADDING;
  const natural = t.head.map((_, i) => widestOf(i, (c) => [c]));
  const longestAtom = t.head.map((_, i) => widestOf(i, atoms));
  const longestWord = t.head.map((_, i) => widestOf(i, (c) => c.split(' ')));
  const total = (ws: number[]) => ws.reduce((a, b) => a + b, 0) + t.head.length + 1;
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
  shrink((i) => Math.max(longestAtom[i]!, NARROWEST));
  shrink((i) => Math.max(longestWord[i]!, NARROWEST));
  shrink(() => NARROWEST);
  return widths;
}

export function renderTable(t: TextTable, width: number): string {
  const colWidths = fitColumns(t, width);
  const wrap = (row: string[]) => row.map((cell, i) => wrapCell(cell, colWidths[i]! - PADDING));
  const table = new Table({ head: wrap(t.head), colWidths, style: { head: [], border: [] } });
  table.push(...t.rows.map(wrap));
  return table.toString();
}

export function terminalReport(r: BenchResults, width = TERMINAL_WIDTH): string {
  const text = (s: string) => wrapText(s, width).join('\n');
  const parts = [text(`tasklet-rt bench — ${r.host.cpuModel}, ${r.host.cores} cores, Node ${r.host.node}`)];
  const notice = quickNotice(r);
  if (notice !== null) parts.push(text(notice));
  for (const t of reportTables(r, { params: 'notes' })) {
    const notes = (t.notes ?? []).map((note) => `\n${text(note)}`).join('');
    parts.push(`\n${text(t.title)}\n${renderTable(t, width)}${notes}`);
  }
  return `${parts.join('\n')}\n`;
}
