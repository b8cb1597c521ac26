import {
  capturesFirstTime,
  decideStaleness,
  isCaptured,
  money,
  paymentStatusAfterRefunds,
  transitionPayment,
  type PaymentInput,
  type PaymentStatus,
  type RefundLine,
} from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { Clock } from '../../../platform/clock/clock.js';
import { recordBalance, type BalanceValues } from '../../../platform/stripe/balance-transaction.js';
import { StripeGateway } from '../../../platform/stripe/stripe.gateway.js';
import type { Actor } from '../../../platform/context/request-context.js';
import {
  eventActor,
  PermanentEventError,
  type StripeEventContext,
  type StripeEventOutcome,
  type StripeEventReadAheadContext,
  type StripeEventReadContext,
} from '../../webhooks/contracts/stripe-event-handler.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import {
  PaymentWriter,
  type PaymentChange,
  type PaymentStep,
  type PaymentWriteResult,
} from '../persistence/payment-writer.js';
import type { LockedPaymentRef } from '../contracts/payment.view.js';
import { NO_BALANCE, NO_CARD_DETAILS, PaymentOrmEntity } from '../persistence/payment.orm-entity.js';
import { changedPaymentFields, paymentSnapshot } from '../persistence/payment-writes.js';
import { findRows, queryRows, sql } from '../../../platform/database/row-sql.js';
import { idOf } from './stripe-payload.js';
import { transformStripeCharge, type ChargeValues } from '../stripe/transform-stripe-charge.js';
import {
  paymentInputForStatus,
  transformStripePaymentIntent,
  type PaymentIntentValues,
} from '../stripe/transform-stripe-payment-intent.js';

/** What a webhook batch's read-ahead learnt of a PaymentIntent before its transaction (`readAhead`). */
interface PaymentReadAhead {
  readonly kind: 'payment_read_ahead';
  paysAnInvoice: boolean;
}

function isPaymentReadAhead(value: unknown): value is PaymentReadAhead {
  return (value as PaymentReadAhead | undefined)?.kind === 'payment_read_ahead';
}

export interface MirrorOptions {
  /** The account to file a payment under when its customer is not linked (checkout's client_reference_id). */
  accountId?: string | null;
  checkoutSessionId?: string | null;
}

/**
 * Keeps the `payments` mirror in step with Stripe's PaymentIntents, inside the webhook transaction:
 * lock the row, apply the ordering rule, move the status through the payment machine, and hand the row
 * as it should become, with the machine's moves, to the payments' one writer (`PaymentWriter`), which
 * compares, writes, records each move in the status history (R-PAY-6) and the audit log, and announces
 * the change, in one statement.
 *
 * A PaymentIntent that pays an invoice (a subscription's, or any invoice charged by Stripe) is not a
 * payment of the account: the invoices module mirrors the invoice and issues its receipt. Such a
 * PaymentIntent gets no row (see {@link paysAnInvoice}), so its events, its charges' and its refunds'
 * find no payment and are ignored.
 */
@Injectable()
export class PaymentMirror {
  constructor(
    private readonly clock: Clock,
    private readonly accounts: AccountsFacade,
    private readonly writer: PaymentWriter,
    private readonly gateway: StripeGateway,
  ) {}

  /** Applies a PaymentIntent from an event (or a re-read one) to its payment row. */
  async applyPaymentIntent(
    incoming: PaymentIntentValues,
    ctx: StripeEventContext,
    options: MirrorOptions = {},
  ): Promise<StripeEventOutcome> {
    const found = await this.lockOrCreate(incoming, ctx, options);
    if (!found) return 'ignored';
    const { row, created } = found;
    if (created) return 'applied';

    const unchanged = this.outcomeWithoutWrites(row, incoming, ctx.event.created, options);
    if (unchanged) return unchanged;
    let values = incoming;
    const decision = this.staleness(row, ctx.event.created);
    if (decision === 'skip_stale') {
      // Stale, but it names the checkout session the payment came from (else outcomeWithoutWrites said so).
      if (!options.checkoutSessionId || row.checkoutSessionId) return 'skipped_stale';
      await this.write(ctx, {
        before: row,
        after: { ...paymentSnapshot(row), checkoutSessionId: options.checkoutSessionId },
        steps: [],
      });
      return 'applied';
    }
    if (decision === 'refetch') {
      // A same-second tie that would change something is resolved by re-reading the PaymentIntent (R-SM-3).
      const fresh = await ctx.refetch(incoming.stripePaymentIntentId);
      if (!fresh) return 'ignored';
      values = transformStripePaymentIntent(fresh as unknown as Stripe.PaymentIntent);
      // The re-read is not expanded: keep the balance transaction the caller read of the same charge.
      if (values.latestChargeId === incoming.latestChargeId) values.balance = incoming.balance;
    }
    await this.update(row, values, ctx, options);
    return 'applied';
  }

