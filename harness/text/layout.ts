/** Terminal text that fits: a triangular matrix split into column blocks, and word wrapping. */

/** The width reports are laid out for. */
export const REPORT_COLUMNS = 100;

export interface TriangleSpec {
  labels: readonly string[];
  /** The cell text of row r, column c (c >= r). */
  cell(r: number, c: number): string;
  /** Width of one cell; column labels are cut to fit it. */
  cellWidth: number;
  /** Characters each line starts with. */
  indent?: string;
  maxWidth?: number;
}

/**
 * An upper-triangular table (row r shows columns r..n-1). When all the columns do not fit in
 * `maxWidth`, they come in blocks, each with its own header and the rows that reach it.
 */
export function triangleTable(spec: TriangleSpec): string[] {
  const { labels, cellWidth } = spec;
  const indent = spec.indent ?? '  ';
  const labelWidth = Math.max(...labels.map((l) => l.length)) + 1;
  const perBlock = Math.max(
    1,
    Math.floor(((spec.maxWidth ?? REPORT_COLUMNS) - indent.length - labelWidth) / cellWidth),
  );
  const lines: string[] = [];
  for (let first = 0; first < labels.length; first += perBlock) {
    const cols = labels.slice(first, first + perBlock).map((_, i) => first + i);
    if (first > 0) lines.push('');
    lines.push(
      `${indent}${''.padEnd(labelWidth)}${cols.map((c) => labels[c].slice(0, cellWidth - 1).padStart(cellWidth)).join('')}`,
    );
    for (let r = 0; r <= cols[cols.length - 1]; r++) {
      const cells = cols.map((c) => (c < r ? '' : spec.cell(r, c)).padStart(cellWidth));
      lines.push(`${indent}${labels[r].padEnd(labelWidth)}${cells.join('')}`.trimEnd());
    }
  }
  return lines;
}

/** Wraps `text` at spaces (or after `breakAfter` characters such as commas) to `width` columns. */
export function wrapText(
  text: string,
  indent = '  ',
  width = REPORT_COLUMNS,
  continuation = `${indent}  `,
): string[] {
  const words = text.split(/(?<=[ ,])/);
  const lines: string[] = [];
  let line = indent;
  for (const word of words) {
    if (line.length + word.trimEnd().length > width && line.trim() !== '') {
      lines.push(line.trimEnd());
      line = continuation;
    }
    line += word;
  }
  if (line.trim() !== '') lines.push(line.trimEnd());
  return lines;
}
