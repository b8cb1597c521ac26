import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import {
  CreatePaymentHandler,
  pendingApiPayment,
} from '../../apps/billing-api/src/modules/payments/commands/create-payment/create-payment.handler.js';
import { PaymentWriter } from '../../apps/billing-api/src/modules/payments/persistence/payment-writer.js';
import { paymentSnapshot } from '../../apps/billing-api/src/modules/payments/persistence/payment-writes.js';
import { PaymentOrmEntity } from '../../apps/billing-api/src/modules/payments/persistence/payment.orm-entity.js';
import { attachedMethodWhere } from '../../apps/billing-api/src/modules/payments/queries/payment-method.queries.js';
import { transformStripePaymentIntent } from '../../apps/billing-api/src/modules/payments/stripe/transform-stripe-payment-intent.js';
import { transformStripeCharge } from '../../apps/billing-api/src/modules/payments/stripe/transform-stripe-charge.js';
import { PaymentMirror } from '../../apps/billing-api/src/modules/payments/webhooks/payment-mirror.js';
import {
  accountWithCustomer,
  attachMethod,
  randomUUID,
  type PaymentsWorld,
  type TestAccount,
} from './payments-support.js';
import { startStripeWorld } from '../support/stripe-world.js';
import { SECRET } from './webhooks.support.js';