  /**
   * The unchanged-check of PaymentIntent events: the outcome `applyPaymentIntent` would record without
   * writing, read from the committed row (no lock); null when it would write or the row is not there.
   */
  async unchangedByPaymentIntent(
    incoming: PaymentIntentValues,
    ctx: StripeEventReadContext,
  ): Promise<StripeEventOutcome | null> {
    const [row] = await findRows(
      ctx.manager,
      PaymentOrmEntity,
      sql`stripe_payment_intent_id = ${incoming.stripePaymentIntentId}`,
    );
    return row ? this.outcomeWithoutWrites(row, incoming, ctx.event.created, {}) : null;
  }

  /**
   * What an event would record when it writes nothing to this row: `skipped_stale` for an event older
   * than the last one applied (unless it links the checkout session), `applied` for a same-second event
   * that would change nothing (its order cannot matter, so the re-read is saved too); null otherwise.
   */
  private outcomeWithoutWrites(
    row: PaymentOrmEntity,
    incoming: PaymentIntentValues,
    eventCreated: number,
    options: MirrorOptions,
  ): StripeEventOutcome | null {
    const decision = this.staleness(row, eventCreated);
    if (decision === 'skip_stale') {
      return options.checkoutSessionId && !row.checkoutSessionId ? null : 'skipped_stale';
    }
    if (decision === 'refetch' && !this.wouldChange(row, incoming, options)) return 'applied';
    return null;
  }

  private staleness(row: PaymentOrmEntity, eventCreated: number): ReturnType<typeof decideStaleness> {
    return decideStaleness({
      lastApplied: row.lastEventCreated === null ? null : { eventCreated: row.lastEventCreated },
      incoming: { eventCreated },
    });
  }

  /**
   * Locks the payment of a PaymentIntent for a refund; when it is not mirrored yet (the refund's event
   * came first, or the payment was made outside the app), re-reads the PaymentIntent from Stripe and
   * mirrors it. Null when the customer is not one of our accounts or the PaymentIntent pays an invoice
   * (its refunds are the invoice's, not a payment's).
   */
  async lockForRefund(
    stripePaymentIntentId: string,
    ctx: StripeEventContext,
  ): Promise<LockedPaymentRef | null> {
    let row = await this.lockByIntent(ctx, stripePaymentIntentId);
    if (!row) {
      const fresh = await ctx.refetch(stripePaymentIntentId);
      if (!fresh) return null;
      const found = await this.lockOrCreate(
        transformStripePaymentIntent(fresh as unknown as Stripe.PaymentIntent),
        ctx,
        {},
      );
      if (!found) return null;
      row = found.row;
    }
    return {
      id: row.id,
      accountId: row.accountId,
      currency: row.currency,
      status: row.status,
      amountReceived: row.amountReceived,
    };
  }

  /**
   * Records the refunds of a (locked) payment: the succeeded total, and the status the domain derives
   * from it (`paymentStatusAfterRefunds`) once the payment has been captured. Before that, the total is
   * kept and applied when the payment succeeds (events may come in any order).
   */
  async applyRefunds(
    paymentId: string,
    refunds: readonly RefundLine[],
    ctx: StripeEventContext,
  ): Promise<boolean> {
    const repo = ctx.manager.getRepository(PaymentOrmEntity);
    const row = await repo.findOne({ where: { id: paymentId }, lock: { mode: 'pessimistic_write' } });
    if (!row) throw new Error(`payment ${paymentId} vanished inside its own transaction`);
    const after = paymentSnapshot(row);
    after.amountRefunded = refunds
      .filter((r) => r.status === 'succeeded')
      .reduce((total, r) => total + r.amount.amountMinor, 0);
    const steps: PaymentStep[] = [];
    this.applyRefundTotal(after, steps, refunds);
    return (await this.write(ctx, { before: row, after, steps })) === 'written';
  }

