/**
 * JSON with exact 64-bit integers. Iceberg metadata carries snapshot ids that exceed 2^53, so metadata is
 * parsed keeping every integer literal longer than 15 digits as a bigint, and serialized with bigints written
 * as bare integer literals. Plain JSON.parse would silently corrupt snapshot ids.
 */
const BIG_INT_DIGITS_MIN = 16;

export function parseJsonExact(text: string): unknown {
  // Replace long integer literals (outside strings) by a tagged string, then revive them.
  // Only whole integer literals: not digits of a fraction or an exponent (lookbehind), not a prefix of one.
  const tagged = text.replace(/("(?:[^"\\]|\\.)*")|(?<![\d.eE+-])(-?\d{16,})(?![\d.eE])/g, (m, str: string | undefined, num: string | undefined) => {
    if (str !== undefined) return str;
    return `"\\u0000big:${num ?? m}"`;
  });
  return JSON.parse(tagged, (_k, v: unknown) => {
    if (typeof v === 'string' && v.startsWith('\u0000big:')) {
      const digits = v.slice(5);
      const b = BigInt(digits);
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) && digits.replace('-', '').length < BIG_INT_DIGITS_MIN ? Number(b) : b;
    }
    return v;
  });
}

export function stringifyJsonExact(value: unknown, indent?: number): string {
  const marks: string[] = [];
  const text = JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === 'bigint') {
        marks.push(v.toString());
        return `\u0000big:${marks.length - 1}`;
      }
      return v;
    },
    indent,
  );
  return text.replace(/"\\u0000big:(\d+)"/g, (_m, i: string) => marks[Number(i)] ?? '0');
}
