// Assertion shared by the config tests: a call fails with config_invalid naming the field.
import assert from 'node:assert/strict';
import { FloeError } from '../../src/errors.js';

export function assertConfigInvalid(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FloeError, String(e));
    assert.equal(e.code, 'config_invalid');
    assert.equal(e.details.field, field);
    assert.match(e.message, message);
    return true;
  });
}
