import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { canonicalJson, requestFingerprint } from './canonical-json.js';

describe('canonicalJson', () => {
  it('is independent of key order at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
  });

  it('parses back to the same value for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(JSON.parse(canonicalJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });

  it('gives different fingerprints for different bodies, methods or paths', () => {
    const base = requestFingerprint('POST', '/v1/x', { amount: 5000 });
    expect(requestFingerprint('post', '/v1/x', { amount: 5000 })).toBe(base);
    expect(requestFingerprint('POST', '/v1/x', { amount: 5001 })).not.toBe(base);
    expect(requestFingerprint('PATCH', '/v1/x', { amount: 5000 })).not.toBe(base);
    expect(requestFingerprint('POST', '/v1/y', { amount: 5000 })).not.toBe(base);
  });
});
