import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { RecordingProxy } from '../support/recording-proxy.js';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { http } from '../support/test-app.js';
import {
  addMember,
  fillSeats,
  stripeSeats,
  subscribedAccount,
  type Prices,
  type SeatChangeJson,
} from './seats.support.js';
import { createCatalogue } from './stripe-mirrors.support.js';
import { SECRET } from './webhooks.support.js';

// R-PLAN-5 with R-PLAN-3: when billing is off for an account, the members routes never ask Stripe to
// bill it. Buying a seat for a member, pricing a missing one and releasing a seat with a member answer
// 409 `billing_disabled` and change nothing; a member taking a free seat, or leaving with `keepSeat`,
// needs no Stripe call and still works. The app talks to the emulator through a recording proxy, so the
// test sees every Stripe request it makes.
describe('members and seats while billing is off', () => {
  let w: StripeWorld;
  let proxy: RecordingProxy;
  let prices: Prices;

  beforeAll(async () => {
    proxy = new RecordingProxy();
    const base = await proxy.start();
    w = await startStripeWorld({ secret: SECRET, env: { STRIPE_API_BASE: base } });
    proxy.forwardTo(w.kit.emulator.url);
    prices = await createCatalogue(w.stripe);
  }, 60_000);
  afterAll(async () => {
    await w?.close();
    await proxy?.stop();
  });

  const setFlag = async (accountId: string, billingEnabled: boolean) => {
    const res = await http(w.t.url, 'PATCH', `/v1/admin/accounts/${accountId}/billing`, {
      token: w.admin,
      body: { billingEnabled },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(res.status).toBe(200);
  };

  /**
   * The app's Stripe requests about seats since `from`: subscription updates and invoice previews (not the
   * webhook worker's re-reads of the setup's own invoice, which may still be on their way).
   */
  const seatCalls = (from: number) =>
    proxy.requests
      .slice(from)
      .filter(
        (r) =>
          (r.method === 'POST' && r.path.startsWith('/v1/subscriptions')) ||
          r.path.startsWith('/v1/invoices/create_preview'),
      );

  const removeMember = (owner: string, accountId: string, userId: string, query = '') =>
    http<{ release?: SeatChangeJson | null; error?: { code: string } }>(
      w.t.url,
      'DELETE',
      `/v1/accounts/${accountId}/members/${userId}${query}`,
      { token: owner, headers: { 'idempotency-key': randomUUID() } },
    );

  const memberIds = async (accountId: string) =>
    (
      await w.t.db.query<{ user_id: string }[]>(
        `SELECT user_id FROM account_members WHERE account_id = $1 ORDER BY user_id`,
        [accountId],
      )
    ).map((r) => r.user_id);

  it('refuses only the seat changes that would call Stripe, with 409 billing_disabled, and asks Stripe nothing', async () => {
    // Pro: 5 included seats, plus 1 purchased add-on seat.
    const a = await subscribedAccount(w, prices, { seats: 1 });
    await setFlag(a.accountId, false);
    const from = proxy.requests.length;

    // Free seats: no Stripe call, members are added.
    const members = await fillSeats(w, a, 6);
    expect(members).toHaveLength(5);

    // No free seat: buying one, or being told its price, would call Stripe.
    const bought = await addMember(w, a, { userId: 'seventh', buySeat: true });
    expect({ status: bought.status, code: bought.body.error?.code }).toEqual({
      status: 409,
      code: 'billing_disabled',
    });
    const priced = await addMember(w, a, { userId: 'seventh' });
    expect({ status: priced.status, code: priced.body.error?.code }).toEqual({
      status: 409,
      code: 'billing_disabled',
    });

    // Removing a member would release the now-spare add-on seat at Stripe: refused, the member stays.
    const released = await removeMember(a.owner, a.accountId, members[0]!);
    expect({ status: released.status, code: released.body.error?.code }).toEqual({
      status: 409,
      code: 'billing_disabled',
    });
    expect(await memberIds(a.accountId)).toContain(members[0]);
    expect(await memberIds(a.accountId)).not.toContain('seventh');

    // Keeping the seat needs no Stripe call: the member leaves.
    const kept = await removeMember(a.owner, a.accountId, members[0]!, '?keepSeat=true');
    expect(kept.status).toBe(200);
    expect(kept.body.release).toBeNull();
    expect(await memberIds(a.accountId)).not.toContain(members[0]);

    expect(seatCalls(from)).toEqual([]);
    expect(await stripeSeats(w, a, prices)).toBe(1);

    // Billing back on: the same removal releases the spare seat at Stripe.
    await setFlag(a.accountId, true);
    const back = await removeMember(a.owner, a.accountId, members[1]!);
    expect(back.status).toBe(200);
    expect(back.body.release).toMatchObject({ fromSeats: 1, toSeats: 0 });
    expect(seatCalls(from).length).toBeGreaterThan(0);
    expect(await stripeSeats(w, a, prices)).toBe(0);
  });
});
