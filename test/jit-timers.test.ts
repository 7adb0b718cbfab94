/**
 * The rest of LDD3's jit: /proc/currentime, the delay loops (jitbusy, jitsched, jitqueue,
 * jitschedto) and /proc/jitimer, in LDD3's output formats, with the `delay` and `tdelay`
 * module parameters. Speed is never asserted: only lower bounds and formats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sprintf } from '../kernel/index.ts';
import type { Machine } from '../machine/index.ts';
import { bootShared, jitModule } from './helpers.ts';

const HEADER = '   time   delta  inirq    pid   cpu command';
const DELAY = 6;
const TDELAY = 3;

describe('LDD3 jit: time, delays and the timer', () => {
  let m: Machine;
  beforeAll(async () => {
    m = await bootShared({ modules: [jitModule], params: { 'jit.delay': DELAY, 'jit.tdelay': TDELAY } });
    await m.readProc('/proc/jitimer', 0); // warm-up: the first read after boot runs cold code
  });
  afterAll(async () => {
    await m.shutdown();
  });

  it('/proc/currentime: "0x%08lx 0x%016Lx %10i.%06i" then "%40i.%09i", jiffies and the wall clock', async () => {
    const before = Date.now() / 1000;
    const text = await m.readProc('/proc/currentime', 1);
    const after = Date.now() / 1000;
    const match = /^0x([0-9a-f]{8,}) 0x([0-9a-f]{16}) +(\d+)\.(\d{6})\n +(\d+)\.(\d{9})\n$/.exec(text);
    expect(match, text).not.toBeNull();
    const [, j1, j2, sec1, usec, sec2, nsec] = match!;
    expect(text).toBe(
      sprintf(
        '0x%08lx 0x%016Lx %10i.%06i\n%40i.%09i\n',
        Number.parseInt(j1, 16),
        Number.parseInt(j2, 16),
        Number(sec1),
        Number(usec),
        Number(sec2),
        Number(nsec),
      ),
    );
    expect(Number.parseInt(j2, 16)).toBeGreaterThanOrEqual(Number.parseInt(j1, 16));
    const t1 = Number(sec1) + Number(usec) / 1e6;
    const t2 = Number(sec2) + Number(nsec) / 1e9;
    expect(t1).toBeGreaterThan(before - 1);
    expect(t1).toBeLessThan(after + 1);
    expect(t2).toBeLessThanOrEqual(t1 + 1e-6); // the coarse clock is as of the last tick
  });

  for (const file of ['jitbusy', 'jitsched', 'jitqueue', 'jitschedto']) {
    it(`/proc/${file}: "%9li %9li", at least \`delay\` jiffies apart`, async () => {
      const text = await m.readProc(`/proc/${file}`, 0);
      const match = /^ *(\d+) +(\d+)\n$/.exec(text);
      expect(match, text).not.toBeNull();
      const [j0, j1] = [Number(match![1]), Number(match![2])];
      expect(text).toBe(sprintf('%9li %9li\n', j0, j1));
      expect(j1 - j0).toBeGreaterThanOrEqual(DELAY);
    });
  }

  it('/proc/jitimer: the jitasklet table; five timer runs in softirq context, each tdelay after the last expiry', async () => {
    for (const cpu of [0, 1]) {
      const text = await m.readProc('/proc/jitimer', cpu);
      const lines = text.split('\n');
      expect(lines[0]).toBe(HEADER);
      expect(lines.at(-1)).toBe('');
      const rows = lines.slice(1, -1).map((line) => {
        const match = /^ *(\d+) +(\d+) +([01]) +(\d+) +(\d+) +(\S+)$/.exec(line);
        expect(match, line).not.toBeNull();
        const [, time, delta, inirq, pid, c, comm] = match!;
        const row = {
          time: Number(time),
          delta: Number(delta),
          inirq: Number(inirq),
          pid: Number(pid),
          cpu: Number(c),
          comm,
        };
        expect(line).toBe(
          sprintf(
            '%9li  %3li     %i    %6i   %i   %s',
            row.time,
            row.delta,
            row.inirq,
            row.pid,
            row.cpu,
            comm,
          ),
        );
        return row;
      });
      expect(rows).toHaveLength(6);
      const [reader, ...runs] = rows;
      expect(reader).toMatchObject({ delta: 0, inirq: 0, cpu, comm: 'cat' });
      let prev = reader.time;
      runs.forEach((run, k) => {
        expect(run.inirq).toBe(1);
        expect(run.cpu).toBe(cpu); // add_timer queues on the reader's CPU; the re-arms stay there
        expect(run.delta).toBe(run.time - prev);
        // expires += tdelay: the k-th run is never before the reader's jiffies + (k+1)·tdelay (T2).
        expect(run.time - reader.time).toBeGreaterThanOrEqual((k + 1) * TDELAY);
        prev = run.time;
      });
    }
  });
});

describe('jit parameters', () => {
  it('without parameters: delay is HZ and tdelay 10', async () => {
    const m = await bootShared({ modules: [jitModule], hz: 100 });
    try {
      const text = await m.readProc('/proc/jitschedto', 0);
      const [j0, j1] = text.trim().split(/ +/).map(Number);
      expect(j1 - j0).toBeGreaterThanOrEqual(100);
      const runs = (await m.readProc('/proc/jitimer', 1)).split('\n').slice(2, -1);
      const first = runs.map((l) => Number(l.trim().split(/ +/)[1]));
      expect(first.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(50);
    } finally {
      await m.shutdown();
    }
  });
});
