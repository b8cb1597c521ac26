import { describe, expect, it } from '@jest/globals';
import { visualRuns } from '../../../platform/pdf/bidi-text.js';
import { verifyUnsubscribeToken } from '../unsubscribe/unsubscribe-token.js';
import { formatDateTime } from '../../../platform/text/format-date-time.js';
import {
  isTemplateName,
  REMINDER_TEMPLATES,
  renderTemplate,
  TEMPLATES,
  unsubscribeHeaders,
  unsubscribeUrl,
} from './templates.js';

const plain = (s: string): string => s.replace(/[\u00a0\u202f]/gu, ' ');

describe('e-mail templates', () => {
  const receipt = {
    paymentId: 'p-1',
    receiptNumber: 17,
    amount: 123456,
    currency: 'eur',
    issuedAt: '2026-11-21T23:30:00.000Z',
    methodBrand: 'visa',
    methodLast4: '4242',
    description: 'Order 42',
  };

  it('formats the receipt amount for the locale and the date in the time zone', () => {
    const de = renderTemplate('payment_succeeded', receipt, {
      locale: 'de-DE',
      timeZone: 'Europe/Berlin',
      accountName: 'Customer Ltd',
      merchant: 'Acme',
    });
    // From the merchant, not from the account that paid.
    expect(plain(de.subject)).toBe('Receipt #17 from Acme: 1.234,56 €');
    expect(plain(de.text)).toContain('Thank you for your payment of 1.234,56 € to Acme.');
    // 23:30 UTC is already the next day in Berlin.
    expect(plain(de.text)).toContain('22. November 2026');
    expect(de.text).toContain('visa •••• 4242');
    const us = renderTemplate('payment_succeeded', receipt, {
      locale: 'en-US',
      timeZone: 'America/New_York',
      accountName: 'Customer Ltd',
      merchant: 'Acme',
    });
    expect(us.subject).toContain('€1,234.56');
    expect(plain(us.text)).toContain('November 21, 2026');
  });

  it('a receipt names the merchant on the receipt (its payload), the configured one only when it has none', () => {
    const ctx = { locale: 'en-US', timeZone: 'UTC', accountName: 'Customer Ltd', merchant: 'Renamed Ltd' };
    const kept = renderTemplate(
      'payment_succeeded',
      { ...receipt, merchant: { name: 'Acme', address: ['Main St 1'] } },
      ctx,
    );
    expect(plain(kept.subject)).toBe('Receipt #17 from Acme: €1,234.56');
    expect(plain(kept.text)).toContain('Thank you for your payment of €1,234.56 to Acme.');
    expect(kept.text).not.toContain('Renamed Ltd');
    // Put in the outbox before receipts kept their merchant.
    const older = renderTemplate('payment_succeeded', receipt, ctx);
    expect(plain(older.subject)).toBe('Receipt #17 from Renamed Ltd: €1,234.56');
  });

  it('isolates right-to-left values (Hebrew merchant, amount and date for he-IL) and leaves the rest as it was', () => {
    const FSI = '\u2068';
    const PDI = '\u2069';
    const ctx = { locale: 'he-IL', timeZone: 'Asia/Jerusalem', accountName: 'לקוח בע"מ', merchant: 'unused' };
    const mail = renderTemplate(
      'payment_succeeded',
      { ...receipt, currency: 'ils', merchant: { name: 'חנות הספרים', address: [] } },
      ctx,
    );
    const amount = /\u2068([^\u2069]*₪[^\u2069]*)\u2069/u.exec(mail.subject)?.[1] ?? '';
    expect(amount).toMatch(/1,234\.56/u);
    expect(mail.subject).toBe(`Receipt #17 from ${FSI}חנות הספרים${PDI}: ${FSI}${amount}${PDI}`);
    // The Hebrew date is isolated too; the left-to-right values are not touched.
    expect(mail.text).toMatch(/\nDate: \u2068[^\u2069]*נובמבר[^\u2069]*\u2069\n/u);
    expect(mail.text).toContain('\nPaid with: visa •••• 4242\n');
    expect(mail.text).toContain('\nFor: Order 42\n');
    // Laid out by UAX #9 in the English sentence, the label's colon and the amount stay left to right
    // after the Hebrew name; without the isolates the colon would join the name's right-to-left run.
    const runs = (line: string) => visualRuns(line, 'ltr').map((r) => [r.text, r.rightToLeft]);
    expect(runs(mail.subject)).toContainEqual(['חנות הספרים', true]);
    expect(runs(mail.subject).find(([text]) => String(text).includes(':'))).toEqual([': ', false]);
    const bare = mail.subject.replace(/[\u2068\u2069]/gu, '');
    expect(runs(bare).find(([text]) => String(text).includes(':'))?.[1]).toBe(true);

    // A description with an override and a PDI of its own cannot reach out of its isolate.
    const spoofed = renderTemplate(
      'payment_succeeded',
      { ...receipt, description: 'Order 42\u2069\u202e2.99 USD' },
      ctx,
    );
    expect(spoofed.text).toContain(`\nFor: ${FSI}Order 422.99 USD${PDI}\n`);

    const en = renderTemplate('payment_succeeded', receipt, { ...ctx, locale: 'en-US', timeZone: 'UTC' });
    expect(`${en.subject}\n${en.text}`).not.toMatch(/[\u2068\u2069]/u);
    const reminder = renderTemplate(
      'card_expiring',
      { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2026 },
      ctx,
    );
    expect(reminder.text).toContain(`that pays ${FSI}לקוח בע"מ${PDI} expires in ${FSI}`);
  });

  it('keeps currencies without minor units whole (JPY)', () => {
    const mail = renderTemplate(
      'refund_issued',
      {
        paymentId: 'p',
        refundId: 'r',
        amount: 5000,
        currency: 'jpy',
        refundedAt: receipt.issuedAt,
        reason: null,
      },
      { locale: 'ja-JP', timeZone: 'Asia/Tokyo', accountName: 'Customer Ltd', merchant: 'Acme' },
    );
    expect(mail.subject).toMatch(/^Refund of [￥¥]5,000 from Acme$/u);
  });

  it('reminders carry an RFC 8058 one-click List-Unsubscribe link (no mailto); transactional mails none', () => {
    const secret = 'unit-test-unsubscribe-secret-0123456789abcdef';
    const accountId = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
    const link = { publicBaseUrl: 'https://billing.example.com/', secret, accountId };
    const headers = unsubscribeHeaders('card_expiring', link);
    expect(Object.keys(headers).sort()).toEqual(['List-Unsubscribe', 'List-Unsubscribe-Post']);
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const match = /^<https:\/\/billing\.example\.com\/v1\/notifications\/unsubscribe\?token=([^>]+)>$/.exec(
      headers['List-Unsubscribe'] ?? '',
    );
    expect(match).not.toBeNull();
    expect(headers['List-Unsubscribe']).not.toContain('mailto:');
    expect(verifyUnsubscribeToken(secret, match?.[1])).toEqual({ accountId, template: 'card_expiring' });
    expect(unsubscribeUrl('card_expiring', link)).toBe(headers['List-Unsubscribe']?.slice(1, -1));
    expect(unsubscribeHeaders('payment_succeeded', link)).toEqual({});
    expect(unsubscribeHeaders('refund_issued', link)).toEqual({});
    expect(REMINDER_TEMPLATES).toEqual(['card_expiring']);
    const mail = renderTemplate(
      'card_expiring',
      { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2026 },
      { locale: 'en-US', timeZone: 'UTC', accountName: 'Customer Ltd', merchant: 'Acme' },
    );
    expect(mail.text).toContain('December 2026');
  });

  it('receipts and refunds are transactional (no unsubscribe header)', () => {
    expect(TEMPLATES.payment_succeeded.kind).toBe('transactional');
    expect(TEMPLATES.refund_issued.kind).toBe('transactional');
    expect(TEMPLATES.invoice_paid.kind).toBe('transactional');
    expect(isTemplateName('payment_succeeded')).toBe(true);
    expect(isTemplateName('toString')).toBe(false);
    expect(plain(formatDateTime('2026-01-01T00:00:00Z', 'en-GB', 'UTC'))).toContain('1 January 2026');
  });

  it("an invoice's receipt: its number, the merchant on it, the invoice number and period in the zone", () => {
    const mail = renderTemplate(
      'invoice_paid',
      {
        invoiceId: 'inv-1',
        invoiceNumber: '1A2B3C4D-0002',
        receiptNumber: 8,
        amount: 2900,
        currency: 'usd',
        paidAt: '2026-11-21T23:30:00.000Z',
        periodStart: '2026-11-21T23:30:00.000Z',
        periodEnd: '2026-12-21T23:30:00.000Z',
        merchant: { name: 'Acme', address: [] },
      },
      { locale: 'de-DE', timeZone: 'Europe/Berlin', accountName: 'Customer Ltd', merchant: 'Renamed Ltd' },
    );
    expect(plain(mail.subject)).toBe('Receipt #8 from Acme: 29,00 $');
    expect(plain(mail.text)).toContain('Thank you for your payment of 29,00 $ to Acme.');
    expect(mail.text).toContain('Receipt number: 8');
    expect(mail.text).toContain('Invoice: 1A2B3C4D-0002');
    expect(plain(mail.text)).toContain(
      'Period: 22. November 2026 um 00:30 MEZ – 22. Dezember 2026 um 00:30 MEZ',
    );
  });
});
