import { describe, expect, it } from '@jest/globals';
import { mayHoldUnstorableEscape, storableJson, storableString, storableValue } from './storable-json.js';

describe('storable JSON (what jsonb and text can hold)', () => {
  it('replaces U+0000 and lone surrogates, keeps surrogate pairs', () => {
    expect(storableString('a\u0000b')).toBe('a\ufffdb');
    expect(storableString('x\ud800')).toBe('x\ufffd');
    expect(storableString('\udc00y')).toBe('\ufffdy');
    expect(storableString('\ud800\ud800\udc00')).toBe('\ufffd\ud800\udc00');
    expect(storableString('emoji \ud83d\ude00 ok')).toBe('emoji \ud83d\ude00 ok');
  });

  it('cleans keys and nested values, and says whether anything changed', () => {
    expect(storableValue({ 'k\u0000': ['\ud800', { x: 1, y: null }] })).toEqual({
      'k\ufffd': ['\ufffd', { x: 1, y: null }],
    });
    expect(storableJson({ description: '\ud800' })).toEqual({
      text: '{"description":"\ufffd"}',
      changed: true,
    });
    expect(storableJson({ description: 'plain' })).toEqual({
      text: '{"description":"plain"}',
      changed: false,
    });
    // A literal backslash-u text is already storable: tested, left as it is.
    expect(storableJson({ d: '\\u0000' })).toEqual({ text: '{"d":"\\\\u0000"}', changed: false });
    expect(storableJson(undefined)).toEqual({ text: 'null', changed: false });
  });

  it('spots the escapes in a JSON text', () => {
    expect(mayHoldUnstorableEscape('{"a":"\\u0000"}')).toBe(true);
    expect(mayHoldUnstorableEscape('{"a":"\\uD800"}')).toBe(true);
    expect(mayHoldUnstorableEscape('{"a":"\\u00e9"}')).toBe(false);
  });
});
