/** The stress op mix: relative weights of what each CPU's stress task does next. */
export const OPS = [
  'sched',
  'irq',
  'disable',
  'kill',
  'irqsave',
  'bh',
  'pair',
  'coalesce',
  'racekill',
  'killpair',
  'multidis',
  'trylock',
  'spin',
  'fifo',
  'nosched',
  // Kernel timers and BH work (bh-workload.ts).
  'timer',
  'tsync',
  'work',
  'wsync',
] as const;
export type Op = (typeof OPS)[number];
export type Mix = Record<Op, number>;

export const DEFAULT_MIX: Mix = {
  sched: 30,
  irq: 30,
  disable: 10,
  kill: 5,
  irqsave: 8,
  bh: 8,
  pair: 6,
  coalesce: 3,
  racekill: 3,
  killpair: 2,
  multidis: 3,
  trylock: 3,
  spin: 2,
  fifo: 3,
  nosched: 1,
  timer: 2,
  tsync: 2,
  work: 2,
  wsync: 2,
};

/** The ops of the timer and BH work half (bh-workload.ts). */
export const BH_OPS: readonly Op[] = ['timer', 'tsync', 'work', 'wsync'];

/** `mix` with the timer and BH work ops off: the tasklet workload alone. */
export const taskletOnly = (mix: Mix): Mix => ({
  ...mix,
  ...Object.fromEntries(BH_OPS.map((op) => [op, 0])),
});

/** Parses "sched=40,kill=10": named ops get those weights, the others keep their defaults. */
export function parseMix(text: string): Mix {
  const mix: Mix = { ...DEFAULT_MIX };
  for (const part of text.split(',')) {
    const match = /^\s*([a-z]+)\s*=\s*(\d+)\s*$/.exec(part);
    if (match === null) throw new Error(`--mix entry '${part}' is not NAME=WEIGHT`);
    const [, name, weight] = match;
    if (!(OPS as readonly string[]).includes(name))
      throw new Error(`--mix: unknown op '${name}' (ops: ${OPS.join(', ')})`);
    mix[name as Op] = Number(weight);
  }
  if (OPS.every((op) => mix[op] === 0)) throw new Error('--mix: every weight is 0');
  return mix;
}

/** Picks an op with probability proportional to its weight; `u` is uniform in [0, 1). */
export function pickOp(mix: Mix, u: number): Op {
  const total = OPS.reduce((sum, op) => sum + mix[op], 0);
  let x = u * total;
  for (const op of OPS) {
    x -= mix[op];
    if (x < 0) return op;
  }
  return OPS[OPS.length - 1];
}
