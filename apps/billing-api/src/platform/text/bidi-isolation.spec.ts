import { describe, expect, it } from '@jest/globals';
import { isolate, isolateRightToLeft } from './bidi-isolation.js';

describe('isolateRightToLeft: FSI ... PDI around values that hold right-to-left text', () => {
  it.each<[string, string, boolean]>([
    ['Hebrew letters', 'חנות', true],
    ['Arabic letters', 'متجر', true],
    ['an amount Intl formats for he-IL (RLM, digits, shekel sign)', '\u200f1,234.56\u00a0\u200f₪', true],
    ['Arabic-Indic digits after an ALM', '\u061c١٢٣', true],
    ['a right-to-left override', '\u202eabc\u202c', true],
    ['Latin text', 'Acme Ltd', false],
    ['a dollar amount', '$1,234.56', false],
    ['an id', 'pi_3Nxyz', false],
    ['a left-to-right mark only', '\u200eabc', false],
  ])('%s', (_name, value, isolated) => {
    expect(isolateRightToLeft(value)).toBe(isolated ? `\u2068${value}\u2069` : value);
    expect(isolate(value)).toBe(`\u2068${value}\u2069`);
  });
});
