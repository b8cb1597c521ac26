import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { http, tokenFor } from '../support/test-app.js';
import {
  addMember,
  advanceBoth,
  DAY,
  fillSeats,
  prorated,
  stripeSeats,
  subscribedAccount,
  type Prices,
  type SeatChangeJson,
  type SeatCountsJson,
  type SeatsAccount,
} from './seats.support.js';
import { createCatalogue } from './stripe-mirrors.support.js';
import { SECRET, until } from './webhooks.support.js';

const SEAT = 600; // pro_month_seat

// R-PLAN-3 (members and seats), R-EDGE-15, through the real API, the emulator on test clocks and its
// signed webhooks: the price of a missing seat comes from Stripe's preview and is what the purchase
// charges; a released seat's credit is on the next invoice; a double click buys one seat.
describe('members and seats', () => {
  let w: StripeWorld;
  let prices: Prices;

  beforeAll(async () => {
    w = await startStripeWorld({ secret: SECRET });
    prices = await createCatalogue(w.stripe);
  });
  afterAll(async () => {
    await w?.close();
  });

  const putSeats = (a: SeatsAccount, purchased: number, key = randomUUID(), quoteId?: string) =>
    http<{
      seats?: SeatCountsJson;
      change?: SeatChangeJson | null;
      quote?: { id: string; status: string } | null;
      error?: { code: string; details?: Record<string, unknown> };
    }>(w.t.url, 'PUT', '/v1/subscription/seats', {
      token: a.owner,
      headers: { 'idempotency-key': key },
      body: quoteId ? { purchased, quoteId } : { purchased },
    });

  const removeMember = (a: SeatsAccount, userId: string, query = '') =>
    http<{ seats?: SeatCountsJson; release?: SeatChangeJson | null; error?: { code: string } }>(
      w.t.url,
      'DELETE',
      `/v1/accounts/${a.accountId}/members/${userId}${query}`,
      { token: a.owner },
    );

  const subscriptionRow = async (a: SeatsAccount) => {
    const [row] = await w.t.db.query<{ id: string; seats: number; version: number }[]>(
      `SELECT id, seats, version FROM subscriptions WHERE stripe_subscription_id = $1`,
      [a.subscriptionId],
    );
    return row!;
  };

  it('refuses a member without a free seat with the price of the seat for the rest of the period, then buys it at exactly that price', async () => {
    const a = await subscribedAccount(w, prices);
    await advanceBoth(w, a, a.now + 10 * DAY);
    await fillSeats(w, a, 5);
    const before = await subscriptionRow(a);

    const refused = await addMember(w, a, { userId: 'sixth' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'seat_limit_reached',
      details: { seatsNeeded: 1, seatTotal: 5, memberCount: 5, action: 'buy_seat' },
    });
    const price = refused.body.error!.details!.seatPrice as {
      quoteId: string;
      amountMinor: number;
      amountDue: number;
      currency: string;
      unitAmount: number;
      interval: string;
      prorationDate: string;
      priceLockedUntil: string;
    };
    const expected = await prorated(w, a, prices, SEAT, 1, a.now);
    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThan(SEAT);
    expect(price).toMatchObject({
      amountMinor: expected,
      amountDue: expected,
      currency: 'usd',
      unitAmount: SEAT,
      interval: 'month',
    });
    // The price is a stored seats-only quote (the one way a price is locked), open until it expires.
    const stored = await http<{ kind: string; status: string; amountDueNow: number; expiresAt: string }>(
      w.t.url,
      'GET',
      `/v1/subscription/quotes/${price.quoteId}`,
      { token: a.owner },
    );
    expect(stored).toMatchObject({
      status: 200,
      body: {
        kind: 'seats_added',
        status: 'open',
        amountDueNow: expected,
        expiresAt: price.priceLockedUntil,
      },
    });
    // Nothing changed: no member, no seat at Stripe.
    expect(await stripeSeats(w, a, prices)).toBe(0);

    // A minute later the owner buys it with that quote: the price shown is the price charged.
    w.t.clock.advance(60_000);
    const bought = await addMember(w, a, { userId: 'sixth', buySeat: true, quoteId: price.quoteId });
    expect(bought.status).toBe(201);
    expect(bought.body).toMatchObject({
      member: { userId: 'sixth', role: 'member' },
      seats: { used: 6, included: 5, purchased: 1, total: 6 },
      purchase: { fromSeats: 0, toSeats: 1, amountCharged: expected },
    });
    // Prorated to the instant of the price shown (its quote's), not to the click.
    expect(bought.body.purchase!.price).toMatchObject({
      quoteId: price.quoteId,
      prorationDate: price.prorationDate,
    });
    expect(bought.body.purchase!.quote).toMatchObject({ id: price.quoteId, status: 'applied' });
    expect(Date.parse(price.prorationDate)).toBe(a.now * 1000);
    const invoice = await w.stripe.invoices.retrieve(bought.body.purchase!.invoiceId!);
    expect(invoice).toMatchObject({ status: 'paid', amount_paid: expected });
    expect(await stripeSeats(w, a, prices)).toBe(1);

    // Through the machine: one version more, audited before/after, the event published for listeners.
    const after = await subscriptionRow(a);
    expect(after).toMatchObject({ seats: 1, version: before.version + 1 });
    const audit = await w.t.db.query<
      { before: { seats: number }; after: { seats: number; amountCharged: number } }[]
    >(`SELECT before, after FROM audit_log WHERE entity_id = $1 AND action = 'subscription.seats_changed'`, [
      after.id,
    ]);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ before: { seats: 0 }, after: { seats: 1, amountCharged: expected } });
    // Stripe's own webhooks about the change arrive and leave the seats as they are.
    await until(async () => {
      const rows = await w.t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM webhook_events WHERE type = 'customer.subscription.updated'
           AND payload->'data'->'object'->>'id' = $1 AND status IN ('processed', 'ignored')`,
        [a.subscriptionId],
      );
      return (rows[0]?.n ?? 0) >= 1;
    }, 'the update webhook applied');
    expect((await subscriptionRow(a)).seats).toBe(1);
  });

  it('buys one seat on a double click, whichever key each click sends', async () => {
    const a = await subscribedAccount(w, prices);
    await advanceBoth(w, a, a.now + 3 * DAY);
    await fillSeats(w, a, 5);
    const clicks = await Promise.all([
      addMember(w, a, { userId: 'double', buySeat: true }),
      addMember(w, a, { userId: 'double', buySeat: true }),
    ]);
    expect(clicks.map((c) => c.status).sort()).toEqual([201, 409]);
    expect(clicks.find((c) => c.status === 409)?.body.error?.code).toBe('member_already_exists');
    const key = randomUUID();
    const third = await addMember(w, a, { userId: 'double-2', buySeat: true }, key);
    const replay = await addMember(w, a, { userId: 'double-2', buySeat: true }, key);
    expect(third.status).toBe(201);
    expect(replay).toMatchObject({ status: 201, body: third.body });
    expect(await stripeSeats(w, a, prices)).toBe(2);
    const invoices = await w.stripe.invoices.list({ subscription: a.subscriptionId, limit: 10 });
    // The first invoice, then one per bought seat.
    expect(invoices.data).toHaveLength(3);
    expect((await subscriptionRow(a)).seats).toBe(2);
  });

  it('frees the seat of a removed member now and credits the released add-on seat on the next invoice', async () => {
    const a = await subscribedAccount(w, prices, { seats: 1 });
    const members = await fillSeats(w, a, 6);
    await advanceBoth(w, a, a.now + 12 * DAY);
    const removed = await removeMember(a, members[0]!);
    expect(removed.status).toBe(200);
    const credit = await prorated(w, a, prices, SEAT, 1, a.now);
    expect(removed.body).toMatchObject({
      seats: { used: 5, purchased: 0, total: 5 },
      release: {
        fromSeats: 1,
        toSeats: 0,
        invoiceId: null,
        amountCharged: 0,
        price: { amountMinor: -credit },
      },
    });
    expect(await stripeSeats(w, a, prices)).toBe(0);
    const list = await http<{ data: { userId: string }[] }>(
      w.t.url,
      'GET',
      `/v1/accounts/${a.accountId}/members`,
      {
        token: a.owner,
      },
    );
    expect(list.body.data.map((m) => m.userId)).not.toContain(members[0]);

    // Nothing is paid back now; the renewal invoice carries the credit.
    const end = (await w.stripe.subscriptions.retrieve(a.subscriptionId)).items.data[0]!.current_period_end;
    await advanceBoth(w, a, end + 2 * 3600);
    const renewal = await until(async () => {
      const invoices = await w.stripe.invoices.list({ subscription: a.subscriptionId, limit: 10 });
      return invoices.data.find((i) => i.billing_reason === 'subscription_cycle') ?? null;
    }, 'the renewal invoice');
    const lines = renewal.lines.data.map((l) => l.amount);
    expect(lines).toContain(-credit);
    expect(renewal.amount_due).toBe(2900 - credit);

    // The owner stays: 409, nothing removed.
    const owner = await removeMember(a, a.ownerId);
    expect(owner).toMatchObject({ status: 409, body: { error: { code: 'owner_not_removable' } } });
    expect((await removeMember(a, 'nobody')).status).toBe(404);
  });

  it('keeps the paid seat when asked, for the next member', async () => {
    const a = await subscribedAccount(w, prices, { seats: 1 });
    const members = await fillSeats(w, a, 6);
    const verdictSeats = async () =>
      (
        await http<{ limits: { seats: { used: number; total: number } } }>(
          w.t.url,
          'GET',
          `/v1/accounts/${a.accountId}/entitlements`,
          { token: a.owner },
        )
      ).body.limits.seats;
    // The verdict is cached now; members leaving and joining refresh it (account.member_* events).
    expect(await verdictSeats()).toEqual({ used: 6, total: 6 });
    const kept = await removeMember(a, members[1]!, '?keepSeat=true');
    expect(kept).toMatchObject({
      status: 200,
      body: { seats: { used: 5, purchased: 1, total: 6 }, release: null },
    });
    expect(await stripeSeats(w, a, prices)).toBe(1);
    expect(await verdictSeats()).toEqual({ used: 5, total: 6 });
    expect((await addMember(w, a, { userId: 'next' })).body.purchase).toBeNull();
    expect(await verdictSeats()).toEqual({ used: 6, total: 6 });
  });

  it('sets the purchased seats up and down, and refuses to go below the members in use (R-EDGE-15)', async () => {
    const a = await subscribedAccount(w, prices);
    await advanceBoth(w, a, a.now + 5 * DAY);
    await fillSeats(w, a, 5);
    // The price first; two minutes later the change is charged exactly that.
    const quoted = await http<{ fromSeats: number; toSeats: number; price: SeatChangeJson['price'] }>(
      w.t.url,
      'GET',
      '/v1/subscription/seats/price?purchased=3',
      { token: a.owner },
    );
    const charge = await prorated(w, a, prices, SEAT, 3, a.now);
    expect(quoted).toMatchObject({
      status: 200,
      body: { fromSeats: 0, toSeats: 3, price: { amountMinor: charge, amountDue: charge } },
    });
    w.t.clock.advance(120_000);
    // Two clicks at once with their own keys and the quote of the price: one buys, the other finds the
    // seats bought.
    const quoteId = quoted.body.price.quoteId;
    const clicks = await Promise.all([
      putSeats(a, 3, randomUUID(), quoteId),
      putSeats(a, 3, randomUUID(), quoteId),
    ]);
    const up = clicks.find((c) => c.body.change)!;
    expect(up.body.change!.price).toMatchObject({
      quoteId,
      prorationDate: quoted.body.price.prorationDate,
    });
    expect(up.body.quote).toMatchObject({ id: quoteId, status: 'applied' });
    expect(up).toMatchObject({
      status: 200,
      body: {
        seats: { used: 5, purchased: 3, total: 8 },
        change: { fromSeats: 0, toSeats: 3, amountCharged: charge },
      },
    });
    expect(clicks.map((c) => [c.status, c.body.change === null])).toContainEqual([200, true]);
    expect(await stripeSeats(w, a, prices)).toBe(3);
    expect((await w.stripe.invoices.list({ subscription: a.subscriptionId })).data).toHaveLength(2);
    // The same number again: nothing to do, nothing charged.
    expect(await putSeats(a, 3)).toMatchObject({ status: 200, body: { change: null } });

    // Six members need one add-on seat: releasing all of them is refused, naming how many to remove.
    await addMember(w, a, { userId: 'sixth' });
    expect(
      await http(w.t.url, 'GET', '/v1/subscription/seats/price?purchased=0', { token: a.owner }),
    ).toMatchObject({ status: 409, body: { error: { code: 'downgrade_blocked_by_seats' } } });
    const below = await putSeats(a, 0);
    expect(below).toMatchObject({
      status: 409,
      body: {
        error: {
          code: 'downgrade_blocked_by_seats',
          details: { membersToRemove: 1, memberCount: 6, seatTotal: 5 },
        },
      },
    });
    expect(await stripeSeats(w, a, prices)).toBe(3);

    const down = await putSeats(a, 1);
    expect(down).toMatchObject({
      status: 200,
      body: {
        seats: { used: 6, purchased: 1, total: 6 },
        change: { fromSeats: 3, toSeats: 1, invoiceId: null },
      },
    });
    expect(down.body.change!.price.amountMinor).toBeLessThan(0);
    expect(await stripeSeats(w, a, prices)).toBe(1);
    const pending = await w.stripe.invoiceItems.list({ customer: a.customerId, pending: true });
    expect(pending.data.reduce((s, i) => s + i.amount, 0)).toBe(down.body.change!.price.amountMinor);

    const invalid = await putSeats(a, -1);
    expect(invalid).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
  });

  it('adds neither the member nor the seat when the card declines the charge', async () => {
    const a = await subscribedAccount(w, prices);
    await fillSeats(w, a, 5);
    const failing = await w.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: a.customerId,
    });
    await w.stripe.customers.update(a.customerId, {
      invoice_settings: { default_payment_method: failing.id },
    });
    await w.stripe.subscriptions.update(a.subscriptionId, { default_payment_method: failing.id });
    const declined = await addMember(w, a, { userId: 'declined', buySeat: true });
    expect(declined.status).toBe(402);
    expect(declined.body.error?.code).toBe('card_declined');
    expect(await stripeSeats(w, a, prices)).toBe(0);
    expect((await subscriptionRow(a)).seats).toBe(0);
    const rows = await w.t.db.query<unknown[]>(
      `SELECT 1 FROM account_members WHERE account_id = $1 AND user_id = 'declined'`,
      [a.accountId],
    );
    expect(rows).toHaveLength(0);

    // With a working card the owner tries again and the seat is bought (not the stored decline replayed).
    const visa = await w.stripe.paymentMethods.attach('pm_card_visa', { customer: a.customerId });
    await w.stripe.customers.update(a.customerId, { invoice_settings: { default_payment_method: visa.id } });
    await w.stripe.subscriptions.update(a.subscriptionId, { default_payment_method: visa.id });
    const retried = await addMember(w, a, { userId: 'declined', buySeat: true });
    expect(retried).toMatchObject({ status: 201, body: { seats: { used: 6, purchased: 1 } } });
    expect(await stripeSeats(w, a, prices)).toBe(1);
  });

  it('lets only the owner change members; finance and support read them', async () => {
    const a = await subscribedAccount(w, prices);
    const member = await tokenFor({ sub: 'member-x', role: 'member', accountId: a.accountId });
    const asMember = await http(w.t.url, 'POST', `/v1/accounts/${a.accountId}/members`, {
      token: member,
      headers: { 'idempotency-key': randomUUID() },
      body: { userId: 'x', email: 'x@example.test' },
    });
    expect(asMember.status).toBe(403);
    const finance = await tokenFor({ sub: 'finance-1', role: 'finance' });
    const read = await http<{ data: unknown[] }>(w.t.url, 'GET', `/v1/accounts/${a.accountId}/members`, {
      token: finance,
    });
    expect(read).toMatchObject({ status: 200 });
    expect(read.body.data).toHaveLength(1);
    const asFinance = await http(w.t.url, 'PUT', '/v1/subscription/seats', {
      token: finance,
      headers: { 'idempotency-key': randomUUID() },
      body: { purchased: 1 },
    });
    expect(asFinance.status).toBe(403);
    // Another account's owner: 404, as if the account did not exist.
    const other = await tokenFor({ sub: 'o', role: 'owner', accountId: randomUUID() });
    const foreign = await http(w.t.url, 'POST', `/v1/accounts/${a.accountId}/members`, {
      token: other,
      headers: { 'idempotency-key': randomUUID() },
      body: { userId: 'y', email: 'y@example.test' },
    });
    expect(foreign.status).toBe(404);
  });

  it('on the Free plan, a second member is refused: it sells no seats', async () => {
    const created = await http<{ id: string }>(w.t.url, 'POST', '/v1/admin/accounts', {
      token: w.admin,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        name: 'Free seats',
        billingEmail: 'free@example.test',
        owner: { userId: 'free-owner', email: 'f@example.test' },
      },
    });
    const owner = await tokenFor({ sub: 'free-owner', role: 'owner', accountId: created.body.id });
    const res = await http<{ error: { code: string } }>(
      w.t.url,
      'POST',
      `/v1/accounts/${created.body.id}/members`,
      {
        token: owner,
        headers: { 'idempotency-key': randomUUID() },
        body: { userId: 'second', email: 's@example.test', buySeat: true },
      },
    );
    expect(res).toMatchObject({ status: 422, body: { error: { code: 'seat_addon_unavailable' } } });
    const seats = await http(w.t.url, 'PUT', '/v1/subscription/seats', {
      token: owner,
      headers: { 'idempotency-key': randomUUID() },
      body: { purchased: 1 },
    });
    expect(seats).toMatchObject({ status: 409, body: { error: { code: 'invalid_transition' } } });
  });
});
