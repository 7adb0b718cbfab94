#!/usr/bin/env node
// Summarises .cpuprofile files (node --cpu-prof; worker threads write one each): self time per
// function, as a share of the thread's samples. Usage: node tools/cpuprof-summary.mjs DIR|FILE... [--top N]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
const files = args.flatMap((p) =>
  statSync(p).isDirectory()
    ? readdirSync(p)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(p, f))
    : [p],
);
for (const file of files) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const self = new Map();
  let total = 0;
  for (const node of prof.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${basename(url)}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + node.hitCount);
    total += node.hitCount;
  }
  const idle = (self.get('(idle)') ?? 0) + (self.get('(program)') ?? 0);
  console.log(`\n${basename(file)}: ${total} samples (${((100 * idle) / total).toFixed(1)} % idle/program)`);
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, hits] of rows) console.log(`${((100 * hits) / total).toFixed(1).padStart(6)} %  ${key}`);
}
