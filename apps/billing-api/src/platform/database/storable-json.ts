/**
 * JSON that PostgreSQL can store (issue 16). `jsonb` and `text` refuse U+0000, and `jsonb` refuses a
 * surrogate escape that is not half of a pair (`\ud800`, as a JavaScript string cut inside an emoji
 * holds); `JSON.stringify` writes both as escapes. Such a string is stored with each of those characters
 * replaced by U+FFFD, the Unicode replacement character, rather than not stored at all.
 */

/** A JSON text that may hold an escape `jsonb` refuses (a cheap test: false positives are harmless). */
const SUSPECT_ESCAPE = /\\u(?:0000|d[89a-f])/i;
// eslint-disable-next-line no-control-regex -- U+0000 is what PostgreSQL refuses
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The string with U+0000 and lone surrogates replaced by U+FFFD. */
export function storableString(value: string): string {
  return value.replace(UNSTORABLE, '\ufffd');
}

/** A deep copy of a JSON value with every string (keys included) made storable. */
export function storableValue(value: unknown): unknown {
  if (typeof value === 'string') return storableString(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(storableValue);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>))
    out[storableString(k)] = storableValue(v);
  return out;
}

/**
 * The JSON text of a value, made storable when it has to be; `changed` says whether it was. Costs one
 * regular-expression test over the text when nothing needs changing.
 */
export function storableJson(value: unknown): { text: string; changed: boolean } {
  const text = JSON.stringify(value ?? null);
  if (!SUSPECT_ESCAPE.test(text)) return { text, changed: false };
  const clean = JSON.stringify(storableValue(JSON.parse(text)));
  return { text: clean, changed: clean !== text };
}

/** Whether a JSON text (e.g. a webhook's body) may hold an escape `jsonb` refuses. */
export function mayHoldUnstorableEscape(jsonText: string): boolean {
  return SUSPECT_ESCAPE.test(jsonText);
}
