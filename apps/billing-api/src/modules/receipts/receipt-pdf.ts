import { formatMoney, money } from '@billing/domain';
import PDFDocument from 'pdfkit';
import type { PdfFont } from '../../platform/pdf/pdf-font.js';
import { formatDateTime } from '../notifications/templates/templates.js';
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
 * spaces and currency signs included); what the font cannot show is reported in `missing`.
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
  pdf.fontSize(20).text(show(doc.merchant.name));
  if (doc.merchant.address.length > 0) pdf.fontSize(10).text(show(doc.merchant.address.join('\n')));
  pdf.moveDown(0.5).fontSize(14).text(`Receipt #${receipt.number}`);
  pdf.moveDown().fontSize(11);
  pdf.text(`Date: ${show(formatDateTime(receipt.issuedAt, locale, timeZone))}`);
  pdf.text(`Billed to: ${show(doc.customer.name)} <${show(doc.customer.email)}>`);
  pdf.text(`Payment: ${receipt.paymentId}`);
  if (doc.description) pdf.text(`Description: ${show(doc.description)}`);
  if (receipt.methodBrand || receipt.methodLast4) {
    pdf.text(`Paid with: ${show(receipt.methodBrand ?? 'card')} ending in ${receipt.methodLast4 ?? '????'}`);
  }
  pdf
    .moveDown()
    .fontSize(14)
    .text(`Amount paid: ${show(amount(receipt.amount, receipt.currency))}`);
  if (doc.refunds.length > 0) {
    pdf.moveDown().fontSize(12).text('Refunds');
    pdf.fontSize(11);
    for (const r of doc.refunds) {
      pdf.text(
        show(
          `${formatDateTime(r.createdAt, locale, timeZone)}  ${amount(r.amount, r.currency)}  (${r.status})`,
        ),
      );
    }
  }
  pdf.end();
  return { pdf: await done, missing: [...missing] };
}
