import { formatMoney, money } from '@billing/domain';
import PDFDocument from 'pdfkit';
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

/** The PDF text of an amount: pdfkit's standard fonts have no narrow no-break space, a plain one stands in. */
const pdfText = (s: string): string => s.replace(/[\u202f\u00a0]/gu, ' ');

/**
 * Renders a receipt as PDF with pdfkit (R-PAY-4): merchant and its address, number, date in the
 * account's time zone, amount formatted for its locale, method brand and last 4, and the payment's refunds.
 * `compress: false` keeps the content streams readable (tests extract the text).
 */
export function renderReceiptPdf(
  doc: ReceiptDocument,
  options: { compress?: boolean } = {},
): Promise<Buffer> {
  const { receipt, locale, timeZone } = doc;
  const amount = (minor: number, currency: string): string =>
    pdfText(formatMoney(money(minor, currency), locale));
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
  pdf.fontSize(20).text(doc.merchant.name);
  if (doc.merchant.address.length > 0) pdf.fontSize(10).text(doc.merchant.address.join('\n'));
  pdf.moveDown(0.5).fontSize(14).text(`Receipt #${receipt.number}`);
  pdf.moveDown().fontSize(11);
  pdf.text(`Date: ${pdfText(formatDateTime(receipt.issuedAt, locale, timeZone))}`);
  pdf.text(`Billed to: ${doc.customer.name} <${doc.customer.email}>`);
  pdf.text(`Payment: ${receipt.paymentId}`);
  if (doc.description) pdf.text(`Description: ${doc.description}`);
  if (receipt.methodBrand || receipt.methodLast4) {
    pdf.text(`Paid with: ${receipt.methodBrand ?? 'card'} ending in ${receipt.methodLast4 ?? '????'}`);
  }
  pdf
    .moveDown()
    .fontSize(14)
    .text(`Amount paid: ${amount(receipt.amount, receipt.currency)}`);
  if (doc.refunds.length > 0) {
    pdf.moveDown().fontSize(12).text('Refunds');
    pdf.fontSize(11);
    for (const r of doc.refunds) {
      pdf.text(
        `${pdfText(formatDateTime(r.createdAt, locale, timeZone))}  ${amount(r.amount, r.currency)}  (${r.status})`,
      );
    }
  }
  pdf.end();
  return done;
}
