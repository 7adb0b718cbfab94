/**
 * The bench's fuzz figure (`bench --only fuzz`): a clean campaign's runs per second, from its
 * first progress report (the machine booted, the JIT warm) to its end.
 */
import { runCampaign } from '../harness/fuzz/campaign.ts';
import { controlRequest } from './control-options.ts';

const BENCH_FUZZ_SEED = 11;

export async function fuzzRate(
  controlled: boolean,
  cpus: number,
  ms: number,
): Promise<{ perSecond: number; seconds: number }> {
  let mark: { runs: number; elapsedMs: number } | null = null;
  const result = await runCampaign({
    cpus,
    seed: BENCH_FUZZ_SEED,
    durationMs: ms,
    controlled: controlled ? controlRequest({ controlled: true }, BENCH_FUZZ_SEED) : undefined,
    onProgress: (p) => {
      mark ??= { runs: p.runs, elapsedMs: p.elapsedMs };
    },
  });
  if (result.status !== 'clean')
    throw new Error(`bench fuzz campaign (seed ${BENCH_FUZZ_SEED}) was not clean`);
  // Too short a window after the mark (a slow boot): the whole campaign, boot included.
  const marked = mark as { runs: number; elapsedMs: number } | null;
  const from =
    marked !== null && result.elapsedMs - marked.elapsedMs > 500 ? marked : { runs: 0, elapsedMs: 0 };
  const seconds = (result.elapsedMs - from.elapsedMs) / 1000;
  return { perSecond: (result.runs - from.runs) / Math.max(seconds, 1e-3), seconds };
}