  /** Fills in the method summary and the latest charge from a charge event (never the status). */
  async applyCharge(charge: ChargeValues, ctx: StripeEventContext): Promise<StripeEventOutcome> {
    if (!charge.stripePaymentIntentId) return 'ignored';
    const row = await this.lockByIntent(ctx, charge.stripePaymentIntentId);
    if (!row) return 'ignored';
    // An older attempt's charge must not overwrite the summary of the latest one.
    if (row.latestChargeId && row.latestChargeId !== charge.stripeChargeId) return 'skipped_stale';
    const after = paymentSnapshot(row);
    after.latestChargeId = charge.stripeChargeId;
    if (charge.stripePaymentMethodId) after.stripePaymentMethodId = charge.stripePaymentMethodId;
    if (charge.paymentMethod) this.setMethodSummary(after, charge.paymentMethod);
    if (charge.status === 'succeeded') this.completeBalance(after, charge.balance);
    // Usually the API or the PaymentIntent event knew all this already: then nothing is written.
    // Listeners complete what was issued before the card was known (the receipt).
    await this.write(ctx, {
      before: row,
      after,
      steps: [],
      methodIdentified: `${after.cardBrand}/${after.cardLast4}` !== `${row.cardBrand}/${row.cardLast4}`,
    });
    return 'applied';
  }

  private async lockOrCreate(
    values: PaymentIntentValues,
    ctx: StripeEventContext,
    options: MirrorOptions,
  ): Promise<{ row: PaymentOrmEntity; created: boolean } | null> {
    const repo = ctx.manager.getRepository(PaymentOrmEntity);
    const lock = { mode: 'pessimistic_write' as const };
    const byIntent = await this.lockByIntent(ctx, values.stripePaymentIntentId);
    if (byIntent) return { row: byIntent, created: false };
    if (values.appPaymentId) {
      // Created by our API before Stripe answered: the row exists without the PaymentIntent id yet.
      const byOurId = await repo.findOne({ where: { id: values.appPaymentId }, lock });
      if (
        byOurId &&
        (byOurId.stripePaymentIntentId === null ||
          byOurId.stripePaymentIntentId === values.stripePaymentIntentId)
      ) {
        await this.writer.linkPaymentIntent(ctx.manager, byOurId, values.stripePaymentIntentId);
        return { row: byOurId, created: false };
      }
    }
    const accountId = options.accountId
      ? ((await this.accounts.accountForStripeCustomer(ctx.manager, values.stripeCustomerId)) ??
        options.accountId)
      : await this.accounts.resolveStripeCustomerAccount(
          ctx,
          values.stripeCustomerId,
          values.metadataAccountId,
        );
    if (!accountId) return null;
    // Made by our API (metadata.payment_id) or Checkout's payment mode: not an invoice's, no question
    // asked. Anything else is asked about once, before its first row is written (a payment already
    // mirrored stays one, even if it is attached to an invoice later: the row exists, nothing is asked).
    if (!values.appPaymentId && !options.checkoutSessionId) {
      const ahead = isPaymentReadAhead(ctx.ahead) ? ctx.ahead : null;
      if (ahead ? ahead.paysAnInvoice : await this.paysAnInvoice(values.stripePaymentIntentId)) return null;
    }
    const now = this.clock.now();
    const row: PaymentOrmEntity = {
      id: randomUUID(),
      accountId,
      stripePaymentIntentId: values.stripePaymentIntentId,
      stripeCustomerId: values.stripeCustomerId,
      amount: values.amount,
      currency: values.currency,
      status: values.status,
      amountReceived: values.amountReceived,
      amountRefunded: 0,
      description: values.description,
      orderReference: values.orderReference,
      metadata: values.metadata,
      stripePaymentMethodId: values.stripePaymentMethodId,
      ...NO_CARD_DETAILS,
      ...NO_BALANCE,
      failureCode: values.failureCode,
      declineCode: values.declineCode,
      failureMessage: values.failureMessage,
      latestChargeId: values.latestChargeId,
      checkoutSessionId: options.checkoutSessionId ?? null,
      origin: 'stripe',
      succeededAt: values.status === 'succeeded' ? now : null,
      stripeCreatedAt: values.stripeCreatedAt,
      lastEventCreated: ctx.event.created,
      version: 1,
      createdAt: values.stripeCreatedAt ?? now,
      updatedAt: now,
    };
    if (values.paymentMethod) this.setMethodSummary(row, values.paymentMethod);
    await this.completeCard(row, null, ctx);
    this.completeBalance(row, values.balance);
    // Two workers may mirror the same new PaymentIntent at once: the unique id decides, the loser waits
    // for the winner's commit and then updates the row like any later event.
    if (!(await this.writer.insertMirrored(ctx.manager, row, this.actor(ctx)))) {
      const winner = await this.lockByIntent(ctx, values.stripePaymentIntentId);
      if (!winner) throw new Error(`payment for ${values.stripePaymentIntentId} neither inserted nor found`);
      return { row: winner, created: false };
    }
    return { row, created: true };
  }

