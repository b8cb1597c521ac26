import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  accountWithCustomer,
  notificationsSent,
  payByCard,
  plain,
  startPaymentsStack,
  type PaymentsStack,
} from './notifications.support.js';
import { randomUUID } from 'node:crypto';
import { SendNotificationHandler } from '../../apps/billing-api/src/modules/notifications/commands/send-notification/send-notification.handler.js';
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
    const rows = await notificationsSent(s, a.accountId, 'the reminder marked sent');
    expect(rows.map(({ dedupe_key, status }) => ({ dedupe_key, status }))).toEqual([
      { dedupe_key: cause, status: 'sent' },
    ]);
  }, 30_000);

  it('a send holds a lease, not a lock: another run finds the row busy, an ended lease is taken over', async () => {
    const a = await accountWithCustomer(s, 'en-US', 'UTC');
    const sender = s.t.app.get(SendNotificationHandler, { strict: false });
    const send = () => sender.execute(id, { lastAttempt: false });
    const row = async () =>
      (
        await s.t.db.query<{ status: string; attempts: number; claimed_by: string | null }[]>(
          `SELECT status, attempts, claimed_by FROM notifications WHERE id = $1`,
          [id],
        )
      )[0];
    // As a run that died while sending leaves it: pending, under a lease that has not ended. No job.
    const id = randomUUID();
    await s.t.db.query(
      `INSERT INTO notifications (id, account_id, template, payload, dedupe_key, status, attempts, created_at,
         updated_at, claimed_by, claimed_until)
       VALUES ($1, $2, 'card_expiring', $3, $4, 'pending', 0, now(), now(), gen_random_uuid(),
         $5::timestamptz + interval '1 hour')`,
      [
        id,
        a.accountId,
        JSON.stringify({ brand: 'visa', last4: '4242', expMonth: 1, expYear: 2027 }),
        `card_expiring:${a.accountId}:lease`,
        s.t.clock.now(),
      ],
    );
    expect(await send()).toBe('busy');

    // The lease ends (by the app's clock).
    await s.t.db.query(
      `UPDATE notifications SET claimed_until = $2::timestamptz - interval '1 second' WHERE id = $1`,
      [id, s.t.clock.now()],
    );
    s.smtp.holdNext = 1;
    const sending = send();
    await until(async () => s.smtp.held.length === 1, 'the SMTP server holding the message');
    // While the SMTP server has the message, the row is neither locked nor free for another run.
    await s.t.db.transaction(async (manager) => {
      const locked = await manager.query<unknown[]>(
        `SELECT id FROM notifications WHERE id = $1 FOR UPDATE NOWAIT`,
        [id],
      );
      expect(locked).toHaveLength(1);
    });
    expect(await send()).toBe('busy');
    s.smtp.release();
    expect(await sending).toBe('sent');
    expect(await row()).toEqual({ status: 'sent', attempts: 1, claimed_by: null });
    expect(await send()).toBe('already_done');
    const mails = s.smtp.mails.filter(
      (m) => m.to.includes(a.billingEmail) && m.text.includes('January 2027'),
    );
    expect(mails).toHaveLength(1);
  }, 30_000);
});
