import { formatMoney, money } from '@billing/domain';
import PDFDocument from 'pdfkit';
import { writeBidiLine } from '../../platform/pdf/bidi-text.js';
import { isolate } from '../../platform/text/bidi-isolation.js';
import type { PdfFont } from '../../platform/pdf/pdf-font.js';
import { formatDateTime } from '../../platform/text/format-date-time.js';
import type { ReceiptView } from './contracts/receipt.view.js';

export interface ReceiptDocument {
  receipt: ReceiptView;
  /** The business the receipt is from (as issued: see ReceiptView.merchant). */
  merchant: { name: string; address: string[] };
  customer: { name: string; email: string };
  locale: string;
  timeZone: string;
  description: string | null;
  refunds: { amount: number; currency: string; status: string; createdAt: string }[];
}

export interface RenderedReceipt {
  pdf: Buffer;
  /** Characters of the receipt's text that the font could not show (printed as `?`), each once. */
  missing: string[];
}

/**
 * Renders a receipt as PDF with pdfkit (R-PAY-4): merchant and its address, number, date in the
 * account's time zone, amount formatted for its locale, method brand and last 4, and the payment's refunds.
 * Set in `font` (embedded, only the glyphs used), exactly as Intl formats amounts and dates (no-break
 * spaces and currency signs included), right-to-left text in its reading order (UAX #9, see
 * platform/pdf/bidi-text.ts); what the font cannot show is reported in `missing`.
 * `compress: false` keeps the content streams readable (tests extract the text).
 */
export async function renderReceiptPdf(
  doc: ReceiptDocument,
  font: PdfFont,
  options: { compress?: boolean } = {},
): Promise<RenderedReceipt> {
  const { receipt, locale, timeZone } = doc;
  const missing = new Set<string>();
  const show = (text: string): string => {
    const printable = font.printable(text);
    for (const char of printable.missing) missing.add(char);
    return printable.text;
  };
  const amount = (minor: number, currency: string): string => formatMoney(money(minor, currency), locale);
  const pdf = new PDFDocument({
    size: 'A4',
    margin: 56,
    compress: options.compress ?? true,
    info: {
      Title: `Receipt ${receipt.number}`,
      Author: doc.merchant.name,
      CreationDate: new Date(receipt.issuedAt),
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  pdf.registerFont('receipt', font.source);
  pdf.font('receipt');
  // Every line goes through the bidirectional layout: a value (name, address, date, amount) is isolated
  // from its English label, so that Hebrew or Arabic reads in its own order inside the line.
  const line = (text: string, direction: 'ltr' | 'auto' = 'ltr'): void => writeBidiLine(pdf, text, direction);
  const value = (text: string): string => isolate(show(text));
  pdf.fontSize(20);
  line(show(doc.merchant.name), 'auto');
  pdf.fontSize(10);
  for (const addressLine of doc.merchant.address) line(show(addressLine), 'auto');
  pdf.moveDown(0.5).fontSize(14);
  line(`Receipt #${receipt.number}`);
  pdf.moveDown().fontSize(11);
  line(`Date: ${value(formatDateTime(receipt.issuedAt, locale, timeZone))}`);
  line(`Billed to: ${value(doc.customer.name)} <${value(doc.customer.email)}>`);
  line(`Payment: ${receipt.paymentId}`);
  if (doc.description) line(`Description: ${value(doc.description)}`);
  if (receipt.methodBrand || receipt.methodLast4) {
    line(`Paid with: ${value(receipt.methodBrand ?? 'card')} ending in ${receipt.methodLast4 ?? '????'}`);
  }
  pdf.moveDown().fontSize(14);
  line(`Amount paid: ${value(amount(receipt.amount, receipt.currency))}`);
  if (doc.refunds.length > 0) {
    pdf.moveDown().fontSize(12);
    line('Refunds');
    pdf.fontSize(11);
    for (const r of doc.refunds) {
      line(
        `${value(formatDateTime(r.createdAt, locale, timeZone))}  ${value(amount(r.amount, r.currency))}  (${r.status})`,
      );
    }
  }
  pdf.end();
  return { pdf: await done, missing: [...missing] };
}
