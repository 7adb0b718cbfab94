/** The targets, checked against a run's results (benchmark figures, not pass/fail tests). */
import type { BenchResults, LatencyRow, TargetCheck, ThroughputRow } from './results.ts';

const M = (n: number): string => `${(n / 1e6).toFixed(2)} M/s`;

export function checkTargets(r: Pick<BenchResults, 'throughput' | 'latency' | 'settings'>): TargetCheck[] {
  const n = r.settings.cpus;
  const find = (workload: string, impl: string, cpus: number): ThroughputRow | undefined =>
    r.throughput.find((t) => t.workload === workload && t.implementation === impl && t.cpus === cpus);
  const local = find('local', 'tasklet-rt', n);
  const bare = find('local', 'bare', n);
  const piscina = r.throughput.find((t) => t.implementation === 'piscina' && t.cpus === n);
  const one = find('local', 'tasklet-rt', 1);
  const latency = (target: string): LatencyRow | undefined =>
    r.latency.find((l) => l.workload === 'irq→tasklet' && l.target.startsWith(target));
  const checks: TargetCheck[] = [];
  if (local) {
    const perCpu = local.perSecondPerCpu.median;
    checks.push({ name: 'local runs per CPU', goal: '≥ 5 M/s', measured: M(perCpu), met: perCpu >= 5e6 });
  }
  if (local && bare) {
    const ratio = local.perSecond.median / bare.perSecond.median;
    checks.push({
      name: 'local vs bare',
      goal: '≥ 0.70 × bare',
      measured: `${ratio.toFixed(2)} ×`,
      met: ratio >= 0.7,
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
  return checks;
}
