// A run of 13-19 digits, optionally grouped by single spaces or dashes ("4242 4242 4242 4242"), not
// glued to further digits on either side.
const CANDIDATE = /(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])/g;

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

/** True when the text holds something that looks like a card number (R-CORE-6). */
export function containsCardNumber(text: string): boolean {
  for (const match of text.matchAll(CANDIDATE)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && luhnValid(digits)) return true;
  }
  return false;
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
