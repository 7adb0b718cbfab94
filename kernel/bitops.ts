/**
 * The atomic bit operations (include/asm-generic/bitops/atomic.h) on one field of a module's
 * shared data, the word a driver keeps its flags in: `set_bit(DEV_RUNNING, dev, 'flags')` for
 * the kernel's `set_bit(DEV_RUNNING, &dev->flags)`. A field is 32 bits wide, so `nr` is 0..31.
 * Each is one Atomics read-modify-write, an interrupt point and a KASAN-checked access.
 */
import {
  clear_bit as door_clear_bit,
  set_bit as door_set_bit,
  test_and_clear_bit as door_test_and_clear_bit,
  test_and_set_bit as door_test_and_set_bit,
  test_bit as door_test_bit,
} from '../shm/door.ts';
import { field_word, type SharedObject } from './shared-data.ts';

function bit(nr: number, obj: SharedObject<string>): number {
  if (!Number.isInteger(nr) || nr < 0 || nr > 31)
    throw new RangeError(`bit ${nr} of a struct ${obj.type.name} field: a field has bits 0 to 31`);
  return nr;
}

export function set_bit<K extends string>(nr: number, obj: SharedObject<K>, field: K): void {
  door_set_bit(bit(nr, obj), field_word(obj, field, true));
}

export function clear_bit<K extends string>(nr: number, obj: SharedObject<K>, field: K): void {
  door_clear_bit(bit(nr, obj), field_word(obj, field, true));
}

export function test_bit<K extends string>(nr: number, obj: SharedObject<K>, field: K): boolean {
  return door_test_bit(bit(nr, obj), field_word(obj, field, false));
}

/** Returns the bit's old value. */
export function test_and_set_bit<K extends string>(nr: number, obj: SharedObject<K>, field: K): boolean {
  return door_test_and_set_bit(bit(nr, obj), field_word(obj, field, true));
}

/** Returns the bit's old value. */
export function test_and_clear_bit<K extends string>(nr: number, obj: SharedObject<K>, field: K): boolean {
  return door_test_and_clear_bit(bit(nr, obj), field_word(obj, field, true));
}
