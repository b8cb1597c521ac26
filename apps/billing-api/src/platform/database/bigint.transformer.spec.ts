import { describe, expect, it } from '@jest/globals';
import { bigintFromDatabase, bigintToDatabase, nullableBigintTransformer } from './bigint.transformer.js';

describe('bigint column transformer', () => {
  it('round-trips safe integers through their string form', () => {
    for (const n of [0, 1, -1, 5000, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      expect(bigintFromDatabase(bigintToDatabase(n))).toBe(n);
    }
  });

  it.each([null, undefined, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1, '12', {}])(
    'refuses to write %p',
    (v) => {
      expect(() => bigintToDatabase(v)).toThrow(TypeError);
    },
  );

  it.each([null, '9007199254740993', '1.5', 'abc', ''])('refuses to read %p', (v) => {
    expect(() => bigintFromDatabase(v)).toThrow(TypeError);
  });

  it('keeps NULL only in the nullable variant', () => {
    expect(nullableBigintTransformer.from(null)).toBeNull();
    expect(nullableBigintTransformer.to(null)).toBeNull();
    expect(nullableBigintTransformer.from('42')).toBe(42);
  });
});
