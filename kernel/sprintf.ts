/**
 * The subset of C printf that kernel code uses for /proc output: %d %i %u %x %X %s %c %%, with
 * flags '-' and '0', a width, and length modifiers (l, ll, h, z) that are accepted and ignored.
 */
const SPEC = /%([-0]*)(\d*)(?:hh|h|ll|l|z)?([diuxXsc%])/g;

export function sprintf(format: string, ...args: unknown[]): string {
  let next = 0;
  return format.replace(SPEC, (_match, flags: string, width: string, conv: string) => {
    if (conv === '%') return '%';
    if (next >= args.length)
      throw new Error(`sprintf: format "${format}" needs more arguments than the ${args.length} given`);
    const arg = args[next++];
    let body: string;
    switch (conv) {
      case 'd':
      case 'i':
        body = String(Math.trunc(Number(arg)));
        break;
      case 'u':
        body = String(Math.trunc(Number(arg)) >>> 0);
        break;
      case 'x':
        body = (Number(arg) >>> 0).toString(16);
        break;
      case 'X':
        body = (Number(arg) >>> 0).toString(16).toUpperCase();
        break;
      case 'c':
        body = typeof arg === 'number' ? String.fromCharCode(arg) : String(arg).charAt(0);
        break;
      default:
        body = String(arg);
    }
    const w = width === '' ? 0 : Number(width);
    if (body.length >= w) return body;
    if (flags.includes('-')) return body.padEnd(w);
    if (flags.includes('0') && conv !== 's' && conv !== 'c') {
      const negative = body.startsWith('-');
      const digits = negative ? body.slice(1) : body;
      return (negative ? '-' : '') + digits.padStart(w - (negative ? 1 : 0), '0');
    }
    return body.padStart(w);
  });
}
