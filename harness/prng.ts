/** A small seeded PRNG (mulberry32): the seed decides every choice a seed can decide. */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(percent: number): boolean {
    return this.next() * 100 < percent;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}
