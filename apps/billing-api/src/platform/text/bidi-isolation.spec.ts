import { describe, expect, it } from '@jest/globals';
import { isolate, isolateRightToLeft } from './bidi-isolation.js';

const FSI = '\u2068';
const PDI = '\u2069';

describe('isolateRightToLeft: FSI ... PDI around values that hold right-to-left text', () => {
  it.each<[string, string, boolean]>([
    ['Hebrew letters', 'חנות', true],
    ['Arabic letters', 'متجر', true],
    ['an amount Intl formats for he-IL (RLM, digits, shekel sign)', '\u200f1,234.56\u00a0\u200f₪', true],
    ['Arabic-Indic digits after an ALM', '\u061c١٢٣', true],
    ['Latin text', 'Acme Ltd', false],
    ['a dollar amount', '$1,234.56', false],
    ['an id', 'pi_3Nxyz', false],
    ['a left-to-right mark only', '\u200eabc', false],
  ])('%s', (_name, value, isolated) => {
    expect(isolateRightToLeft(value)).toBe(isolated ? `${FSI}${value}${PDI}` : value);
    expect(isolate(value)).toBe(`${FSI}${value}${PDI}`);
  });

  it.each<[string, string, string]>([
    ['a PDI of its own, which would close the isolate early', 'Order\u2069 42', 'Order 42'],
    ['an override that would reverse the rest of the line', '\u202eOrder 42', 'Order 42'],
    ['a left-to-right override without its pop', '\u202dabc', 'abc'],
    ['embeddings and isolates of every kind', '\u202aa\u202bb\u202cc\u2066d\u2067e\u2068f\u2069', 'abcdef'],
  ])('drops the explicit controls of a value: %s', (_name, value, kept) => {
    expect(isolateRightToLeft(value)).toBe(`${FSI}${kept}${PDI}`);
    expect(isolate(value)).toBe(`${FSI}${kept}${PDI}`);
  });

  it('keeps the marks, which open nothing', () => {
    expect(isolate('\u200fא\u200eb\u061c')).toBe(`${FSI}\u200fא\u200eb\u061c${PDI}`);
  });
});
