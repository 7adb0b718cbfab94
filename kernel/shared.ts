/**
 * Shared state for modules: words claimed at module load, in load order, so every CPU gets the
 * same offsets (a module's global variables, which every CPU of a real machine shares). A name
 * lets the controller find them (Machine.sharedWords): each CPU reports its allocations at boot.
 */

import { memory_attached, module_region } from '../shm/door.ts';
import { MODULE_WORDS } from '../shm/layout.ts';

let used = 0;
const allocations = new Map<string, { offset: number; length: number }>();

/** Claims `length` zeroed words of shared memory; call it at module top level. */
export function shared_words(length: number, name?: string): Int32Array {
  if (!Number.isInteger(length) || length <= 0) throw new RangeError(`shared_words: bad length ${length}`);
  if (used + length > MODULE_WORDS) {
    throw new RangeError(`shared_words: modules asked for more than ${MODULE_WORDS} shared words`);
  }
  if (!memory_attached())
    throw new Error('shared_words: no machine memory is attached (call it from a module file)');
  const view = module_region(used, length);
  if (name !== undefined) allocations.set(name, { offset: used, length });
  used += length;
  return view;
}

/** Named allocations of this thread: name → [offset, length] in the module region. */
export function shared_word_allocations(): Record<string, [number, number]> {
  return Object.fromEntries([...allocations].map(([name, a]) => [name, [a.offset, a.length]]));
}
