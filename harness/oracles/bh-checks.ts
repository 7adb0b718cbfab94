/**
 * Timer and BH work checks that stress (harness/stress/bh-*.ts) and fuzz (harness/fuzz/bh-*.ts)
 * share. Both keep one record per timer or work item in the layout of harness/stress/bh-shadow.ts
 * (the fields R.*), in words of their own; `base` is a record's first word. CPU side only.
 */
import { nr_cpu_ids } from 'tasklet-rt';
import { R } from '../stress/bh-shadow.ts';
import { offlineCount } from './cpu-context.ts';
import { type OracleName, type Violation, violation } from './guarantees.ts';

/** Offline events of every CPU but `cpu` so far. */
export function othersOffline(cpu: number): number {
  let n = 0;
  for (let c = 0; c < nr_cpu_ids(); c++) if (c !== cpu) n += offlineCount(c);
  return n;
}

/**
 * At a run start of the timer or work item whose record starts at `base`: where it was armed or
 * queued for a CPU (R.ExpectCpu, with that CPU's offline count and the other CPUs' together),
 * it runs there while that CPU stays online; after an unplug of that CPU it belongs to the heir,
 * and is back on that CPU only if an heir went offline in turn (the heir's timers and work go
 * to a live CPU, which may be the first one).
 */
export function check_placement(
  bh: Int32Array,
  base: number,
  cpu: number,
  oracle: OracleName,
  name: string,
  verb: 'armed' | 'queued',
): Violation | null {
  const expect = Atomics.exchange(bh, base + R.ExpectCpu, 0) - 1;
  if (expect < 0) return null;
  const unplugged = offlineCount(expect) !== Atomics.load(bh, base + R.ExpectOffline);
  if (!unplugged && cpu !== expect)
    return violation(
      oracle,
      -1,
      [expect, cpu],
      `${name}: ${verb} on CPU${expect} (online since) but ran on CPU${cpu}`,
    );
  const heirUnplugged = othersOffline(expect) !== Atomics.load(bh, base + R.ExpectOthersOffline);
  if (unplugged && cpu === expect && !heirUnplugged)
    return violation(
      oracle,
      -1,
      [cpu],
      `${name}: ${verb} on CPU${cpu}, which went offline before it ran (and no other CPU did), yet it ran there once the CPU was back (not moved to a live CPU)`,
    );
  return null;
}

/** Lowers the timer's "earliest expiry armed since the last judged fire" (0: none; an expiry of 0 counts as -1). */
export function record_min(bh: Int32Array, base: number, expires: number): void {
  const e = expires | 0 || -1;
  const at = base + R.MinExpires;
  for (;;) {
    const cur = Atomics.load(bh, at);
    if (cur !== 0 && ((cur - e) | 0) <= 0) return;
    if (Atomics.compareExchange(bh, at, cur, e) === cur) return;
  }
}

/**
 * At a timer's fire, jiffies `now` (T2): it must not come before the earliest expiry armed since
 * the last judged fire. Judged only when no arming call is half-way (its expiry may not be in
 * place yet); a judged fire takes the bound back.
 */
export function check_fire_time(
  bh: Int32Array,
  base: number,
  now: number,
  cpu: number,
  name: string,
): Violation | null {
  if (Atomics.load(bh, base + R.ArmIn) !== 0) return null;
  const min = Atomics.exchange(bh, base + R.MinExpires, 0);
  if (min === 0 || ((now - min) | 0) >= 0) return null;
  return violation(
    'timer-early',
    -1,
    [cpu],
    `${name}: callback ran at jiffies ${now} but the earliest expiry armed was ${(now - ((now - min) | 0)) >>> 0}`,
  );
}

/** At a callback's entry (T1, W1): takes the record's Inside word, or reports who holds it. */
export function enter_callback(
  bh: Int32Array,
  base: number,
  cpu: number,
  oracle: OracleName,
  what: string,
): Violation | null {
  const other = Atomics.compareExchange(bh, base + R.Inside, 0, cpu + 1);
  if (other === 0) return null;
  return violation(
    oracle,
    -1,
    [other - 1, cpu],
    `${what} on CPU${cpu} while it was running on CPU${other - 1}`,
  );
}

/** Raises word `at` to at least `value`. */
export function atomic_max(words: Int32Array, at: number, value: number): void {
  for (let cur = Atomics.load(words, at); cur < value; cur = Atomics.load(words, at))
    if (Atomics.compareExchange(words, at, cur, value) === cur) return;
}
