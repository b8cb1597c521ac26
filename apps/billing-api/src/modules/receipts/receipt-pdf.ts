import { formatMoney, money } from '@billing/domain';
import { renderPdfDocument, type RenderedPdf, writeLetterhead } from '../../platform/pdf/pdf-document.js';
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

/** The receipt as PDF and the characters its font could not show (printed as `?`), each once. */
export type RenderedReceipt = RenderedPdf;

/**
 * Renders a receipt as PDF with pdfkit (R-PAY-4): merchant and its address, number, date in the
 * account's time zone, amount formatted for its locale, method brand and last 4, and the payment's refunds.
 * Set in `font` (embedded, only the glyphs used), exactly as Intl formats amounts and dates (no-break
 * spaces and currency signs included), right-to-left text in its reading order (UAX #9, see
 * platform/pdf/bidi-text.ts); what the font cannot show is reported in `missing`. The frame and the
 * letterhead are platform/pdf/pdf-document.ts, shared with the invoice PDF.
 */
export function renderReceiptPdf(
  doc: ReceiptDocument,
  font: PdfFont,
  options: { compress?: boolean } = {},
): Promise<RenderedReceipt> {
  const { receipt, locale, timeZone } = doc;
  const amount = (minor: number, currency: string): string => formatMoney(money(minor, currency), locale);
  const info = {
    title: `Receipt ${receipt.number}`,
    author: doc.merchant.name,
    createdAt: new Date(receipt.issuedAt),
  };
  return renderPdfDocument(
    font,
    info,
    (w) => {
      const { pdf, line, value } = w;
      writeLetterhead(w, doc.merchant, `Receipt #${receipt.number}`);
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
    },
    options,
  );
}