  /**
   * Asks Stripe, before a webhook batch's transaction, whether the batch's PaymentIntents that will need
   * the question pay an invoice (`@ReadsStripeEventsAhead`): those without a payment row yet, not made
   * by our API (no `metadata.payment_id`), of a linked customer; in one statement, then one Stripe read
   * each. Asked under the batch's transaction instead, the read (600 ms and more) held every row the
   * batch had locked, a plan change's subscription among them: a subscription invoice's PaymentIntent
   * events come with every renewal and every upgrade. The answer does not go stale (a PaymentIntent
   * that pays an invoice always did; one that did not and gets a row stays a payment). A read that
   * fails is left out: the handler asks under its lock, with the failure handling below.
   */
  async readAhead(
    intents: readonly PaymentIntentValues[],
    ctx: Pick<StripeEventReadAheadContext, 'manager'>,
  ): Promise<Map<string, PaymentReadAhead>> {
    const asked = new Map<string, string>();
    for (const pi of intents) {
      if (!pi.appPaymentId && pi.stripeCustomerId) asked.set(pi.stripePaymentIntentId, pi.stripeCustomerId);
    }
    const aheads = new Map<string, PaymentReadAhead>();
    if (asked.size === 0) return aheads;
    const unknown = await queryRows<{ id: string }>(
      ctx.manager,
      sql`SELECT p.id FROM unnest(${[...asked.keys()]}::text[], ${[...asked.values()]}::text[]) AS p(id, customer)
           WHERE NOT EXISTS (SELECT 1 FROM payments WHERE stripe_payment_intent_id = p.id)
             AND EXISTS (SELECT 1 FROM accounts WHERE stripe_customer_id = p.customer)`,
    );
    await Promise.all(
      unknown.map(async ({ id }) => {
        try {
          aheads.set(id, { kind: 'payment_read_ahead', paysAnInvoice: await this.paysAnInvoice(id) });
        } catch {
          // Asked again under the lock, where a failure is the event's (retried, then dead-lettered).
        }
      }),
    );
    return aheads;
  }

  /**
   * Whether the PaymentIntent pays an invoice. At the pinned API version a PaymentIntent has no
   * `invoice` field: the InvoicePayment is the link (Stripe makes one for every PaymentIntent an
   * invoice creates, and for one attached to an invoice), listed by
   * `payment[type]=payment_intent&payment[payment_intent]=…`. Any status counts: an attempt that was
   * canceled or failed was still the invoice's, never a one-time payment.
   *
   * One read through the gateway. When it cannot be answered (Stripe unreachable or rate limited after
   * the SDK's own retries, or an answer about another PaymentIntent) the error propagates: the event
   * fails as a transient error, is retried with backoff and, once its attempts are spent,
   * dead-lettered with the reason. Nothing is written on a guess either way: mirroring an invoice's
   * PaymentIntent would issue a second receipt and e-mail, ignoring a one-time payment would lose it.
   */
  private async paysAnInvoice(stripePaymentIntentId: string): Promise<boolean> {
    const links = await this.gateway.call('invoice_payment.list', (stripe) =>
      stripe.invoicePayments.list({
        payment: { type: 'payment_intent', payment_intent: stripePaymentIntentId },
        limit: 1,
      }),
    );
    const other = links.data.find((link) => idOf(link.payment.payment_intent) !== stripePaymentIntentId);
    if (other) {
      throw new Error(
        `invoice payments of ${stripePaymentIntentId} answered with ${other.id} of another payment`,
      );
    }
    return links.data.length > 0;
  }

