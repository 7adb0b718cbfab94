/**
 * The disable count's bounds (harness/oracles/disable-count.ts, G8): the stress drain and the
 * stuck-machine diagnosis judge a tasklet's count against the disables and enables the harness
 * made. Here the "count" is a plain variable standing for t->count.
 */
import { describe, expect, it } from 'vitest';
import { count_in_bounds, counted_disable, counted_enable } from '../harness/oracles/disable-count.ts';
import { shadowWords } from '../harness/oracles/shadow.ts';

describe('disable count bounds', () => {
  const fresh = () => new Int32Array(shadowWords(1));

  it('a count that follows every disable and enable stays in bounds, also mid-call', () => {
    const sh = fresh();
    let count = 0;
    counted_disable(sh, 0, () => {
      // Inside a disable: the count may be read before or after its increment.
      expect(count_in_bounds(sh, 0, 't0', () => count)).toBeNull();
      count++;
      expect(count_in_bounds(sh, 0, 't0', () => count)).toBeNull();
    });
    counted_disable(sh, 0, () => count++);
    expect(count_in_bounds(sh, 0, 't0', () => count)).toBeNull();
    counted_enable(sh, 0, () => count--);
    counted_enable(sh, 0, () => count--);
    expect(count).toBe(0);
    expect(count_in_bounds(sh, 0, 't0', () => count)).toBeNull();
  });

  it('two disables that raise the count once (a lost update) leave it out of bounds, and the enables then take it below', () => {
    const sh = fresh();
    let count = 0;
    const read = count;
    counted_disable(sh, 0, () => {
      count = read + 1;
    });
    counted_disable(sh, 0, () => {
      count = read + 1; // read before the other disable wrote
    });
    const held = count_in_bounds(sh, 0, 't0', () => count);
    expect(held?.oracle).toBe('disabled');
    expect(held?.guarantee).toBe(8);
    expect(held?.message).toBe(
      "t0's disable count is 1, but its disables and enables so far leave it 2: an update of the count was lost",
    );
    counted_enable(sh, 0, () => count--);
    counted_enable(sh, 0, () => count--);
    expect(count_in_bounds(sh, 0, 't0', () => count)?.message).toMatch(/count is -1, but .* leave it 0:/);
  });

  it('judges nothing when a disable or enable starts or returns while the count is read', () => {
    const sh = fresh();
    let count = 5; // far off, but the bounds move during the read
    expect(
      count_in_bounds(sh, 0, 't0', () => {
        counted_disable(sh, 0, () => count++);
        return count;
      }),
    ).toBeNull();
  });
});
