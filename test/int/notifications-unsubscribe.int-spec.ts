import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { NotificationsFacade } from '../../apps/billing-api/src/modules/notifications/notifications.facade.js';
import { signUnsubscribeToken } from '../../apps/billing-api/src/modules/notifications/unsubscribe/unsubscribe-token.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { http, tokenFor } from '../support/test-app.js';
import {
  accountWithCustomer,
  payByCard,
  startPaymentsStack,
  type PaymentsStack,
  type ReceivedMail,
} from './notifications.support.js';
import { until } from './webhooks.support.js';

const UNSUBSCRIBE_SECRET = 'int-test-unsubscribe-secret-0123456789abcdef';
/** The exact body RFC 8058 mail clients POST. */
const ONE_CLICK = { 'content-type': 'application/x-www-form-urlencoded' };
const ONE_CLICK_BODY = 'List-Unsubscribe=One-Click';

describe('notifications: one-click unsubscribe and preferences (R-NOT-3)', () => {
  let s: PaymentsStack;
  let proxy: TcpProxy;
  let publicBaseUrl: string;

  beforeAll(async () => {
    // The links in the mails point at PUBLIC_BASE_URL, known before the app's random port: a proxy on a
    // port of its own forwards to the app, so the link from the mail is fetched as it is.
    proxy = new TcpProxy('127.0.0.1', 0);
    const port = await proxy.start(0);
    publicBaseUrl = `http://127.0.0.1:${port}`;
    s = await startPaymentsStack({
      EMAIL_FROM: 'Billing <billing@example.com>',
      PUBLIC_BASE_URL: publicBaseUrl,
      NOTIFICATIONS_UNSUBSCRIBE_SECRET: UNSUBSCRIBE_SECRET,
    });
    proxy.forwardTo('127.0.0.1', Number(new URL(s.t.url).port));
  });
  afterAll(async () => {
    await proxy?.stop();
    await s?.close();
  });

  function enqueueReminder(accountId: string, month: string): Promise<string | null> {
    const facade = s.t.app.get(NotificationsFacade, { strict: false });
    return s.t.db.transaction((manager) =>
      facade.enqueue(manager, {
        accountId,
        template: 'card_expiring',
        dedupeKey: `card_expiring:${accountId}:${month}`,
        payload: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2026 },
      }),
    );
  }

  const reminders = (to: string): ReceivedMail[] =>
    s.smtp.mails.filter((m) => m.to.includes(to) && m.headers.subject?.includes('expires soon') === true);

  const optOuts = (accountId: string) =>
    s.t.db.query<{ template: string; source: string }[]>(
      `SELECT template, source FROM notification_opt_outs WHERE account_id = $1`,
      [accountId],
    );

  const audits = (accountId: string) =>
    s.t.db.query<
      {
        action: string;
        actor_type: string;
        actor_id: string | null;
        after: Record<string, unknown>;
        reason: string | null;
      }[]
    >(
      `SELECT action, actor_type, actor_id, after, reason FROM audit_log
        WHERE account_id = $1 AND action LIKE 'notification.%' ORDER BY id`,
      [accountId],
    );

  const statusOf = async (id: string | null): Promise<string | undefined> =>
    (await s.t.db.query<{ status: string }[]>(`SELECT status FROM notifications WHERE id = $1`, [id]))[0]
      ?.status;

  it('the link in a reminder works: GET only shows a page, the RFC 8058 POST opts out (once), later reminders are suppressed, receipts still arrive', async () => {
    const a = await accountWithCustomer(s, 'en-US', 'UTC');
    await enqueueReminder(a.accountId, '2026-11');
    const mail = await s.smtp.waitFor((m) => reminders(a.billingEmail).includes(m), 'the first reminder');
    expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    const header = mail.headers['list-unsubscribe'] ?? '';
    expect(header).not.toContain('mailto:');
    const link = /^<([^>]+)>$/.exec(header)?.[1] ?? '';
    expect(link.startsWith(`${publicBaseUrl}/v1/notifications/unsubscribe?token=`)).toBe(true);

    // GET (what a link scanner does) shows a confirm form and changes nothing.
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('<form method="post">');
    expect(html).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(await optOuts(a.accountId)).toEqual([]);

    // The mail client's one-click POST, exactly as RFC 8058 has it.
    const first = await fetch(link, { method: 'POST', headers: ONE_CLICK, body: ONE_CLICK_BODY });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ template: 'card_expiring', subscribed: false });
    expect(await optOuts(a.accountId)).toEqual([{ template: 'card_expiring', source: 'one_click' }]);
    // Repeated (clients retry; a person clicks twice): still 200, one row, one audit record.
    const again = await fetch(link, {
      method: 'POST',
      headers: { ...ONE_CLICK, accept: 'text/html' },
      body: ONE_CLICK_BODY,
    });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('You will no longer receive card expiry reminders');
    expect(await optOuts(a.accountId)).toHaveLength(1);
    const records = await audits(a.accountId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      action: 'notification.unsubscribed',
      actor_type: 'user',
      actor_id: null,
      after: { template: 'card_expiring', subscribed: false, source: 'one_click' },
    });
    expect(records[0]?.reason).toContain('RFC 8058');

    // The next reminder is suppressed (no SMTP); a receipt, transactional, still arrives.
    const suppressedId = await enqueueReminder(a.accountId, '2026-12');
    await payByCard(s, a, 4200, 'usd');
    const receipt = await s.smtp.waitFor(
      (m) => m.to.includes(a.billingEmail) && m.text.includes('Receipt number'),
      'the receipt after the opt-out',
    );
    expect(receipt.headers['list-unsubscribe']).toBeUndefined();
    await until(async () => (await statusOf(suppressedId)) === 'suppressed', 'the reminder suppressed');
    const row = await s.t.db.query<{ attempts: number; sent_at: Date | null; message_id: string | null }[]>(
      `SELECT attempts, sent_at, message_id FROM notifications WHERE id = $1`,
      [suppressedId],
    );
    expect(row).toEqual([{ attempts: 0, sent_at: null, message_id: null }]);
    expect(reminders(a.billingEmail)).toHaveLength(1);
  }, 60_000);

  it('refuses forged, altered and transactional tokens with 400 and writes nothing', async () => {
    const a = await accountWithCustomer(s, 'en-US', 'UTC');
    const good = signUnsubscribeToken(UNSUBSCRIBE_SECRET, {
      accountId: a.accountId,
      template: 'card_expiring',
    });
    const [payload = '', signature = ''] = good.split('.');
    const bad = [
      signUnsubscribeToken('another-secret-of-at-least-32-characters!', {
        accountId: a.accountId,
        template: 'card_expiring',
      }),
      `${payload}.${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`,
      `${payload.slice(0, -1)}${payload.endsWith('A') ? 'B' : 'A'}.${signature}`,
      // Signed with the right secret, but receipts are transactional: never unsubscribable.
      signUnsubscribeToken(UNSUBSCRIBE_SECRET, { accountId: a.accountId, template: 'payment_succeeded' }),
      'not-a-token',
    ];
    for (const token of bad) {
      for (const method of ['GET', 'POST']) {
        const response = await fetch(`${s.t.url}/v1/notifications/unsubscribe?token=${token}`, {
          method,
          ...(method === 'POST' ? { headers: ONE_CLICK, body: ONE_CLICK_BODY } : {}),
        });
        expect({ token, method, status: response.status }).toEqual({ token, method, status: 400 });
        const body = (await response.json()) as { error: { code: string; param?: string } };
        expect(body.error).toMatchObject({ code: 'invalid_unsubscribe_token', param: 'token' });
      }
    }
    expect(await optOuts(a.accountId)).toEqual([]);
    expect(await audits(a.accountId)).toEqual([]);
    // The good token still works, so the refusals above were about the tokens.
    const ok = await fetch(`${s.t.url}/v1/notifications/unsubscribe?token=${good}`, {
      method: 'POST',
      headers: ONE_CLICK,
      body: ONE_CLICK_BODY,
    });
    expect(ok.status).toBe(200);
    expect(await optOuts(a.accountId)).toHaveLength(1);
    // Some clients send the one-click body as multipart: accepted here, and on this route only.
    const multipart = new FormData();
    multipart.append('List-Unsubscribe', 'One-Click');
    const asMultipart = await fetch(`${s.t.url}/v1/notifications/unsubscribe?token=${good}`, {
      method: 'POST',
      body: multipart,
    });
    expect(asMultipart.status).toBe(200);
    expect(await optOuts(a.accountId)).toHaveLength(1);
    const elsewhere = await fetch(`${s.t.url}/v1/admin/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.admin}` },
      body: multipart,
    });
    expect(elsewhere.status).toBe(415);
  }, 30_000);

  it('preferences: members read, owners opt back in (audited) and reminders arrive again; members cannot change; other accounts are 404', async () => {
    const a = await accountWithCustomer(s, 'en-US', 'UTC');
    const other = await accountWithCustomer(s, 'en-US', 'UTC');
    const owner = await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId: a.accountId });
    const member = await tokenFor({ sub: `member-${randomUUID()}`, role: 'member', accountId: a.accountId });
    const stranger = await tokenFor({ sub: 'owner-x', role: 'owner', accountId: other.accountId });
    const base = `/v1/accounts/${a.accountId}/notification-preferences`;

    const initial = await http<{ data: { template: string; subscribed: boolean }[] }>(s.t.url, 'GET', base, {
      token: member,
    });
    expect(initial.status).toBe(200);
    expect(initial.body.data).toEqual([
      { template: 'card_expiring', subscribed: true, unsubscribedAt: null, source: null },
      { template: 'trial_ending', subscribed: true, unsubscribedAt: null, source: null },
    ]);

    const off = await http(s.t.url, 'PUT', `${base}/card_expiring`, {
      token: owner,
      body: { subscribed: false },
    });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ template: 'card_expiring', subscribed: false, source: 'api' });
    const suppressedId = await enqueueReminder(a.accountId, '2027-01');
    await until(async () => (await statusOf(suppressedId)) === 'suppressed', 'the reminder suppressed');

    // A member may read but not change; another account's owner sees nothing (404).
    const byMember = await http<{ error: { code: string } }>(s.t.url, 'PUT', `${base}/card_expiring`, {
      token: member,
      body: { subscribed: true },
    });
    expect(byMember.status).toBe(403);
    expect(byMember.body.error.code).toBe('forbidden');
    for (const [method, path] of [
      ['GET', base],
      ['PUT', `${base}/card_expiring`],
    ] as const) {
      const response = await http<{ error: { code: string } }>(s.t.url, method, path, {
        token: stranger,
        ...(method === 'PUT' ? { body: { subscribed: true } } : {}),
      });
      expect({ method, status: response.status, code: response.body.error.code }).toEqual({
        method,
        status: 404,
        code: 'not_found',
      });
    }
    // Transactional templates cannot be switched off; unknown ones do not exist.
    const receipts = await http<{ error: { code: string } }>(s.t.url, 'PUT', `${base}/payment_succeeded`, {
      token: owner,
      body: { subscribed: false },
    });
    expect(receipts.status).toBe(422);
    expect(receipts.body.error.code).toBe('template_not_unsubscribable');
    const unknown = await http(s.t.url, 'PUT', `${base}/no_such_template`, {
      token: owner,
      body: { subscribed: false },
    });
    expect(unknown.status).toBe(404);
    const invalid = await http(s.t.url, 'PUT', `${base}/card_expiring`, {
      token: owner,
      body: { subscribed: 'no' },
    });
    expect(invalid.status).toBe(400);
    expect(await optOuts(a.accountId)).toEqual([{ template: 'card_expiring', source: 'api' }]);

    // Back in: twice (idempotent), audited once, and the next reminder is mailed.
    for (let i = 0; i < 2; i++) {
      const on = await http(s.t.url, 'PUT', `${base}/card_expiring`, {
        token: owner,
        body: { subscribed: true },
      });
      expect(on.status).toBe(200);
      expect(on.body).toMatchObject({ template: 'card_expiring', subscribed: true, source: null });
    }
    expect(await optOuts(a.accountId)).toEqual([]);
    const ownerId = JSON.parse(Buffer.from(owner.split('.')[1] ?? '', 'base64url').toString()) as {
      sub: string;
    };
    const records = await audits(a.accountId);
    expect(records.map((r) => [r.action, r.actor_type, r.actor_id, r.after.source])).toEqual([
      ['notification.unsubscribed', 'user', ownerId.sub, 'api'],
      ['notification.resubscribed', 'user', ownerId.sub, 'api'],
    ]);
    await enqueueReminder(a.accountId, '2027-02');
    await s.smtp.waitFor((m) => reminders(a.billingEmail).includes(m), 'the reminder after opting back in');
    expect(reminders(a.billingEmail)).toHaveLength(1);
    expect(await statusOf(suppressedId)).toBe('suppressed');
  }, 60_000);
});
