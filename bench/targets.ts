/** The targets, checked against a run's results (benchmark figures, not pass/fail tests). */
import type { BenchResults, LatencyRow, TargetCheck, ThroughputRow } from './results.ts';

const M = (n: number): string => `${(n / 1e6).toFixed(2)} M/s`;

export function checkTargets(
  r: Pick<BenchResults, 'throughput' | 'latency' | 'settings' | 'fuzz' | 'boot'>,
): TargetCheck[] {
  const n = r.settings.cpus;
  const find = (workload: string, impl: string, cpus: number): ThroughputRow | undefined =>
    r.throughput.find((t) => t.workload === workload && t.implementation === impl && t.cpus === cpus);
  const local = find('local', 'tasklet-rt', n);
  const piscina = r.throughput.find((t) => t.implementation === 'piscina' && t.cpus === n);
  const one = find('local', 'tasklet-rt', 1);
  const latency = (target: string): LatencyRow | undefined =>
    r.latency.find((l) => l.workload === 'irq→tasklet' && l.target.startsWith(target));
  const checks: TargetCheck[] = [];
  if (local) {
    const perCpu = local.perSecondPerCpu.median;
    checks.push({ name: 'local runs per CPU', goal: '≥ 5 M/s', measured: M(perCpu), met: perCpu >= 5e6 });
  }
  // Under a --load the goal is to keep half the bare ceiling (the bare loop and the runtime both
  // share the host; the runtime must not collapse where the bare loop does not).
  const loaded = r.settings.load !== undefined && r.settings.load !== 'none';
  const goal = loaded ? 0.5 : 0.7;
  for (const cpus of [...new Set([1, n])]) {
    const rt = find('local', 'tasklet-rt', cpus);
    const ceiling = find('local', 'bare', cpus);
    if (!rt || !ceiling) continue;
    const ratio = rt.perSecond.median / ceiling.perSecond.median;
    checks.push({
      name: `local vs bare, ${cpus} CPU${cpus > 1 ? 's' : ''}${loaded ? ' (under --load)' : ''}`,
      goal: `≥ ${goal.toFixed(2)} × bare`,
      measured: `${ratio.toFixed(2)} ×`,
      met: ratio >= goal,
    });
  }
  if (local && piscina && piscina.perSecond.median > 0) {
    const ratio = local.perSecond.median / piscina.perSecond.median;
    checks.push({
      name: 'local vs piscina',
      goal: '≥ 100 × piscina',
      measured: `${ratio.toFixed(0)} ×`,
      met: ratio >= 100,
    });
  }
  if (local && one && n >= 2) {
    const ratio = find('local', 'tasklet-rt', 2)!.perSecond.median / one.perSecond.median;
    checks.push({
      name: 'local scaling 1 → 2 CPUs',
      goal: '≥ 1.8 ×',
      measured: `${ratio.toFixed(2)} ×`,
      met: ratio >= 1.8,
    });
  }
  const busy = latency('busy');
  if (busy) {
    const p50 = busy.p50.median;
    checks.push({
      name: 'irq → tasklet p50, busy',
      goal: '≤ 5 µs',
      measured: `${p50.toFixed(1)} µs`,
      met: p50 <= 5,
    });
  }
  const spin = latency('idle-spin');
  if (spin) {
    const p50 = spin.p50.median;
    checks.push({
      name: 'irq → tasklet p50, idle + spin',
      goal: '≤ 20 µs',
      measured: `${p50.toFixed(1)} µs`,
      met: p50 <= 20,
    });
  }
  for (const f of r.fuzz ?? []) {
    checks.push({
      name: `fuzz programs/s, ${f.mode}, ${f.cpus} CPUs`,
      goal: '≥ 1000 /s',
      measured: `${f.programsPerSecond.toFixed(0)} /s`,
      met: f.programsPerSecond >= 1000,
    });
  }
  for (const b of r.boot ?? []) {
    checks.push({
      name: `boot from the build, ${b.cpus} CPU${b.cpus > 1 ? 's' : ''}`,
      goal: '≤ 100 ms per CPU',
      measured: `${b.msPerCpu.toFixed(0)} ms per CPU`,
      met: b.msPerCpu <= 100,
    });
  }
  return checks;
}
