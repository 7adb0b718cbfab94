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
  const offset = claim_module_words(length, 'shared_words');
  if (name !== undefined) allocations.set(name, { offset, length });
  return module_region(offset, length);
}

/** Claims `length` words of the module region; returns their offset in it. */
export function claim_module_words(length: number, caller: string): number {
  if (!Number.isInteger(length) || length <= 0) throw new RangeError(`${caller}: bad length ${length}`);
  if (used + length > MODULE_WORDS) {
    throw new RangeError(`${caller}: modules asked for more than ${MODULE_WORDS} shared words`);
  }
  if (!memory_attached())
    throw new Error(`${caller}: no machine memory is attached (call it from a module file)`);
  const offset = used;
  used += length;
  return offset;
}

/** Names a part of the module region for the controller (Machine.sharedWords). */
export function name_module_words(name: string, offset: number, length: number): void {
  allocations.set(name, { offset, length });
}

/** Named allocations of this thread: name → [offset, length] in the module region. */
export function shared_word_allocations(): Record<string, [number, number]> {
  return Object.fromEntries([...allocations].map(([name, a]) => [name, [a.offset, a.length]]));
}
