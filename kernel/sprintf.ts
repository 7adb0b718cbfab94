/**
 * The subset of C printf that kernel code uses for /proc output: %d %i %u %x %X %s %c %%, with
 * flags '-' and '0', a width, and length modifiers: l, ll, L and z make %u %x %X 64 bits wide
 * (an unsigned long on a 64-bit kernel), h and hh are accepted and ignored.
 */
const SPEC = /%([-0]*)(\d*)(hh|h|ll|l|L|z)?([diuxXsc%])/g;

/** An unsigned value `bits` wide, as a bigint (exact for 64 bits). */
function unsigned(arg: unknown, bits: 32 | 64): bigint {
  const n = Math.trunc(Number(arg));
  return BigInt.asUintN(bits, BigInt(Number.isFinite(n) ? n : 0));
}

export function sprintf(format: string, ...args: unknown[]): string {
  let next = 0;
  return format.replace(
    SPEC,
    (_match, flags: string, width: string, length: string | undefined, conv: string) => {
      const bits = length === 'l' || length === 'll' || length === 'L' || length === 'z' ? 64 : 32;
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
          body = unsigned(arg, bits).toString();
          break;
        case 'x':
          body = unsigned(arg, bits).toString(16);
          break;
        case 'X':
          body = unsigned(arg, bits).toString(16).toUpperCase();
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
    },
  );
}
