// Shared fixtures: a schema with every primitive type, rows with edge values, and writer settings helpers.
import { randomUUID } from 'node:crypto';
import { schemaFromDecls, type Schema } from '../../src/iceberg/schema.js';
import { T } from '../../src/iceberg/types.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import type { Row } from '../../src/iceberg/scan.js';

/** Every primitive type; `time: false` leaves out the time column (Spark 4.1 cannot load tables that have one). */
export function allTypesSchema(opts: { time?: boolean } = {}): Schema {
  const withTime = opts.time ?? true;
  return schemaFromDecls(
    [
      { name: 'id', type: T.long, required: true },
      { name: 'b', type: T.boolean },
      { name: 'i', type: T.int },
      { name: 'l', type: T.long },
      { name: 'f', type: T.float },
      { name: 'd', type: T.double },
      { name: 'dec', type: T.decimal(38, 10) },
      { name: 'dt', type: T.date },
      ...(withTime ? [{ name: 'tm', type: T.time }] : []),
      { name: 'ts', type: T.timestamp },
      { name: 'tstz', type: T.timestamptz },
      { name: 's', type: T.string },
      { name: 'u', type: T.uuid },
      { name: 'bin', type: T.binary },
      { name: 'fx', type: T.fixed(4) },
      { name: 'region', type: T.string },
    ],
    ['id'],
  );
}

function uuidBytes(): Uint8Array {
  return Uint8Array.from(Buffer.from(randomUUID().replace(/-/g, ''), 'hex'));
}

const regions = ['eu', 'us', 'ap'];

/** Row `n` with edge values sprinkled in: nulls, extremes, pre-1970 and post-2038 times, non-BMP text. */
export function allTypesRow(n: number): Row {
  const id = BigInt(n);
  if (n % 11 === 5) {
    // all optional columns null
    return { id, b: null, i: null, l: null, f: null, d: null, dec: null, dt: null, tm: null, ts: null, tstz: null, s: null, u: null, bin: null, fx: null, region: regions[n % 3] ?? null };
  }
  const edge = n % 7;
  return {
    id,
    b: n % 2 === 0,
    i: edge === 1 ? 2147483647 : edge === 2 ? -2147483648 : n * 3 - 50,
    l: edge === 1 ? 9223372036854775807n : edge === 2 ? -9223372036854775808n : BigInt(n) * 1_000_000_007n,
    f: edge === 3 ? 3.4028234663852886e38 : n + 0.25,
    d: edge === 3 ? -1.7976931348623157e308 : n / 8 - 3.5,
    dec: edge === 4 ? 99999999999999999999999999999999999999n : edge === 5 ? -12345678901234567890123456789n : BigInt(n) * 1_000_000_001n,
    dt: edge === 6 ? -25567 + n : 19_000 + n, // 1900-01-01+n / 2022+
    tm: BigInt(n % 86_400) * 1_000_000n + 123_456n,
    ts: edge === 6 ? -1_000_000_000_000_001n : 2_200_000_000_000_000n + BigInt(n), // 1938, 2039
    tstz: 1_700_000_000_000_000n + BigInt(n) * 1_000_001n,
    s: edge === 2 ? '' : edge === 3 ? `émoji 🧊 ${n}` : `name-${n}`,
    u: uuidBytes(),
    bin: edge === 4 ? new Uint8Array(0) : Uint8Array.from([n & 255, 0, 255]),
    fx: Uint8Array.from([1, 2, 3, n & 255]),
    region: regions[n % 3] ?? null,
  };
}

export function rowValues(schema: Schema, row: Row): (IcebergValue | null)[] {
  return schema.fields.map((f) => row[f.name] ?? null);
}
