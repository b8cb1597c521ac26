import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  accountWithCustomer,
  payByCard,
  plain,
  startPaymentsStack,
  type PaymentsStack,
} from './notifications.support.js';
import { NotificationsFacade } from '../../apps/billing-api/src/modules/notifications/notifications.facade.js';
import { until } from './webhooks.support.js';

describe('notifications: outbox -> Bull -> SMTP', () => {
  let s: PaymentsStack;

  beforeAll(async () => {
    s = await startPaymentsStack({ EMAIL_FROM: 'Billing <billing@example.com>' });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('a refund is e-mailed once with the amount in the account locale; an SMTP refusal is retried', async () => {
    const a = await accountWithCustomer(s, 'fr-FR', 'Europe/Paris');
    const intent = await payByCard(s, a, 250000, 'eur');
    await s.smtp.waitFor(
      (m) => m.to.includes(a.billingEmail) && m.text.includes('Receipt number'),
      'the receipt',
    );

    // The SMTP server refuses the next message once (451): the job retries with backoff.
    s.smtp.refuseNext = 1;
    const refund = await s.stripe.refunds.create({ payment_intent: intent.id, amount: 75050 });
    const mail = await s.smtp.waitFor(
      (m) => m.to.includes(a.billingEmail) && m.headers.subject?.includes('Refund') === true,
      'the refund e-mail',
      30_000,
    );
    expect(s.smtp.refuseNext).toBe(0);
    expect(plain(mail.text)).toContain('750,50 €');
    expect(mail.from).toBe('billing@example.com');
    expect(mail.headers['list-unsubscribe']).toBeUndefined();
    const row = await until(async () => {
      const rows = await s.t.db.query<
        { status: string; attempts: number; last_error: string | null; locale: string }[]
      >(
        `SELECT n.status, n.attempts, n.last_error, n.locale FROM notifications n
           JOIN refunds r ON n.dedupe_key = 'refund:' || r.id WHERE r.stripe_refund_id = $1`,
        [refund.id],
      );
      return rows[0]?.status === 'sent' ? rows[0] : null;
    }, 'the refund notification marked sent');
    expect(row).toMatchObject({ status: 'sent', attempts: 2, locale: 'fr-FR' });
    expect(row?.last_error).toBeNull();
    await until(async () => {
      const n = await s.t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM notifications WHERE account_id = $1 AND status <> 'sent'`,
        [a.accountId],
      );
      return n[0]?.n === 0;
    }, 'every mail of the account sent');
    expect(s.smtp.mails.filter((m) => m.to.includes(a.billingEmail))).toHaveLength(2);
  }, 60_000);

  it('a reminder carries List-Unsubscribe; one cause is enqueued once even when asked twice', async () => {
    const a = await accountWithCustomer(s, 'en-US', 'UTC');
    const facade = s.t.app.get(NotificationsFacade, { strict: false });
    const cause = `card_expiring:${a.accountId}:2026-12`;
    const enqueue = () =>
      s.t.db.transaction((manager) =>
        facade.enqueue(manager, {
          accountId: a.accountId,
          template: 'card_expiring',
          dedupeKey: cause,
          payload: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2026 },
        }),
      );
    const [first, second] = await Promise.all([enqueue(), enqueue()]);
    expect([first, second].filter((id) => id !== null)).toHaveLength(1);
    // Rolled back: the row and its job vanish with the transaction.
    await expect(
      s.t.db.transaction(async (manager) => {
        await facade.enqueue(manager, {
          accountId: a.accountId,
          template: 'card_expiring',
          dedupeKey: `${cause}:rolled-back`,
          payload: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2026 },
        });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    const mail = await s.smtp.waitFor((m) => m.to.includes(a.billingEmail), 'the reminder');
    // RFC 8058 one-click unsubscribe (the opt-out itself is tested in notifications-unsubscribe).
    expect(mail.headers['list-unsubscribe']).toMatch(
      /^<http:\/\/localhost:3000\/v1\/notifications\/unsubscribe\?token=[\w-]+\.[\w-]+>$/,
    );
    expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(mail.text).toContain('December 2026');
    // Marked sent once the SMTP server took it (the row commits just after the server answers).
    const rows = await until(async () => {
      const found = await s.t.db.query<{ dedupe_key: string; status: string }[]>(
        `SELECT dedupe_key, status FROM notifications WHERE account_id = $1`,
        [a.accountId],
      );
      return found.every((r) => r.status === 'sent') ? found : null;
    }, 'the reminder marked sent');
    expect(rows).toEqual([{ dedupe_key: cause, status: 'sent' }]);
  }, 30_000);
});
