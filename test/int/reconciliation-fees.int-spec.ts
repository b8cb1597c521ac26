import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JobQueue } from '../../apps/billing-api/src/platform/queue/job-queue.js';
import type Stripe from 'stripe';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { http } from '../support/test-app.js';
import {
  dashboard,
  emulatorAdmin,
  findingsOf,
  reconcile,
  webhooksSettled,
  type FindingBody,
  type RunBody,
} from './reconciliation.support.js';
import { createAccount, metricValue, until } from './webhooks.support.js';

interface MoneyRow {
  id: string;
  balance_transaction_id: string | null;
  fee: string | null;
  net: string | null;
}

// Fees and nets (issue 21): the payment and refund mirrors record each charge's and refund's balance
// transaction from the webhook path; reconciliation compares them with Stripe's balance transactions as a
// finance team would. Drift is made by editing a balance transaction in the emulator's store (as a fee
// adjustment at Stripe would, without an event), by losing webhooks, and by a row recorded before fees were.
describe('reconciliation of fees and nets (R-REC): balance transactions against the books', () => {
  let w: StripeWorld;
  const windowStart = new Date(Date.now() - 60 * 60 * 1000);
  let runs = 0;
  const nextWindow = () => ({ from: windowStart, to: new Date(Date.now() + 2000 + ++runs) });

  beforeAll(async () => {
    w = await startStripeWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  async function customerOfAnAccount(): Promise<{ accountId: string; customer: Stripe.Customer }> {
    const accountId = await createAccount(w.t.url, w.admin);
    const customer = await w.stripe.customers.create({
      email: 'o@example.test',
      metadata: { account_id: accountId },
    });
    return { accountId, customer };
  }

  async function paid(amount: number): Promise<{ accountId: string; pi: Stripe.PaymentIntent }> {
    const { accountId, customer } = await customerOfAnAccount();
    const pi = await w.stripe.paymentIntents.create({
      amount,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    return { accountId, pi };
  }

  /** The balance transaction of a PaymentIntent's charge, as Stripe has it. */
  async function chargeTxn(piId: string): Promise<Stripe.BalanceTransaction> {
    const pi = await w.stripe.paymentIntents.retrieve(piId, {
      expand: ['latest_charge.balance_transaction'],
    });
    return (pi.latest_charge as Stripe.Charge).balance_transaction as Stripe.BalanceTransaction;
  }

  async function paymentRow(piId: string): Promise<MoneyRow | undefined> {
    const rows = await w.t.db.query<MoneyRow[]>(
      `SELECT id, balance_transaction_id, fee::text, net::text FROM payments WHERE stripe_payment_intent_id = $1`,
      [piId],
    );
    return rows[0];
  }

  async function refundRow(refundId: string): Promise<MoneyRow | undefined> {
    const rows = await w.t.db.query<MoneyRow[]>(
      `SELECT id, balance_transaction_id, fee::text, net::text FROM refunds WHERE stripe_refund_id = $1`,
      [refundId],
    );
    return rows[0];
  }

  async function succeededRefund(piId: string, amount: number): Promise<Stripe.Refund> {
    const refund = await w.stripe.refunds.create({ payment_intent: piId, amount });
    return until(async () => {
      const r = await w.stripe.refunds.retrieve(refund.id);
      return r.status === 'succeeded' ? r : null;
    }, 'the refund to settle at Stripe');
  }

  const finding = (run: RunBody, stripeId: string, kind: string): FindingBody => {
    const found = run.findings.find((f) => f.stripeId === stripeId && f.kind === kind);
    if (!found) throw new Error(`no ${kind} finding about ${stripeId}: ${JSON.stringify(run.findings)}`);
    return found;
  };

  let inStep: { accountId: string; pi: Stripe.PaymentIntent };
  let inStepRefund: Stripe.Refund;

  it('the webhook path records the fee and net of a charge and of a refund; the payment view shows them', async () => {
    inStep = await paid(10_000);
    inStepRefund = await succeededRefund(inStep.pi.id, 2500);
    await webhooksSettled(w);
    const txn = await chargeTxn(inStep.pi.id);
    expect(txn.fee).toBeGreaterThan(0);
    await until(async () => (await paymentRow(inStep.pi.id))?.fee !== null, 'the fee mirrored');
    expect(await paymentRow(inStep.pi.id)).toMatchObject({
      balance_transaction_id: txn.id,
      fee: String(txn.fee),
      net: String(txn.net),
    });
    const refundTxn = await w.stripe.balanceTransactions.retrieve(inStepRefund.balance_transaction as string);
    await until(async () => (await refundRow(inStepRefund.id))?.fee !== null, 'the refund fee mirrored');
    expect(await refundRow(inStepRefund.id)).toMatchObject({
      balance_transaction_id: refundTxn.id,
      fee: '0',
      net: String(-2500),
    });
    // Read by a job after the refund's commit, not inside its webhook's transaction.
    const refundBalanceJob = await w.t.app
      .get(JobQueue, { strict: false })
      .queueFor('refunds.record-balance')
      .getJob(`refund-balance:${(await refundRow(inStepRefund.id))?.id}`);
    expect(await refundBalanceJob?.getState()).toBe('completed');

    const row = await paymentRow(inStep.pi.id);
    const view = await http<{ fee: number | null; net: number | null }>(
      w.t.url,
      'GET',
      `/v1/payments/${row?.id}`,
      { token: w.admin },
    );
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ fee: txn.fee, net: txn.net });
  });

  it('a run over books that agree finds nothing, and compares the refunds', async () => {
    const run = await reconcile(w, nextWindow());
    expect(run.status).toBe('completed');
    expect(run.findings).toEqual([]);
    expect(run.stats.compared.refund).toBeGreaterThanOrEqual(1);
  });

  describe('drift of fees and nets', () => {
    let adjusted: { accountId: string; pi: Stripe.PaymentIntent };
    let adjustedTxn: Stripe.BalanceTransaction;
    let refundAdjusted: Stripe.Refund;
    let unrecorded: { accountId: string; pi: Stripe.PaymentIntent };
    let lost: Stripe.PaymentIntent;
    let run: RunBody;

    beforeAll(async () => {
      adjusted = await paid(20_000);
      unrecorded = await paid(7_000);
      const refunded = await paid(5_000);
      refundAdjusted = await succeededRefund(refunded.pi.id, 1000);
      await webhooksSettled(w);
      await until(async () => (await refundRow(refundAdjusted.id))?.fee !== null, 'the refund fee mirrored');
      // A fee Stripe adjusted on a charge, and on a refund, without an event.
      adjustedTxn = await chargeTxn(adjusted.pi.id);
      await dashboard(w, 'balance_transactions', adjustedTxn.id, {
        fee: adjustedTxn.fee + 50,
        net: adjustedTxn.net - 50,
      });
      await dashboard(w, 'balance_transactions', refundAdjusted.balance_transaction as string, {
        fee: 15,
        net: -1015,
      });
      // A payment recorded before fees were mirrored.
      await w.t.db.query(
        `UPDATE payments SET fee = NULL, net = NULL, balance_transaction_id = NULL
          WHERE stripe_payment_intent_id = $1`,
        [unrecorded.pi.id],
      );
      // A payment whose webhooks were all lost.
      await emulatorAdmin(w, '/_emulator/chaos', { webhookDropRate: 1 });
      try {
        lost = (await paid(3_000)).pi;
      } finally {
        await emulatorAdmin(w, '/_emulator/chaos', { webhookDropRate: 0 });
      }
      run = await reconcile(w, nextWindow());
    });

    it('a fee or net that disagrees is unsafe: found, alerted, left open', async () => {
      expect(run.status).toBe('completed');
      expect(findingsOf(run, adjusted.pi.id)).toEqual(['fee:open', 'net:open']);
      expect(finding(run, adjusted.pi.id, 'fee')).toMatchObject({ objectType: 'payment', safe: false });
      expect(findingsOf(run, refundAdjusted.id)).toEqual(['fee:open', 'net:open']);
      expect(finding(run, refundAdjusted.id, 'net')).toMatchObject({ objectType: 'refund', safe: false });
      // The books are untouched until an admin decides.
      expect(await paymentRow(adjusted.pi.id)).toMatchObject({
        fee: String(adjustedTxn.fee),
        net: String(adjustedTxn.net),
      });
      expect(
        await metricValue(w.t.url, 'billing_drift_unsafe_found_total', 'kind="fee"'),
      ).toBeGreaterThanOrEqual(2);
      expect(await metricValue(w.t.url, 'billing_drift_findings', 'kind="net",safe="false"')).toBe(2);
    });

    it('a fee the app has not recorded is safe: repaired from the balance transaction', async () => {
      expect(findingsOf(run, unrecorded.pi.id)).toEqual(['fee:repaired', 'net:repaired']);
      const txn = await chargeTxn(unrecorded.pi.id);
      expect(await paymentRow(unrecorded.pi.id)).toMatchObject({
        balance_transaction_id: txn.id,
        fee: String(txn.fee),
        net: String(txn.net),
      });
    });

    it('a payment whose webhooks were lost is mirrored with its fee and net', async () => {
      expect(findingsOf(run, lost.id)).toEqual(['missing_in_app:repaired']);
      const txn = await chargeTxn(lost.id);
      expect(await paymentRow(lost.id)).toMatchObject({ fee: String(txn.fee), net: String(txn.net) });
    });

    it("an admin applies Stripe's fee, audited; the next run finds nothing", async () => {
      const resolve = (id: string) =>
        http<{ status: string }>(w.t.url, 'POST', `/v1/admin/reconciliation/findings/${id}/resolve`, {
          token: w.admin,
          body: { action: 'apply_stripe', note: 'Fee adjusted by Stripe (dispute of the pricing)' },
        });
      const fee = finding(run, adjusted.pi.id, 'fee');
      expect((await resolve(fee.id)).status).toBe(200);
      expect(await paymentRow(adjusted.pi.id)).toMatchObject({
        fee: String(adjustedTxn.fee + 50),
        net: String(adjustedTxn.net - 50),
      });
      // Resolving one finding of an object resolves its siblings with it.
      const net = await http<{ status: string }>(
        w.t.url,
        'POST',
        `/v1/admin/reconciliation/findings/${finding(run, adjusted.pi.id, 'net').id}/resolve`,
        { token: w.admin, body: { action: 'dismiss', note: 'already applied' } },
      );
      expect(net.status).toBe(409);
      expect((await resolve(finding(run, refundAdjusted.id, 'fee').id)).status).toBe(200);
      expect(await refundRow(refundAdjusted.id)).toMatchObject({ fee: '15', net: '-1015' });

      const audits = await w.t.db.query<{ action: string; reason: string }[]>(
        `SELECT action, reason FROM audit_log WHERE entity_id = $1`,
        [fee.id],
      );
      expect(audits).toEqual([
        {
          action: 'reconciliation.finding_applied',
          reason: 'Fee adjusted by Stripe (dispute of the pricing)',
        },
      ]);
      const again = await reconcile(w, nextWindow());
      expect(again.findings).toEqual([]);
    });
  });
});
