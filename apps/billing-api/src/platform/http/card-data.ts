// 13-19 digits in a row, not glued to further digits.
const CONTIGUOUS = /(?<!\d)\d{13,19}(?!\d)/g;
// The groupings card numbers are written in: 4-4-4-4 (and 4-4-4-4-3), 4-6-5 (Amex) and 4-6-4 (Diners),
// with spaces or dashes, standing as a word of their own. Requiring a card grouping keeps identifiers
// that merely contain digits and dashes (UUIDs: 8-4-4-4-12) from being mistaken for card numbers.
const GROUPED =
  /(?<![\w-])(?:\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?|\d{4}([ -])\d{6}\2\d{4,5})(?![\w-])/g;

/** Luhn (mod 10) checksum over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Every form above holds eight digits with at most one separator after the first four: a cheap test
 * that lets most text (ids, tokens, headers on every request) skip the two scans below.
 */
const NECESSARY = /\d{4}[ -]?\d{4}/;

/** True when the text holds something that looks like a card number (R-CORE-6). */
export function containsCardNumber(text: string): boolean {
  if (!NECESSARY.test(text)) return false;
  for (const pattern of [CONTIGUOUS, GROUPED]) {
    for (const match of text.matchAll(pattern)) {
      if (luhnValid(match[0].replace(/[ -]/g, ''))) return true;
    }
  }
  return false;
}

/** The text with every card-like number replaced by `[card]` (for log lines written before a refusal). */
export function redactCardNumbers(text: string): string {
  if (!/\d{4}/.test(text)) return text;
  let out = text;
  for (const pattern of [CONTIGUOUS, GROUPED]) {
    out = out.replace(pattern, (match) => (luhnValid(match.replace(/[ -]/g, '')) ? '[card]' : match));
  }
  // Percent-encoded separators (`4242%204242…`) as a path carries them.
  if (out.includes('%')) {
    try {
      const decoded = decodeURIComponent(out);
      if (decoded !== out && containsCardNumber(decoded)) return redactCardNumbers(decoded);
    } catch {
      // not percent-encoding: keep as is
    }
  }
  return out;
}

/**
 * Walks a decoded body or query and returns the path of the first value that looks like a card
 * number, or null. Keys are checked too: a card number is never a legitimate metadata key.
 */
export function findCardNumber(value: unknown, path = '', depth = 0): string | null {
  if (depth > 32) return null;
  if (typeof value === 'string') return containsCardNumber(value) ? path || '(body)' : null;
  if (typeof value === 'number' || typeof value === 'bigint')
    return containsCardNumber(String(value)) ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findCardNumber(value[i], `${path}[${i}]`, depth + 1);
      if (hit !== null) return hit;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const childPath = path ? `${path}.${k}` : k;
      if (containsCardNumber(k)) return childPath;
      const hit = findCardNumber(v, childPath, depth + 1);
      if (hit !== null) return hit;
    }
  }
  return null;
}