// Issue 14: one writer per payment row. The API's answer, the janitor and the webhook mirror all write a
// payment through PaymentWriter, conditioned on the version they read; these tests make them meet on
// one row and check that every move of the status is written, recorded and announced exactly once.
describe('payments: one writer per payment row', () => {
  let w: PaymentsWorld;
  let a: TestAccount;
  let method: string;
  let writer: PaymentWriter;
  let create: CreatePaymentHandler;
  let mirror: PaymentMirror;

  beforeAll(async () => {
    // The emulator delivers no PaymentIntent or charge events: these tests apply them through the mirror
    // themselves, at the moments they choose.
    w = await startStripeWorld({
      secret: SECRET,
      events: [
        'customer.created',
        'customer.updated',
        'setup_intent.created',
        'setup_intent.succeeded',
        'payment_method.attached',
      ],
    });
    a = await accountWithCustomer(w);
    method = await attachMethod(w, a, 'pm_card_visa');
    writer = w.t.app.get(PaymentWriter, { strict: false });
    create = w.t.app.get(CreatePaymentHandler, { strict: false });
    mirror = w.t.app.get(PaymentMirror, { strict: false });
  });
  afterAll(async () => {
    await w?.close();
  });

  /** A pending payment as the API writes it before calling Stripe (the writer's API insert). */
  async function pendingPayment(amount = 1200): Promise<PaymentOrmEntity> {
    const row = pendingApiPayment({
      accountId: a.accountId,
      amountMinor: amount,
      currency: 'usd',
      description: null,
      orderReference: null,
      metadata: {},
      now: w.t.clock.now(),
    });
    const found = await writer.insertWithMethod(
      w.t.db.manager,
      row,
      attachedMethodWhere(a.accountId, method)!,
      null,
      null,
    );
    expect(found).toMatchObject({ inserted: true, claimHeld: true });
    return w.t.db.getRepository(PaymentOrmEntity).findOneByOrFail({ id: row.id });
  }

  /** Its PaymentIntent at Stripe, confirmed (succeeded), named by `metadata.payment_id` as the API names it. */
  function confirmAtStripe(row: PaymentOrmEntity): Promise<Stripe.PaymentIntent> {
    return w.stripe.paymentIntents.create({
      amount: row.amount,
      currency: row.currency,
      customer: a.customerId,
      payment_method: method,
      confirm: true,
      metadata: { payment_id: row.id, account_id: row.accountId },
    });
  }

  const answerOf = (pi: Stripe.PaymentIntent) => {
    const values = transformStripePaymentIntent(pi);
    return {
      status: values.status,
      stripePaymentIntentId: pi.id,
      stripeCreated: pi.created,
      amountReceived: values.amountReceived,
      latestChargeId: values.latestChargeId,
    };
  };

  /** A PaymentIntent event applied by the mirror in a transaction of its own, as a worker applies it. */
  const mirrorIntent = (pi: Stripe.PaymentIntent, created: number) =>
    w.t.db.transaction((manager) =>
      mirror.applyPaymentIntent(transformStripePaymentIntent(pi), {
        manager,
        event: { id: `evt_${randomUUID()}`, type: `payment_intent.${pi.status}`, created, livemode: false },
        refetch: async (id) =>
          (await w.stripe.paymentIntents.retrieve(id)) as unknown as Record<string, unknown>,
      }),
    );

  /** A charge event with card details of its own (expiry 12/2040, debit), applied by the mirror. */
  const mirrorCharge = (pi: Stripe.PaymentIntent) =>
    w.t.db.transaction((manager) =>
      mirror.applyCharge(
        {
          ...transformStripeCharge({
            id: pi.latest_charge,
            payment_intent: pi.id,
          } as unknown as Stripe.Charge),
          stripePaymentMethodId: method,
          paymentMethod: {
            type: 'card',
            cardBrand: 'visa',
            cardLast4: '4242',
            cardExpMonth: 12,
            cardExpYear: 2040,
            cardFunding: 'debit',
          },
        },
        {
          manager,
          event: {
            id: `evt_${randomUUID()}`,
            type: 'charge.succeeded',
            created: pi.created,
            livemode: false,
          },
          refetch: async () => null,
        },
      ),
    );

  /** What was written about the payment: its history, its audit records, its integration events. */
  async function recordOf(paymentId: string) {
    const history = await w.t.db.query<{ from_status: string | null; to_status: string }[]>(
      `SELECT from_status, to_status FROM payment_status_history WHERE payment_id = $1::uuid ORDER BY id`,
      [paymentId],
    );
    const [counts] = await w.t.db.query<{ audits: number; succeeded: number; receipts: number }[]>(
      `SELECT (SELECT count(*)::int FROM audit_log
                WHERE entity_id::text = $1::text AND action = 'payment.status_changed') AS audits,
              (SELECT count(*)::int FROM integration_events
                WHERE subject_id::text = $1::text AND type = 'payment.succeeded') AS succeeded,
              (SELECT count(*)::int FROM receipts WHERE payment_id = $1::uuid) AS receipts`,
      [paymentId],
    );
    const [row] = await w.t.db.query<{ status: string; version: number }[]>(
      `SELECT status, version FROM payments WHERE id = $1::uuid`,
      [paymentId],
    );
    return { history, ...counts!, ...row! };
  }

  /** The history is one chain from the creation, and no move is recorded twice. */
  function expectOneChain(history: { from_status: string | null; to_status: string }[]): void {
    expect(history[0]).toEqual({ from_status: null, to_status: 'pending' });
    for (let i = 1; i < history.length; i++) {
      expect(history[i]!.from_status).toBe(history[i - 1]!.to_status);
    }
    expect(history.filter((h) => h.to_status === 'succeeded')).toHaveLength(1);
  }

  it('writes nothing for a writer whose read is older than the row: no history, audit or event', async () => {
    const row = await pendingPayment();
    const stale = paymentSnapshot(row);
    const moved = { ...paymentSnapshot(row), status: 'canceled' as const };
    expect(await writer.write(w.t.db.manager, { before: row, after: moved, steps: [] })).toBe('written');
    const before = await recordOf(row.id);
    expect(before.version).toBe(2);

    const late = { ...paymentSnapshot(stale), status: 'failed' as const, failureCode: 'card_declined' };
    expect(
      await writer.write(w.t.db.manager, {
        before: stale,
        after: late,
        steps: [{ from: 'pending', to: 'failed', declineCode: null }],
      }),
    ).toBe('conflict');
    expect(await recordOf(row.id)).toEqual(before);
  });

  it('writes nothing for a change that changes no field, and keeps the version', async () => {
    const row = await pendingPayment();
    const before = await recordOf(row.id);
    expect(await writer.write(w.t.db.manager, { before: row, after: paymentSnapshot(row), steps: [] })).toBe(
      'unchanged',
    );
    expect(await recordOf(row.id)).toEqual(before);
  });

  it("applies the API's late answer after the mirror moved the row, without recording the move again", async () => {
    const row = await pendingPayment();
    const pi = await confirmAtStripe(row);
    // The webhook (the mirror) applies the success first ...
    expect(await mirrorIntent(pi, pi.created)).toBe('applied');
    const mirrored = await recordOf(row.id);
    expect(mirrored).toMatchObject({ status: 'succeeded', version: 2, succeeded: 1, receipts: 1 });
    // ... then the API applies Stripe's answer to the row as it wrote it (version 1): nothing more.
    const payment = await create.applyAnswer(row.id, answerOf(pi), row);
    expect(payment.status).toBe('succeeded');
    const after = await recordOf(row.id);
    expect(after).toEqual(mirrored);
    expectOneChain(after.history);
    expect(after.audits).toBe(after.history.length - 1);
  });

  it("applies the API's answer on top of a charge's details the mirror wrote first", async () => {
    const row = await pendingPayment();
    const pi = await confirmAtStripe(row);
    // The PaymentIntent's first event links it to the row (keeping the version), then the charge's
    // event, applied before the API's answer, writes the card details of the charge.
    await w.t.db.transaction(async (manager) => {
      const locked = await manager
        .getRepository(PaymentOrmEntity)
        .findOneOrFail({ where: { id: row.id }, lock: { mode: 'pessimistic_write' } });
      await writer.linkPaymentIntent(manager, locked, pi.id);
    });
    expect(await mirrorCharge(pi)).toBe('applied');
    const charged = await w.t.db.getRepository(PaymentOrmEntity).findOneByOrFail({ id: row.id });
    expect(charged).toMatchObject({ status: 'pending', cardExpYear: 2040, cardFunding: 'debit', version: 2 });

    // The API's answer, with the row as it wrote it: applied to the row as it is, keeping the charge's.
    const payment = await create.applyAnswer(row.id, answerOf(pi), row);
    expect(payment.status).toBe('succeeded');
    const now = await w.t.db.getRepository(PaymentOrmEntity).findOneByOrFail({ id: row.id });
    expect(now).toMatchObject({
      status: 'succeeded',
      stripePaymentIntentId: pi.id,
      latestChargeId: pi.latest_charge,
      cardExpYear: 2040,
      cardFunding: 'debit',
      version: 3,
    });
    const after = await recordOf(row.id);
    expectOneChain(after.history);
    expect(after).toMatchObject({ status: 'succeeded', succeeded: 1, receipts: 1 });
  });

  it("records each move once while the API's answer and two workers' mirrors race on one row", async () => {
    for (let round = 0; round < 8; round++) {
      const row = await pendingPayment(1000 + round);
      const pi = await confirmAtStripe(row);
      // The API's answer, the success event applied by the mirror in one worker, and the charge's event
      // in another, all at once.
      const [payment] = await Promise.all([
        create.applyAnswer(row.id, answerOf(pi), row),
        mirrorIntent(pi, pi.created + 1),
        mirrorCharge(pi),
      ]);
      expect(payment.status).toBe('succeeded');
      const after = await recordOf(row.id);
      expectOneChain(after.history);
      expect(after).toMatchObject({ status: 'succeeded', succeeded: 1, receipts: 1 });
      expect(after.audits).toBe(after.history.length - 1);
      const final = await w.t.db.getRepository(PaymentOrmEntity).findOneByOrFail({ id: row.id });
      expect(final).toMatchObject({ stripePaymentIntentId: pi.id, amountReceived: row.amount });
    }
  });
});
