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
  type TemplateName,
  type TemplatePayloads,
} from './templates.js';

const BILLING = 'https://app.example.test/billing';
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
      billingUrl: BILLING,
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
      billingUrl: BILLING,
    });
    expect(us.subject).toContain('€1,234.56');
    expect(plain(us.text)).toContain('November 21, 2026');
  });

  it('a receipt names the merchant on the receipt (its payload), the configured one only when it has none', () => {
    const ctx = {
      locale: 'en-US',
      timeZone: 'UTC',
      accountName: 'Customer Ltd',
      merchant: 'Renamed Ltd',
      billingUrl: BILLING,
    };
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
    const ctx = {
      locale: 'he-IL',
      timeZone: 'Asia/Jerusalem',
      accountName: 'לקוח בע"מ',
      merchant: 'unused',
      billingUrl: BILLING,
    };
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
      {
        locale: 'ja-JP',
        timeZone: 'Asia/Tokyo',
        accountName: 'Customer Ltd',
        merchant: 'Acme',
        billingUrl: BILLING,
      },
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
    expect(REMINDER_TEMPLATES).toEqual(['card_expiring', 'trial_ending']);
    const mail = renderTemplate(
      'card_expiring',
      { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2026 },
      {
        locale: 'en-US',
        timeZone: 'UTC',
        accountName: 'Customer Ltd',
        merchant: 'Acme',
        billingUrl: BILLING,
      },
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
      {
        locale: 'de-DE',
        timeZone: 'Europe/Berlin',
        accountName: 'Customer Ltd',
        merchant: 'Renamed Ltd',
        billingUrl: BILLING,
      },
    );
    expect(plain(mail.subject)).toBe('Receipt #8 from Acme: 29,00 $');
    expect(plain(mail.text)).toContain('Thank you for your payment of 29,00 $ to Acme.');
    expect(mail.text).toContain('Receipt number: 8');
    expect(mail.text).toContain('Invoice: 1A2B3C4D-0002');
    expect(plain(mail.text)).toContain(
      'Period: 22. November 2026 um 00:30 MEZ – 22. Dezember 2026 um 00:30 MEZ',
    );
  });

  describe('every lifecycle e-mail, as text and HTML', () => {
    const ctx = {
      locale: 'de-DE',
      timeZone: 'Asia/Tokyo',
      accountName: 'Kunde <GmbH> & Co',
      merchant: 'Acme',
      billingUrl: BILLING,
    };
    const dunning = {
      caseId: 'case-1',
      stripeInvoiceId: 'in_123',
      amountDue: 4900,
      currency: 'eur',
      hostedInvoiceUrl: 'https://pay.example.test/in_123?a=1&b=2',
      nextStepAt: '2026-11-24T16:00:00.000Z',
      suspendAt: '2026-11-28T16:00:00.000Z',
    };
    const trial = {
      subscriptionId: 's-1',
      planId: 'pro',
      planName: 'Pro',
      trialEnd: '2026-12-05T15:00:00.000Z',
    };
    const samples: { [N in TemplateName]: TemplatePayloads[N] } = {
      payment_succeeded: receipt,
      invoice_paid: {
        invoiceId: 'inv-1',
        invoiceNumber: null,
        receiptNumber: 3,
        amount: 2900,
        currency: 'eur',
        paidAt: receipt.issuedAt,
        periodStart: null,
        periodEnd: null,
        merchant: { name: 'Acme', address: [] },
      },
      refund_issued: {
        paymentId: 'p',
        refundId: 'r',
        amount: 500,
        currency: 'eur',
        refundedAt: receipt.issuedAt,
        reason: null,
      },
      card_expiring: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2026, renewalAt: trial.trialEnd },
      trial_started: trial,
      trial_ending: trial,
      payment_failed_1: dunning,
      payment_failed_2: dunning,
      payment_failed_3: { ...dunning, nextStepAt: null },
      account_suspended: { ...dunning, suspendedAt: dunning.suspendAt },
      account_reactivated: {
        caseId: 'case-1',
        stripeInvoiceId: 'in_123',
        amountPaid: 4900,
        currency: 'eur',
        wasSuspended: true,
        reactivatedAt: '2026-11-29T01:00:00.000Z',
      },
      plan_changed: {
        subscriptionId: 's-1',
        fromPlanName: 'Business',
        toPlanName: 'Pro',
        direction: 'downgrade',
        effectiveAt: receipt.issuedAt,
      },
      subscription_canceled: { subscriptionId: 's-1', planName: 'Pro', canceledAt: receipt.issuedAt },
      ownership_transfer: {
        previousOwnerEmail: 'old@example.test',
        newOwnerEmail: 'new@example.test',
        transferredAt: receipt.issuedAt,
      },
      ownership_transfer_requested: {
        transferId: 't-1',
        fromUserId: 'alice',
        confirmUrl: 'https://app.example.test/ownership?token=abc',
        expiresAt: receipt.issuedAt,
      },
    };

    it.each(Object.keys(TEMPLATES) as TemplateName[])(
      '%s: a subject, a text and an escaped HTML document with the billing link',
      (name) => {
        const mail = renderTemplate(name, samples[name], ctx);
        expect(mail.subject.length).toBeGreaterThan(5);
        expect(mail.text).toContain(BILLING);
        expect(mail.html).toMatch(/^<!DOCTYPE html>\n<html lang="en" dir="ltr">/u);
        expect(mail.html).toContain(`href="${BILLING}"`);
        // No remote assets, nothing that runs.
        expect(mail.html).not.toMatch(/<(img|script|link|iframe)\b|\bsrc=|url\(/iu);
        // The account's name is a value: escaped in HTML, never markup; wherever the text names it.
        expect(mail.html).not.toContain('<GmbH>');
        expect(mail.html.includes('<bdi>Kunde &lt;GmbH&gt; &amp; Co</bdi>')).toBe(
          mail.text.includes('Kunde'),
        );
      },
    );

    it('amounts in the locale, dates in the time zone (de-DE, Asia/Tokyo), in both versions', () => {
      const mail = renderTemplate('payment_failed_1', dunning, ctx);
      expect(plain(mail.subject)).toBe('Payment of 49,00 € failed');
      // 16:00 UTC is 01:00 the next day in Tokyo.
      expect(plain(mail.text)).toContain('We will try again on 25. November 2026 um 01:00 GMT+9.');
      expect(plain(mail.html)).toContain('We will try again on <bdi>25. November 2026 um 01:00 GMT+9</bdi>.');
      // The pay-now action is the invoice's hosted page, escaped in its attribute.
      expect(mail.text).toContain('Pay now: https://pay.example.test/in_123?a=1&b=2');
      expect(mail.html).toContain('href="https://pay.example.test/in_123?a=1&amp;b=2"');
    });

    it('the three payment-failed notices escalate; the last one names the suspension date', () => {
      const [one, two, three] = (['payment_failed_1', 'payment_failed_2', 'payment_failed_3'] as const).map(
        (n) => plain(renderTemplate(n, samples[n], ctx).subject),
      );
      expect(new Set([one, two, three]).size).toBe(3);
      expect(two).toMatch(/^Reminder: /u);
      expect(three).toBe('Urgent: Kunde <GmbH> & Co becomes read-only on 29. November 2026 um 01:00 GMT+9');
    });

    it('a link that is not http(s) is left out instead of being sent', () => {
      const mail = renderTemplate(
        'account_suspended',
        { ...samples.account_suspended, hostedInvoiceUrl: 'javascript:alert(1)' },
        ctx,
      );
      expect(mail.html).not.toContain('javascript:');
      expect(mail.text).not.toContain('javascript:');
    });

    it('a reminder has the unsubscribe link in its footer; a transactional mail none', () => {
      const url = 'https://billing.example.com/v1/notifications/unsubscribe?token=a.b';
      const reminder = renderTemplate('trial_ending', trial, { ...ctx, unsubscribeUrl: url });
      expect(reminder.text).toContain(`Unsubscribe from these reminders: ${url}`);
      expect(reminder.html).toContain(`href="${url}"`);
      const notice = renderTemplate('trial_started', trial, { ...ctx, unsubscribeUrl: url });
      expect(notice.text).not.toContain('Unsubscribe');
    });

    it('right-to-left values are <bdi> elements in HTML, their own direction controls dropped', () => {
      const mail = renderTemplate(
        'subscription_canceled',
        { ...samples.subscription_canceled, planName: 'מקצועי\u202e' },
        {
          ...ctx,
          locale: 'he-IL',
        },
      );
      expect(mail.html).toContain('<bdi>מקצועי</bdi>');
      expect(mail.text).toContain('\u2068מקצועי\u2069');
    });
  });
});