  private async update(
    row: PaymentOrmEntity,
    values: PaymentIntentValues,
    ctx: StripeEventContext,
    options: MirrorOptions,
  ): Promise<void> {
    const after = paymentSnapshot(row);
    const steps: PaymentStep[] = [];
    const input = paymentInputForStatus(values.status, values.declineCode);
    if (input) this.move(after, input, steps);
    this.mergeFields(after, values, options, row.status);
    // A refund may have been mirrored before the payment was seen as captured.
    this.applyRefundTotal(after, steps);
    after.lastEventCreated = Math.max(after.lastEventCreated ?? 0, ctx.event.created);
    await this.completeCard(after, row.status, ctx);
    this.completeBalance(after, values.balance);
    // An event that changes nothing (e.g. payment_intent.created after the API applied Stripe's answer)
    // writes nothing: no UPDATE, and the version stays, so the API's version-checked write still holds.
    await this.write(ctx, { before: row, after, steps });
  }

  /** The PaymentIntent's fields on the row (everything but the status move and the refund total). */
  private mergeFields(
    row: PaymentOrmEntity,
    values: PaymentIntentValues,
    options: MirrorOptions,
    before: PaymentStatus,
  ): void {
    if (row.status === 'succeeded' && row.succeededAt === null) row.succeededAt = this.clock.now();
    row.amount = values.amount;
    // A PaymentIntent's amount_received only grows: a late event carrying an older state (e.g.
    // payment_intent.created after the API saw the success) must not lower what was captured.
    row.amountReceived = Math.max(row.amountReceived, values.amountReceived);
    row.stripeCustomerId = values.stripeCustomerId ?? row.stripeCustomerId;
    row.description = values.description ?? row.description;
    row.orderReference = row.orderReference ?? values.orderReference;
    row.metadata = { ...row.metadata, ...values.metadata };
    if (values.stripePaymentMethodId) row.stripePaymentMethodId = values.stripePaymentMethodId;
    if (values.paymentMethod) this.setMethodSummary(row, values.paymentMethod);
    // A failure's details come with a failure, and go when the payment moves on from it; an event that
    // leaves the payment failed without being one (e.g. payment_intent.created, processed after the
    // API applied the decline) keeps them.
    if (values.status === 'failed' || (before === 'failed' && row.status !== 'failed')) {
      row.failureCode = values.failureCode;
      row.declineCode = values.declineCode;
      row.failureMessage = values.failureMessage;
    }
    row.latestChargeId = values.latestChargeId ?? row.latestChargeId;
    row.stripeCreatedAt = row.stripeCreatedAt ?? values.stripeCreatedAt;
    if (options.checkoutSessionId) row.checkoutSessionId = options.checkoutSessionId;
  }

  /**
   * Whether applying these values would change the row: a status move the machine makes (or rejects),
   * or any field. Works on a copy; nothing is written.
   */
  private wouldChange(row: PaymentOrmEntity, values: PaymentIntentValues, options: MirrorOptions): boolean {
    const input = paymentInputForStatus(values.status, values.declineCode);
    if (input) {
      const moved = transitionPayment(row.status, input, this.clock.now());
      if (!moved.ok || moved.value.changed) return true;
    }
    const copy = paymentSnapshot(row);
    this.mergeFields(copy, values, options, row.status);
    // A report with the charge's balance transaction expanded (reconciliation's repair, an admin's
    // apply) changes a fee or net the row does not have or has otherwise.
    this.completeBalance(copy, values.balance);
    return changedPaymentFields(row, copy).length > 0;
  }

