/** Output files are checked before a run starts, so a long run never ends in "cannot write". */
import { accessSync, constants, existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors.ts';

export function checkWritable(flag: string, file: string | undefined): void {
  if (file === undefined) return;
  const path = resolve(file);
  if (existsSync(path) && statSync(path).isDirectory())
    throw new UsageError(`${flag} ${file}: is a directory`);
  const dir = dirname(path);
  if (!existsSync(dir)) throw new UsageError(`${flag} ${file}: directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${flag} ${file}: ${dir} is not a directory`);
  try {
    accessSync(existsSync(path) ? path : dir, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${file}: not writable`);
  }
}

export function writeOutput(file: string | undefined, text: string): void {
  if (file !== undefined) writeFileSync(file, text);
}

/** The output directory must exist as a writable directory, or be creatable. */
export function checkOutputDir(flag: string, dir: string): void {
  let path = resolve(dir);
  if (existsSync(path) && !statSync(path).isDirectory())
    throw new UsageError(`${flag} ${dir}: not a directory`);
  while (!existsSync(path)) path = dirname(path);
  if (!statSync(path).isDirectory()) throw new UsageError(`${flag} ${dir}: ${path} is not a directory`);
  try {
    accessSync(path, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${dir}: ${path} is not writable`);
  }
}
