/** LDD3's /proc/jitasklet and /proc/jitasklethi, and /proc/softirqs, in the kernel's text layout. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sprintf } from '../kernel/index.ts';
import type { Machine } from '../machine/index.ts';
import { boot, bootShared, jitModule, loadModule } from './helpers.ts';

const HEADER = '   time   delta  inirq    pid   cpu command';
const LDD3_FORMAT = '%9li  %3li     %i    %6i   %i   %s';

interface JitLine {
  time: number;
  delta: number;
  inirq: number;
  pid: number;
  cpu: number;
  comm: string;
}

/** Parses a jit report; every line must be exactly what LDD3's printf would print. */
function parseJit(text: string): JitLine[] {
  const lines = text.split('\n');
  expect(lines[0]).toBe(HEADER);
  expect(lines.at(-1)).toBe(''); // ends with a newline
  const body = lines.slice(1, -1);
  expect(body).toHaveLength(6);
  return body.map((line) => {
    const match = /^ *(\d+) +(\d+) +([01]) +(\d+) +(\d+) +(\S+)$/.exec(line);
    expect(match, line).not.toBeNull();
    const [, time, delta, inirq, pid, cpu, comm] = match!;
    const parsed = {
      time: Number(time),
      delta: Number(delta),
      inirq: Number(inirq),
      pid: Number(pid),
      cpu: Number(cpu),
      comm,
    };
    expect(line).toBe(
      sprintf(LDD3_FORMAT, parsed.time, parsed.delta, parsed.inirq, parsed.pid, parsed.cpu, comm),
    );
    return parsed;
  });
}

function checkReport(lines: JitLine[], cpu: number): void {
  const [reader, ...runs] = lines;
  expect(reader).toMatchObject({ delta: 0, inirq: 0, cpu, comm: 'cat' });
  expect(reader.pid).toBeGreaterThanOrEqual(1000);
  expect(runs).toHaveLength(5);
  let prev = reader.time;
  for (const run of runs) {
    expect(run.inirq).toBe(1);
    expect(run.cpu).toBe(cpu); // the tasklet runs where the reader scheduled it
    expect(run.delta).toBe((run.time - prev) >>> 0);
    prev = run.time;
  }
}

describe('/proc/jitasklet on an idle machine', () => {
  let m: Machine;
  beforeAll(async () => {
    m = await bootShared({ modules: [jitModule] });
    await m.readProc('/proc/jitasklet', 0); // warm-up: the first read after boot runs cold code
    await m.readProc('/proc/jitasklethi', 1);
  });
  afterAll(async () => {
    await m.shutdown();
  });

  it('jitasklet: header, the reader line (inirq 0), five tasklet lines (inirq 1) on the reader CPU', async () => {
    const lines = parseJit(await m.readProc('/proc/jitasklet', 0));
    checkReport(lines, 0);
    for (const run of lines.slice(1)) expect(['swapper/0', 'ksoftirqd/0']).toContain(run.comm);
  });

  it('jitasklethi: same shape, high priority, on CPU1', async () => {
    const lines = parseJit(await m.readProc('/proc/jitasklethi', 1));
    checkReport(lines, 1);
    for (const run of lines.slice(1)) expect(['swapper/1', 'ksoftirqd/1']).toContain(run.comm);
  });

  it('/proc/softirqs: kernel layout (20-space header indent, "%12s:" rows, " %10u" per CPU) with the counts', async () => {
    const text = await m.readProc('/proc/softirqs');
    const lines = text.split('\n');
    expect(lines[0]).toBe(`${' '.repeat(20)}CPU0       CPU1       `); // "CPU%-8d", trailing spaces kept
    const names = [
      'HI',
      'TIMER',
      'NET_TX',
      'NET_RX',
      'BLOCK',
      'IRQ_POLL',
      'TASKLET',
      'SCHED',
      'HRTIMER',
      'RCU',
    ];
    expect(lines.slice(1, -1).map((l) => l.slice(0, 13))).toEqual(names.map((n) => `${n.padStart(12)}:`));
    expect(lines.at(-1)).toBe('');
    const counts: Record<string, number[]> = {};
    for (const line of lines.slice(1, -1)) {
      expect(line).toMatch(/^[ A-Z_]{12}:( [ \d]{9}\d){2}$/);
      counts[line.slice(0, 12).trim()] = line.slice(13).trim().split(/ +/).map(Number);
    }
    expect(counts.TASKLET[0]).toBeGreaterThanOrEqual(10); // two jitasklet reads on CPU0
    expect(counts.HI[1]).toBeGreaterThanOrEqual(10); // two jitasklethi reads on CPU1
  });
});

describe('/proc/jitasklet under load', () => {
  it('with a busy cc1 on the CPU the tasklet runs in the context of cc1 and/or ksoftirqd/0', async () => {
    const m = await boot({ modules: [jitModule, loadModule] });
    const cc1 = await m.startTask(0, 'cc1');
    await m.readProc('/proc/jitasklet', 0); // warm-up
    let comms: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const lines = parseJit(await m.readProc('/proc/jitasklet', 0));
      checkReport(lines, 0);
      comms = lines.slice(1).map((l) => l.comm);
      if (comms.every((c) => c === 'cc1' || c === 'ksoftirqd/0')) break;
    }
    expect(
      comms.every((c) => c === 'cc1' || c === 'ksoftirqd/0'),
      comms.join(','),
    ).toBe(true);
    const hi = parseJit(await m.readProc('/proc/jitasklethi', 0));
    checkReport(hi, 0);
    for (const line of hi.slice(1)) {
      if (line.comm === 'cc1') expect(line.pid).toBe(cc1);
    }
  });
});
