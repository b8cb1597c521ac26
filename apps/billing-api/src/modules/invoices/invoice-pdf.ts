import { formatMoney, money } from '@billing/domain';
import { renderPdfDocument, type RenderedPdf, writeLetterhead } from '../../platform/pdf/pdf-document.js';
import type { PdfFont } from '../../platform/pdf/pdf-font.js';
import { formatDateTime } from '../../platform/text/format-date-time.js';

export interface InvoiceDocument {
  invoice: {
    stripeInvoiceId: string;
    number: string | null;
    status: string;
    currency: string;
    total: number;
    amountPaid: number;
    amountRemaining: number;
    periodStart: string | null;
    periodEnd: string | null;
    paidAt: string | null;
    createdAt: string;
  };
  /** The receipt number of a paid subscription invoice, or null. */
  receiptNumber: number | null;
  merchant: { name: string; address: string[] };
  customer: { name: string; email: string };
  locale: string;
  timeZone: string;
}

/**
 * Renders an invoice as PDF (R-SUB-7) in the receipts' look (platform/pdf/pdf-document.ts): the
 * merchant's letterhead, the invoice number, its date and period in the account's time zone, the
 * amounts for its locale, when it was paid and its receipt number. What the font cannot show is
 * reported in `missing`.
 */
export function renderInvoicePdf(
  doc: InvoiceDocument,
  font: PdfFont,
  options: { compress?: boolean } = {},
): Promise<RenderedPdf> {
  const { invoice, locale, timeZone } = doc;
  const amount = (minor: number): string => formatMoney(money(minor, invoice.currency), locale);
  const title = `Invoice ${invoice.number ? `#${invoice.number}` : invoice.stripeInvoiceId}`;
  return renderPdfDocument(
    font,
    { title, author: doc.merchant.name, createdAt: new Date(invoice.createdAt) },
    (w) => {
      const { pdf, line, value } = w;
      const date = (iso: string): string => value(formatDateTime(iso, locale, timeZone));
      writeLetterhead(w, doc.merchant, title);
      line(`Date: ${date(invoice.createdAt)}`);
      line(`Billed to: ${value(doc.customer.name)} <${value(doc.customer.email)}>`);
      line(`Invoice: ${invoice.stripeInvoiceId}`);
      if (invoice.periodStart && invoice.periodEnd) {
        line(`Period: ${date(invoice.periodStart)} – ${date(invoice.periodEnd)}`);
      }
      line(`Status: ${invoice.status}`);
      pdf.moveDown().fontSize(14);
      line(`Total: ${value(amount(invoice.total))}`);
      pdf.fontSize(11);
      line(`Amount paid: ${value(amount(invoice.amountPaid))}`);
      line(`Amount remaining: ${value(amount(invoice.amountRemaining))}`);
      if (invoice.paidAt) line(`Paid: ${date(invoice.paidAt)}`);
      if (doc.receiptNumber !== null) line(`Receipt #${doc.receiptNumber}`);
    },
    options,
  );
}
