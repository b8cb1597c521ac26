import { EXPLICIT_CONTROL_RANGES, isolateRightToLeft } from '../../../platform/text/bidi-isolation.js';
import { escapeHtml } from '../../../platform/text/escape-html.js';

/**
 * One description of an e-mail, two renderings (R-NOT-2): a template says what the mail holds (its
 * subject, paragraphs, label/value facts and links) as data, and this file writes it as plain text and
 * as HTML, so that the two versions never drift apart and escaping is done in one place.
 *
 * A line keeps apart the template's own words (English, left to right) and the values put into them
 * (amounts, dates, names: text from users, or formatted for a right-to-left locale). In the text
 * version a value that holds right-to-left text is isolated (FSI … PDI, see platform/text); in the HTML
 * version every value is a `<bdi>` element, the same rule in HTML's own terms, and is escaped.
 */

/** A value put into a line. */
export interface Value {
  readonly value: string;
}
export type Segment = string | Value;
export type Line = readonly Segment[];

/** A line from a template literal: `line\`Paid ${amount} to ${merchant}.\`` (each `${}` is a value). */
export function line(strings: TemplateStringsArray, ...values: (string | number)[]): Line {
  const out: Segment[] = [];
  strings.forEach((literal, i) => {
    if (literal) out.push(literal);
    if (i < values.length) out.push({ value: String(values[i]) });
  });
  return out;
}

/** A link the reader acts on: the pay-now page of an invoice, or the account's billing page. */
export interface MailAction {
  label: string;
  url: string;
}

export type MailBlock =
  | { readonly kind: 'paragraph'; readonly line: Line }
  | { readonly kind: 'facts'; readonly rows: readonly (readonly [label: string, value: Line])[] }
  | { readonly kind: 'actions'; readonly actions: readonly MailAction[] };

/** What a template returns: the mail as data. */
export interface MailContent {
  subject: Line;
  blocks: readonly MailBlock[];
}

export const paragraph = (l: Line): MailBlock => ({ kind: 'paragraph', line: l });
export const facts = (...rows: (readonly [string, Line] | null | false)[]): MailBlock => ({
  kind: 'facts',
  rows: rows.filter((r): r is readonly [string, Line] => Boolean(r)),
});
/** Links; one whose URL is not http(s) (an unset or odd value) is left out rather than sent broken. */
export const actions = (...list: (MailAction | null)[]): MailBlock => ({
  kind: 'actions',
  actions: list.filter((a): a is MailAction => a !== null && /^https?:\/\//i.test(a.url)),
});

/** The footer of a reminder: where to unsubscribe from it (R-NOT-3). */
export interface MailFooter {
  unsubscribeUrl?: string;
}

function textOf(l: Line): string {
  return l.map((s) => (typeof s === 'string' ? s : isolateRightToLeft(s.value))).join('');
}

/** The subject line (values isolated as in the text version). */
export function subjectText(content: MailContent): string {
  return textOf(content.subject);
}

/** The plain-text version: blocks separated by a blank line, facts as `Label: value`, links as `Label: URL`. */
export function renderText(content: MailContent, footer: MailFooter = {}): string {
  const blocks = content.blocks
    .map((block) => {
      switch (block.kind) {
        case 'paragraph':
          return textOf(block.line);
        case 'facts':
          return block.rows.map(([label, value]) => `${label}: ${textOf(value)}`).join('\n');
        case 'actions':
          return block.actions.map((a) => `${a.label}: ${a.url}`).join('\n');
      }
    })
    .filter((text) => text.length > 0);
  if (footer.unsubscribeUrl) blocks.push(`Unsubscribe from these reminders: ${footer.unsubscribeUrl}`);
  return blocks.join('\n\n');
}

const EXPLICIT_CONTROLS = new RegExp(`[${EXPLICIT_CONTROL_RANGES}]`, 'gu');

function htmlOf(l: Line): string {
  return l
    .map((s) =>
      typeof s === 'string'
        ? escapeHtml(s)
        : // The explicit direction controls a value may carry are dropped as in the text version.
          `<bdi>${escapeHtml(s.value.replace(EXPLICIT_CONTROLS, ''))}</bdi>`,
    )
    .join('');
}

const FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const TEXT = `${FONT};font-size:16px;line-height:1.5;color:#18181b`;

/**
 * The HTML version: one self-contained document (inline styles, no images, scripts or remote assets:
 * nothing is fetched when it is opened), in the language of its sentences, with a heading, real
 * paragraphs, a table of facts whose labels are row headers, and links whose text says where they lead
 * (the colours keep a contrast above 4.5:1).
 */
export function renderHtml(content: MailContent, footer: MailFooter = {}): string {
  const subject = htmlOf(content.subject);
  const body = content.blocks
    .map((block) => {
      switch (block.kind) {
        case 'paragraph':
          return `<p style="margin:0 0 16px;${TEXT}">${htmlOf(block.line)}</p>`;
        case 'facts':
          if (block.rows.length === 0) return '';
          return [
            '<table style="border-collapse:collapse;margin:0 0 16px">',
            ...block.rows.map(
              ([label, value]) =>
                `<tr><th scope="row" style="text-align:left;padding:4px 16px 4px 0;${FONT};font-size:14px;font-weight:600;color:#3f3f46;vertical-align:top">${escapeHtml(label)}</th>` +
                `<td style="padding:4px 0;${FONT};font-size:14px;color:#18181b">${htmlOf(value)}</td></tr>`,
            ),
            '</table>',
          ].join('\n');
        case 'actions':
          return block.actions
            .map(
              (a) =>
                `<p style="margin:0 0 16px"><a href="${escapeHtml(a.url)}" style="display:inline-block;padding:12px 20px;border-radius:6px;background:#1d4ed8;color:#ffffff;text-decoration:none;font-weight:600;${FONT};font-size:16px">${escapeHtml(a.label)}</a></p>`,
            )
            .join('\n');
      }
    })
    .filter((html) => html.length > 0);
  const unsubscribe = footer.unsubscribeUrl
    ? `\n<p style="margin:24px 0 0;${FONT};font-size:13px;color:#52525b">You receive this reminder because reminders are on for this account. <a href="${escapeHtml(footer.unsubscribeUrl)}" style="color:#1d4ed8">Unsubscribe from these reminders</a>.</p>`
    : '';
  return `<!DOCTYPE html>
<html lang="en" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${subject.replace(/<\/?bdi>/g, '')}</title>
</head>
<body style="margin:0;padding:0;background:#f4f4f5">
<div role="article" aria-roledescription="email" aria-label="${escapeHtml(subjectText(content))}" style="max-width:600px;margin:0 auto;padding:24px;background:#ffffff">
<h1 style="margin:0 0 16px;${FONT};font-size:20px;line-height:1.3;color:#18181b">${subject}</h1>
${body.join('\n')}${unsubscribe}
</div>
</body>
</html>
`;
}
