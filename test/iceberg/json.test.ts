// Proves exact-integer JSON: 64-bit ids (beyond 2^53) survive parse → stringify digit for digit, while small numbers, strings and structure are untouched.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonExact, stringifyJsonExact } from '../../src/iceberg/json.js';

describe('parseJsonExact / stringifyJsonExact', () => {
  it('parses snapshot ids beyond 2^53 as exact bigints', () => {
    const v = parseJsonExact('{"snapshot-id":9223372036854775807,"parent-snapshot-id":-9223372036854775808,"next":9007199254740993}') as Record<string, unknown>;
    assert.equal(v['snapshot-id'], 9223372036854775807n);
    assert.equal(v['parent-snapshot-id'], -9223372036854775808n);
    // 2^53 + 1: JSON.parse would round it to 9007199254740992
    assert.equal(v.next, 9007199254740993n);
    assert.equal(JSON.parse('9007199254740993'), 9007199254740992);
  });

  it('round-trips compact and indented text exactly', () => {
    const text =
      '{"format-version":2,"current-snapshot-id":3051729675574597004,"snapshots":[{"snapshot-id":3051729675574597004,' +
      '"parent-snapshot-id":1234567890123456789,"sequence-number":1,"timestamp-ms":1515100955770,"summary":{"operation":"append"}}],' +
      '"refs":{"main":{"snapshot-id":3051729675574597004,"type":"branch"}},"neg":-4611686018427387905,"last-column-id":3,"ratio":0.25}';
    assert.equal(stringifyJsonExact(parseJsonExact(text)), text);
    const pretty = stringifyJsonExact(parseJsonExact(text), 2);
    assert.match(pretty, /\n {2}"current-snapshot-id": 3051729675574597004,\n/);
    assert.equal(stringifyJsonExact(parseJsonExact(pretty)), text);
  });

  it('keeps numbers up to 15 digits as plain numbers, 16+ digits as bigints', () => {
    const v = parseJsonExact('{"a":42,"b":-7,"c":1.5,"d":123456789012345,"e":-123456789012345,"f":1000000000000000,"g":0,"h":1e300,"i":-2.5e-3}') as Record<
      string,
      unknown
    >;
    assert.deepEqual(v, { a: 42, b: -7, c: 1.5, d: 123456789012345, e: -123456789012345, f: 1000000000000000n, g: 0, h: 1e300, i: -0.0025 });
    assert.equal(typeof v.d, 'number');
    assert.equal(typeof v.f, 'bigint');
  });

  it('leaves strings that contain long digit runs untouched, including escaped quotes', () => {
    const text = '{"s":"12345678901234567890","t":"id \\"98765432109876543210\\" here","12345678901234567890":"key","u":"\\\\"}';
    const v = parseJsonExact(text) as Record<string, unknown>;
    assert.equal(v.s, '12345678901234567890');
    assert.equal(v.t, 'id "98765432109876543210" here');
    assert.equal(v['12345678901234567890'], 'key');
    assert.equal(v.u, '\\');
    assert.equal(stringifyJsonExact(v), text);
  });

  it('handles big integers inside nested arrays', () => {
    const text = '[[1,18446744073709551615],[[-9223372036854775808]],[],[3,"9223372036854775807"]]';
    const v = parseJsonExact(text);
    assert.deepEqual(v, [[1, 18446744073709551615n], [[-9223372036854775808n]], [], [3, '9223372036854775807']]);
    assert.equal(stringifyJsonExact(v), text);
  });

  it('stringifies bigints as bare integer literals, anywhere in the value', () => {
    assert.equal(stringifyJsonExact(5n), '5');
    assert.equal(stringifyJsonExact({ a: [1n, { b: -(2n ** 63n) }], c: 'x' }), '{"a":[1,{"b":-9223372036854775808}],"c":"x"}');
    assert.equal(stringifyJsonExact([2n ** 64n, null]), '[18446744073709551616,null]');
  });
});

describe('parseJsonExact with long fractions and exponents', () => {
  it('leaves fraction and exponent digits alone', () => {
    const v = parseJsonExact('{"x":0.30000000000000004,"y":12345678901234567890,"z":1e+12345678901234567}') as Record<string, unknown>;
    assert.equal(v.x, 0.30000000000000004);
    assert.equal(v.y, 12345678901234567890n);
    assert.equal(v.z, Infinity);
  });
});
