import { describe, expect, it } from '@jest/globals';
import { pdfText } from '../../../../../test/support/pdf-text.js';
import { PdfFont } from '../../platform/pdf/pdf-font.js';
import { type InvoiceDocument, renderInvoicePdf } from './invoice-pdf.js';

const plain = (s: string): string => s.replace(/[\u00a0\u202f]/gu, ' ');
const font = PdfFont.load();

function invoiceDoc(over: Partial<InvoiceDocument['invoice']> = {}, rest: Partial<InvoiceDocument> = {}) {
  return {
    invoice: {
      stripeInvoiceId: 'in_test123',
      number: '1A2B3C4D-0007',
      status: 'paid',
      currency: 'eur',
      total: 4900,
      amountPaid: 4900,
      amountRemaining: 0,
      periodStart: '2026-11-01T00:00:00.000Z',
      periodEnd: '2026-12-01T00:00:00.000Z',
      paidAt: '2026-11-01T01:00:00.000Z',
      createdAt: '2026-11-01T00:00:00.000Z',
      ...over,
    },
    receiptNumber: 12,
    merchant: { name: 'Acme', address: ['Main St 1'] },
    customer: { name: 'Customer Ltd', email: 'billing@example.test' },
    locale: 'en-GB',
    timeZone: 'Europe/London',
    ...rest,
  };
}

describe('invoice PDF: the receipts look, the invoice facts', () => {
  it('shows the letterhead, number, local dates, period, amounts for the locale and the receipt', async () => {
    const { pdf, missing } = await renderInvoicePdf(invoiceDoc(), font, { compress: false });
    const text = plain(pdfText(pdf));
    expect(missing).toEqual([]);
    expect(text).toMatch(/^Acme\nMain St 1\nInvoice #1A2B3C4D-0007\n/);
    expect(text).toContain('Date: 1 November 2026 at 00:00 GMT');
    expect(text).toContain('Billed to: Customer Ltd <billing@example.test>');
    expect(text).toContain('Period: 1 November 2026 at 00:00 GMT – 1 December 2026 at 00:00 GMT');
    expect(text).toMatch(/^Total: €49\.00$/m);
    expect(text).toMatch(/^Amount remaining: €0\.00$/m);
    expect(text).toMatch(/^Paid: 1 November 2026 at 01:00 GMT$/m);
    expect(text).toMatch(/^Receipt #12$/m);
  });

  it('an open invoice without a number: titled by its Stripe id, no payment date, no receipt', async () => {
    const { pdf } = await renderInvoicePdf(
      invoiceDoc(
        {
          number: null,
          status: 'open',
          amountPaid: 0,
          amountRemaining: 4900,
          paidAt: null,
          periodStart: null,
        },
        { receiptNumber: null, locale: 'de-DE' },
      ),
      font,
    );
    const text = plain(pdfText(pdf));
    expect(text).toContain('Invoice in_test123\n');
    expect(text).toMatch(/^Status: open$/m);
    expect(text).toMatch(/^Amount remaining: 49,00 €$/m);
    expect(text).not.toMatch(/^(Paid|Period|Receipt)/m);
  });
});
