/**
 * Keeping a value's direction to itself inside a line of text (UAX #9 isolates), for every output that
 * puts values into sentences: the receipt PDF (platform/pdf/bidi-text.ts lays its lines out) and the
 * plain-text e-mails (the reader's mail client lays them out).
 */

/** Scripts written right to left. */
export const RIGHT_TO_LEFT_SCRIPT =
  /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}]/u;

/** Characters that make a value right to left: letters of those scripts, and the RLM and ALM marks Intl puts in such text. */
const RIGHT_TO_LEFT = new RegExp(`${RIGHT_TO_LEFT_SCRIPT.source.slice(0, -1)}\\u200f\\u061c]`, 'u');

/**
 * The explicit embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI): each
 * opens or closes a directional context. Inside a value they are not kept: a PDI of its own would close
 * the isolate around it early, and an override after that would reverse the rest of the line (a
 * description or a name is text from users; the marks LRM, RLM and ALM open nothing and stay).
 */
export const EXPLICIT_CONTROL_RANGES = '\\u202a-\\u202e\\u2066-\\u2069';
const EXPLICIT_CONTROL = new RegExp(`[${EXPLICIT_CONTROL_RANGES}]`, 'u');
const EXPLICIT_CONTROLS = new RegExp(`[${EXPLICIT_CONTROL_RANGES}]`, 'gu');

/**
 * `value` isolated from the text around it, with its direction taken from its first strong character
 * (FSI ... PDI, as HTML's `<bdi>`), its own explicit controls dropped. A Hebrew name or an Arabic amount
 * inside an English line is then laid out on its own and does not pull the label's punctuation or a
 * following number into it, nor reach out of the isolate.
 */
export const isolate = (value: string): string => `\u2068${value.replace(EXPLICIT_CONTROLS, '')}\u2069`;

/**
 * `value` isolated when it holds anything right to left or any explicit control, unchanged otherwise:
 * for plain text, where a left-to-right value (an id, a card's last 4, a dollar amount) needs no
 * isolation inside a left-to-right sentence, and invisible characters around it would only come along
 * when it is copied.
 */
export const isolateRightToLeft = (value: string): string =>
  RIGHT_TO_LEFT.test(value) || EXPLICIT_CONTROL.test(value) ? isolate(value) : value;
