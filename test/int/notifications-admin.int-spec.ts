import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { tokenFor } from '../support/test-app.js';
import {
  accountWithCustomer,
  payByCard,
  startPaymentsStack,
  type PaymentsStack,
} from './notifications.support.js';
import { http } from './payments-support.js';
import { until } from './webhooks.support.js';

interface NotificationBody {
  id: string;
  accountId: string;
  template: string;
  status: string;
  attempts: number;
  lastError: string | null;
}
interface ErrorBody {
  error: { code: string };
}

describe('admin: the e-mail outbox (list, inspect, resend a failed e-mail)', () => {
  let s: PaymentsStack;

  beforeAll(async () => {
    s = await startPaymentsStack();
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  /** A paid receipt whose e-mail the SMTP server took, then marked failed as after its last attempt. */
  async function failedReceipt(): Promise<{
    id: string;
    accountId: string;
    customer: string;
    billingEmail: string;
  }> {
    const a = await accountWithCustomer(s, 'en-US', 'UTC');
    await payByCard(s, a, 4200, 'usd');
    await s.smtp.waitFor((m) => m.to.includes(a.billingEmail), 'the receipt');
    // TypeORM answers an UPDATE with [rows, affected].
    const [row] = await until(async () => {
      const [found] = await s.t.db.query<[{ id: string }[], number]>(
        `UPDATE notifications SET status = 'failed', attempts = 8, last_error = '451 mailbox busy'
          WHERE account_id = $1 AND template = 'payment_succeeded' AND status = 'sent' RETURNING id`,
        [a.accountId],
      );
      return found.length === 1 ? found : null;
    }, 'the receipt marked sent');
    return { id: row?.id ?? '', accountId: a.accountId, customer: a.customer, billingEmail: a.billingEmail };
  }

  it('lists failed e-mails with their error, and sends one again once: queued, mailed, audited', async () => {
    const failed = await failedReceipt();
    const list = await http<{ data: NotificationBody[] }>(
      s.t.url,
      'GET',
      `/v1/admin/notifications?status=failed&accountId=${failed.accountId}`,
      { token: s.admin },
    );
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([
      expect.objectContaining({
        id: failed.id,
        template: 'payment_succeeded',
        status: 'failed',
        attempts: 8,
        lastError: '451 mailbox busy',
      }),
    ]);
    const one = await http<NotificationBody>(s.t.url, 'GET', `/v1/admin/notifications/${failed.id}`, {
      token: s.admin,
    });
    expect(one.body).toMatchObject({ id: failed.id, status: 'failed' });

    const mailsBefore = s.smtp.mails.filter((m) => m.to.includes(failed.billingEmail)).length;
    const resent = await http<NotificationBody>(
      s.t.url,
      'POST',
      `/v1/admin/notifications/${failed.id}/resend`,
      { token: s.admin, headers: { 'idempotency-key': randomUUID() } },
    );
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ id: failed.id, status: 'pending', attempts: 0 });

    const again = await s.smtp.waitFor(
      (m) =>
        m.to.includes(failed.billingEmail) &&
        s.smtp.mails.filter((x) => x.to.includes(failed.billingEmail)).length > mailsBefore,
      'the receipt sent again',
    );
    expect(again.headers['message-id']).toBe(`<${failed.id}@billing.notifications>`);
    await until(async () => {
      const r = await http<NotificationBody>(s.t.url, 'GET', `/v1/admin/notifications/${failed.id}`, {
        token: s.admin,
      });
      return r.body.status === 'sent' ? r.body : null;
    }, 'the row marked sent');
    const audit = await s.t.db.query<{ before: unknown; after: unknown; actor_type: string }[]>(
      `SELECT before, after, actor_type FROM audit_log WHERE action = 'notification.resent' AND entity_id = $1`,
      [failed.id],
    );
    expect(audit).toEqual([
      {
        before: { status: 'failed', lastError: '451 mailbox busy' },
        after: { status: 'pending' },
        actor_type: 'user',
      },
    ]);

    // Sent now: another resend is refused and changes nothing.
    const twice = await http<ErrorBody>(s.t.url, 'POST', `/v1/admin/notifications/${failed.id}/resend`, {
      token: s.admin,
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('notification_not_failed');
    expect(s.smtp.mails.filter((m) => m.to.includes(failed.billingEmail))).toHaveLength(mailsBefore + 1);
  }, 60_000);

  it('answers 404 for an unknown e-mail, 400 for a malformed id or filter, 403 to anyone but an admin', async () => {
    const failed = await failedReceipt();
    const key = () => ({ 'idempotency-key': randomUUID() });
    const unknown = await http<ErrorBody>(s.t.url, 'POST', `/v1/admin/notifications/${randomUUID()}/resend`, {
      token: s.admin,
      headers: key(),
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    const malformed = await http<ErrorBody>(s.t.url, 'GET', '/v1/admin/notifications/not-a-uuid', {
      token: s.admin,
    });
    expect(malformed.status).toBe(400);
    const badFilter = await http<ErrorBody>(s.t.url, 'GET', '/v1/admin/notifications?status=lost', {
      token: s.admin,
    });
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.error.code).toBe('validation_failed');

    for (const role of ['owner', 'finance', 'support'] as const) {
      const token = await tokenFor({ sub: `${role}-${randomUUID()}`, role, accountId: failed.accountId });
      const refused = await http<ErrorBody>(s.t.url, 'POST', `/v1/admin/notifications/${failed.id}/resend`, {
        token,
        headers: key(),
      });
      expect({ role, status: refused.status }).toEqual({ role, status: 403 });
    }
    // A second receipt in the account: its e-mails listed newest first, one per page, then no more.
    await payByCard(s, { accountId: failed.accountId, customer: failed.customer }, 1500, 'usd');
    await until(async () => {
      const n = await s.t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM notifications WHERE account_id = $1`,
        [failed.accountId],
      );
      return n[0]?.n === 2;
    }, 'the second receipt in the outbox');
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: {
        status: number;
        body: { data: NotificationBody[]; has_more: boolean; next_cursor: string | null };
      } = await http(
        s.t.url,
        'GET',
        `/v1/admin/notifications?accountId=${failed.accountId}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        { token: s.admin },
      );
      expect(page.status).toBe(200);
      pages.push(...page.body.data.map((n) => n.id));
      cursor = page.body.has_more ? page.body.next_cursor : null;
    } while (cursor !== null);
    const expected = await s.t.db.query<{ id: string }[]>(
      `SELECT id FROM notifications WHERE account_id = $1 ORDER BY created_at DESC, id DESC`,
      [failed.accountId],
    );
    expect(expected).toHaveLength(2);
    // The test clock stands still: both have one created_at, so the order and the cursor rest on the id.
    expect(pages).toEqual(expected.map((r) => r.id));
    expect(pages).toContain(failed.id);

    const [row] = await s.t.db.query<{ status: string }[]>(`SELECT status FROM notifications WHERE id = $1`, [
      failed.id,
    ]);
    expect(row?.status).toBe('failed');
  }, 60_000);
});
