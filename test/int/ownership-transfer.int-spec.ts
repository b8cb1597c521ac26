import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { http, tokenFor } from '../support/test-app.js';
import { startPaymentsStack, type PaymentsStack, type ReceivedMail } from './notifications.support.js';
import { addMember, subscribedAccount, type Prices, type SeatsAccount } from './seats.support.js';
import { createCatalogue } from './stripe-mirrors.support.js';
import { until } from './webhooks.support.js';

interface TransferJson {
  id?: string;
  status?: string;
  toUserId?: string;
  expiresAt?: string;
  error?: { code: string };
}

// R-SUB-9: billing ownership transfer through the real API, the outbox and a test SMTP server: the
// named member confirms with the e-mailed one-time link (48 h, single use, only them); the roles swap
// in one transaction, audited; the old owner is told.
describe('billing ownership transfer', () => {
  let s: PaymentsStack;
  let prices: Prices;

  beforeAll(async () => {
    s = await startPaymentsStack();
    prices = await createCatalogue(s.stripe);
  });
  afterAll(async () => {
    await s?.close();
  });

  /** A subscribed account with two members, bob and carol, and their tokens. */
  async function team() {
    const a = await subscribedAccount(s, prices);
    const bob = `bob-${randomUUID().slice(0, 8)}`;
    const carol = `carol-${randomUUID().slice(0, 8)}`;
    for (const userId of [bob, carol]) expect((await addMember(s, a, { userId })).status).toBe(201);
    const token = (sub: string) => tokenFor({ sub, role: 'member', accountId: a.accountId });
    return { a, bob, carol, bobToken: await token(bob), carolToken: await token(carol) };
  }

  const request = (a: SeatsAccount, toUserId: string, token = a.owner) =>
    http<TransferJson>(s.t.url, 'POST', `/v1/accounts/${a.accountId}/ownership-transfers`, {
      token,
      headers: { 'idempotency-key': randomUUID() },
      body: { toUserId },
    });

  const confirm = (token: string, linkToken: string) =>
    http<TransferJson>(s.t.url, 'POST', '/v1/ownership-transfers/confirm', {
      token,
      headers: { 'idempotency-key': randomUUID() },
      body: { token: linkToken },
    });

  const roles = async (a: SeatsAccount) =>
    Object.fromEntries(
      (
        await s.t.db.query<{ user_id: string; role: string }[]>(
          `SELECT user_id, role FROM account_members WHERE account_id = $1`,
          [a.accountId],
        )
      ).map((r) => [r.user_id, r.role]),
    );

  /** The one-time token in the confirmation mail sent to `userId` for transfer `transferId`. */
  async function linkToken(
    userId: string,
    transferId: string,
  ): Promise<{ mail: ReceivedMail; token: string }> {
    const mail = await s.smtp.waitFor(
      (m) => m.to.includes(`${userId}@example.test`) && m.headers.subject?.startsWith('Confirm:') === true,
      `the confirmation mail to ${userId} (${transferId})`,
    );
    const url = /(https?:\/\/\S+token=\S+)/.exec(mail.text)?.[1];
    const token = url ? new URL(url).searchParams.get('token') : null;
    if (!token) throw new Error(`no link in: ${mail.text}`);
    return { mail, token };
  }

  it('e-mails the named member a one-time link; only they can use it, once; the roles swap and the old owner is told', async () => {
    const { a, bob, carol, bobToken, carolToken } = await team();
    const asked = await request(a, bob);
    expect(asked).toMatchObject({ status: 201, body: { status: 'pending', toUserId: bob } });
    expect(Date.parse(asked.body.expiresAt!) - s.t.clock.now().getTime()).toBe(48 * 3600 * 1000);
    expect(JSON.stringify(asked.body)).not.toMatch(/token/i);
    const { token } = await linkToken(bob, asked.body.id!);

    // Only the token's hash is stored.
    const [stored] = await s.t.db.query<{ token_hash: string }[]>(
      `SELECT token_hash FROM ownership_transfers WHERE id = $1`,
      [asked.body.id],
    );
    expect(stored!.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    const leaked = await s.t.db.query<unknown[]>(
      `SELECT 1 FROM ownership_transfers t WHERE to_jsonb(t)::text LIKE '%' || $1 || '%'`,
      [token],
    );
    expect(leaked).toHaveLength(0);
    // Once the mail is sent, the outbox row no longer holds the token: the link is kept without it.
    const sentRow = async () =>
      (
        await s.t.db.query<{ status: string; payload: { confirmUrl: string; transferId: string } }[]>(
          `SELECT status, payload FROM notifications WHERE dedupe_key = $1`,
          [`ownership_transfer_requested:${asked.body.id}`],
        )
      )[0];
    await until(async () => (await sentRow())?.status === 'sent', 'the confirmation mail marked sent');
    const sent = (await sentRow())!;
    expect(JSON.stringify(sent.payload)).not.toContain(token);
    expect(sent.payload.confirmUrl).not.toMatch(/token/);
    expect(sent.payload).toMatchObject({ transferId: asked.body.id });

    // Another member cannot use it, and does not use it up.
    expect(await confirm(carolToken, token)).toMatchObject({
      status: 403,
      body: { error: { code: 'ownership_transfer_wrong_user' } },
    });
    expect(await roles(a)).toMatchObject({ [a.ownerId]: 'owner', [bob]: 'member', [carol]: 'member' });

    const done = await confirm(bobToken, token);
    expect(done).toMatchObject({ status: 200, body: { status: 'confirmed', id: asked.body.id } });
    expect(await roles(a)).toEqual({ [a.ownerId]: 'member', [bob]: 'owner', [carol]: 'member' });
    const audit = await s.t.db.query<
      { actor_id: string; before: { owner: string }; after: { owner: string } }[]
    >(
      `SELECT actor_id, before, after FROM audit_log WHERE entity_id = $1 AND action = 'account.ownership_transferred'`,
      [asked.body.id],
    );
    expect(audit).toEqual([
      expect.objectContaining({
        actor_id: bob,
        before: expect.objectContaining({ owner: a.ownerId }),
        after: expect.objectContaining({ owner: bob }),
      }),
    ]);
    const told = await s.smtp.waitFor(
      (m) => m.to.includes(`${a.ownerId}@example.test`) && /was transferred/.test(m.headers.subject ?? ''),
      'the mail to the old owner',
    );
    expect(told.text).toContain(bob);

    // Single use.
    expect(await confirm(bobToken, token)).toMatchObject({
      status: 409,
      body: { error: { code: 'ownership_transfer_used' } },
    });
    // The old owner's token still says owner, but the members say otherwise now.
    expect(await request(a, carol)).toMatchObject({
      status: 403,
      body: { error: { code: 'ownership_transfer_not_owner' } },
    });
  });

  it('refuses an expired link (48 hours) and a link replaced by a newer request', async () => {
    const { a, bob, carol, bobToken, carolToken } = await team();
    const first = await request(a, bob);
    const { token: firstToken } = await linkToken(bob, first.body.id!);
    const second = await request(a, carol);
    expect(second.status).toBe(201);
    const { token: secondToken } = await linkToken(carol, second.body.id!);
    expect(await confirm(bobToken, firstToken)).toMatchObject({
      status: 409,
      body: { error: { code: 'ownership_transfer_used' } },
    });

    s.t.clock.advance(48 * 3600 * 1000);
    expect(await confirm(carolToken, secondToken)).toMatchObject({
      status: 410,
      body: { error: { code: 'ownership_transfer_expired' } },
    });
    expect(await roles(a)).toMatchObject({ [a.ownerId]: 'owner', [bob]: 'member', [carol]: 'member' });
  });

  it('refuses a new owner who is not another member, a token of no transfer, and members', async () => {
    const { a, bobToken } = await team();
    for (const toUserId of ['stranger', a.ownerId]) {
      expect(await request(a, toUserId)).toMatchObject({
        status: 422,
        body: { error: { code: 'ownership_transfer_invalid_target' } },
      });
    }
    expect((await request(a, 'anyone', bobToken)).status).toBe(403);
    expect(await confirm(bobToken, 'A'.repeat(43))).toMatchObject({ status: 404 });
    expect(await confirm(bobToken, 'not a token!')).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed' } },
    });
    const rows = await s.t.db.query<unknown[]>(`SELECT 1 FROM ownership_transfers WHERE account_id = $1`, [
      a.accountId,
    ]);
    expect(rows).toHaveLength(0);
  });
});