  /**
   * A payment made outside the API whose card is not known yet (its PaymentIntent names the method only
   * by id, and `charge.succeeded` is optional: STRIPE_ENDPOINT_EVENTS) gets the card summary from a
   * re-read of its charge on first capture, before it is written: for the row and the receipt alike.
   */
  private async completeCard(
    row: PaymentOrmEntity,
    from: PaymentStatus | null,
    ctx: StripeEventContext,
  ): Promise<void> {
    if (!capturesFirstTime(from, row.status) || row.cardBrand || row.cardLast4 || !row.latestChargeId) return;
    const charge = await ctx.refetch(row.latestChargeId);
    const pm = charge ? transformStripeCharge(charge as unknown as Stripe.Charge).paymentMethod : null;
    if (pm) this.setMethodSummary(row, pm);
  }

  /**
   * Records the fee and net of the payment's charge when the report carries its balance transaction
   * expanded (a re-read by reconciliation or an admin: Stripe's word, recorded as is). Webhook payloads
   * never expand it: a captured payment's fee is read from Stripe after its commit
   * (`payments.record-balance`, queued by RecordBalanceOnCaptureListener), never inside this transaction.
   */
  private completeBalance(row: PaymentOrmEntity, given: BalanceValues | null): void {
    if (given) recordBalance(row, given);
  }

  /** Writes a change of a row this transaction holds locked (its version cannot have moved). */
  private async write(ctx: StripeEventContext, change: PaymentChange): Promise<PaymentWriteResult> {
    const result = await this.writer.write(ctx.manager, change, this.actor(ctx));
    if (result === 'conflict') throw new Error(`payment ${change.before.id} changed under its row lock`);
    return result;
  }

  /** Moves the status by the refunded total when the payment is captured. */
  private applyRefundTotal(
    row: PaymentOrmEntity,
    steps: PaymentStep[],
    refunds?: readonly RefundLine[],
  ): void {
    if (!isCaptured(row.status)) return;
    const captured = money(row.amountReceived, row.currency);
    if (row.amountRefunded > captured.amountMinor) {
      throw new PermanentEventError(
        `refunds (${row.amountRefunded}) exceed the captured amount (${captured.amountMinor}) of payment ${row.id}`,
        'refunds_exceed_captured',
      );
    }
    const refundedTotal = money(row.amountRefunded, row.currency);
    if (refunds) {
      // The domain rule and the machine must agree on the target; a disagreement is a bug, not data.
      const expected = paymentStatusAfterRefunds({ captured, refunds });
      const target = transitionPayment(
        row.status,
        { type: 'refunds_updated', captured, refundedTotal },
        this.clock.now(),
      );
      if (target.ok && target.value.status !== expected) {
        throw new Error(`refund status mismatch: machine ${target.value.status}, rule ${expected}`);
      }
    }
    this.move(row, { type: 'refunds_updated', captured, refundedTotal }, steps);
  }

  /** One step of the payment machine on the row, added to `steps`; a rejection is final for this event (dead letter). */
  private move(row: PaymentOrmEntity, input: PaymentInput, steps: PaymentStep[]): void {
    const result = transitionPayment(row.status, input, this.clock.now());
    if (!result.ok) {
      throw new PermanentEventError(
        `payment ${row.id} (${row.stripePaymentIntentId ?? 'no PaymentIntent'}): ${result.error.message}`,
        result.error.code,
      );
    }
    if (!result.value.changed) return;
    const declineCode = input.type === 'declined' ? (input.declineCode ?? null) : null;
    steps.push({ from: row.status, to: result.value.status, declineCode });
    row.status = result.value.status;
  }

  /** The payment of a PaymentIntent, locked for this transaction; null when it is not mirrored. */
  private lockByIntent(
    ctx: StripeEventContext,
    stripePaymentIntentId: string,
  ): Promise<PaymentOrmEntity | null> {
    return findRows(ctx.manager, PaymentOrmEntity, sql`stripe_payment_intent_id = ${stripePaymentIntentId}`, {
      lock: 'for_update',
    }).then(([row]) => row ?? null);
  }

  private setMethodSummary(
    row: PaymentOrmEntity,
    pm: NonNullable<PaymentIntentValues['paymentMethod']>,
  ): void {
    row.paymentMethodType = pm.type;
    row.cardBrand = pm.cardBrand;
    row.cardLast4 = pm.cardLast4;
    row.cardExpMonth = pm.cardExpMonth;
    row.cardExpYear = pm.cardExpYear;
    row.cardFunding = pm.cardFunding;
  }

  private actor(ctx: StripeEventContext): Actor {
    return eventActor(ctx);
  }
}
