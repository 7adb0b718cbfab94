/** The counting tools' command line: `--name value` numbers and bare flags. */
export function numberArg(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

export function flag(name: string): boolean {
  return process.argv.includes(name);
}
