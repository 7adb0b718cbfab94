/** How the CLI ends: exit codes shared by every command. */
export const EXIT_OK = 0;
export const EXIT_VIOLATION = 1;
export const EXIT_USAGE = 2;
export const EXIT_FAULT = 3;

/** A usage error found after parsing (missing file, bad combination): one line, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function die(message: string, code: number): never {
  process.stderr.write(`tasklet-rt: ${message}\n`);
  process.exit(code);
}
