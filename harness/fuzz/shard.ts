/**
 * Seeds and shards: program number k of a campaign has a seed derived from the campaign seed,
 * and shard i of n owns a contiguous range of program numbers, so CI jobs never overlap.
 */
export interface Shard {
  /** 1-based, like vitest's --shard. */
  index: number;
  count: number;
}

export const WHOLE: Shard = { index: 1, count: 1 };
/** Program numbers a shard owns in a campaign bounded by time rather than a run count. */
export const SHARD_SPAN = 2 ** 24;

/** Parses "i/n"; throws with a message naming the value. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (match === null) throw new Error(`--shard must look like i/n (e.g. 2/4), got '${text}'`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || count > 1024 || index < 1 || index > count)
    throw new Error(`--shard ${text}: need 1 <= i <= n <= 1024`);
  return { index, count };
}

/** Program numbers [first, end) of a shard: a split of `runs`, or a fixed span when unbounded. */
export function shardRange(shard: Shard, runs?: number): { first: number; end: number } {
  if (runs === undefined) return { first: (shard.index - 1) * SHARD_SPAN, end: shard.index * SHARD_SPAN };
  return {
    first: Math.floor(((shard.index - 1) * runs) / shard.count),
    end: Math.floor((shard.index * runs) / shard.count),
  };
}

/** The seed of program number `index` (a 32-bit mix of both). */
export function programSeed(campaignSeed: number, index: number): number {
  let h = (campaignSeed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
