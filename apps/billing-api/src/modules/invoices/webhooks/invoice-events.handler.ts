import { decideStaleness } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { Clock } from '../../../platform/clock/clock.js';
import { DomainEvents } from '../../../platform/events/domain-events.js';
import {
  findRows,
  insertRowSql,
  queryRows,
  sql,
  updateRowSql,
  type Sql,
} from '../../../platform/database/row-sql.js';
import { idOf } from '../../../platform/stripe/stripe-ids.js';
import { AuditFacade } from '../../audit/audit.facade.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import { ReceiptsFacade } from '../../receipts/receipts.facade.js';
import { SubscriptionsFacade } from '../../subscriptions/subscriptions.facade.js';
import {
  eventActor,
  HandlesStripeEvents,
  type StripeEventContext,
  type StripeEventOutcome,
  type StripeEventPayload,
} from '../../webhooks/contracts/stripe-event-handler.js';
import { invoicePaymentFailed, invoiceSettled, type InvoiceRef } from '../contracts/invoice.events.js';
import { InvoiceOrmEntity } from '../persistence/invoice.orm-entity.js';
import {
  transformStripeInvoice,
  type InvoiceStatus,
  type InvoiceValues,
} from './transform-stripe-invoice.js';

const SETTLED: Partial<Record<InvoiceStatus, 'paid' | 'voided' | 'uncollectible'>> = {
  paid: 'paid',
  void: 'voided',
  uncollectible: 'uncollectible',
};

/**
 * Mirrors invoices (R-SUB-7) under the ordering rule (R-SM-3): older events are skipped, a same-second
 * event re-reads the invoice. Status changes are audited. `invoice.upcoming` has no invoice yet: ignored.
 * A subscription invoice seen paid for the first time gets its receipt in the same transaction.
 */
@Injectable()
export class InvoiceEventsHandler {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
    private readonly accounts: AccountsFacade,
    private readonly subscriptions: SubscriptionsFacade,
    private readonly receipts: ReceiptsFacade,
    private readonly events: DomainEvents,
  ) {}

  @HandlesStripeEvents(
    'invoice.created',
    'invoice.finalized',
    'invoice.paid',
    'invoice.payment_succeeded',
    'invoice.payment_failed',
    'invoice.upcoming',
    'invoice.payment_action_required',
    'invoice.voided',
    'invoice.marked_uncollectible',
    'invoice.updated',
    'invoice.overdue',
  )
  async onInvoice(event: StripeEventPayload, ctx: StripeEventContext): Promise<StripeEventOutcome> {
    const incoming = transformStripeInvoice(event.data.object as Stripe.Invoice);
    if (!incoming) return 'ignored';
    const locked = async (): Promise<InvoiceOrmEntity | undefined> =>
      (
        await findRows(ctx.manager, InvoiceOrmEntity, sql`stripe_invoice_id = ${incoming.stripeInvoiceId}`, {
          lock: 'for_update',
        })
      )[0];
    let row = await locked();
    if (!row) {
      const accountId = await this.accountFor(incoming, ctx);
      if (!accountId) return 'ignored';
      const now = this.clock.now();
      const created: InvoiceOrmEntity = {
        id: randomUUID(),
        accountId,
        ...incoming,
        lastEventCreated: ctx.event.created,
        createdAt: now,
        updatedAt: now,
      };
      // The row and its audit record in one statement (`npm run bench:dunning`).
      const inserted = await queryRows<{ id: string }>(
        ctx.manager,
        sql`WITH invoices__inserted AS (
              ${insertRowSql(ctx.manager, InvoiceOrmEntity, created)} ON CONFLICT DO NOTHING RETURNING id),
            invoices__audit AS (${this.auditSql(created, null, ctx, 'invoices__inserted')})
            SELECT id FROM invoices__inserted`,
      );
      if (inserted.length > 0) {
        await this.receiptWhenFirstPaid(null, created, ctx);
        await this.announce(event, null, created, ctx);
        return 'applied';
      }
      row = await locked();
      if (!row) throw new Error(`invoice ${incoming.stripeInvoiceId} neither inserted nor found`);
    }

    let values: InvoiceValues = incoming;
    const decision = decideStaleness({
      lastApplied: { eventCreated: row.lastEventCreated },
      incoming: { eventCreated: ctx.event.created },
    });
    if (decision === 'skip_stale') {
      // A failed attempt still happened, whatever the mirror already shows: dunning hears of it.
      await this.announce(event, row.status, row, ctx);
      return 'skipped_stale';
    }
    if (decision === 'refetch') {
      const fresh = await ctx.refetch(incoming.stripeInvoiceId);
      const freshValues = fresh ? transformStripeInvoice(fresh as unknown as Stripe.Invoice) : null;
      if (!freshValues) return 'ignored';
      values = freshValues;
    }
    const beforeStatus = row.status;
    const beforeAmounts = { amountPaid: row.amountPaid, amountRemaining: row.amountRemaining };
    Object.assign(row, values);
    row.lastEventCreated = Math.max(row.lastEventCreated, ctx.event.created);
    row.updatedAt = this.clock.now();
    // The row was read under its lock: written back whole, without TypeORM's re-read, with its audit
    // record when its status or amount paid changed, in one statement (`npm run bench:dunning`).
    const { id, ...changes } = row;
    const update = updateRowSql(ctx.manager, InvoiceOrmEntity, changes, sql`id = ${id}::uuid`);
    const audited = beforeStatus !== row.status || beforeAmounts.amountPaid !== row.amountPaid;
    await queryRows(
      ctx.manager,
      audited
        ? sql`WITH invoices__saved AS (${update} RETURNING id)
              ${this.auditSql(row, { status: beforeStatus, ...beforeAmounts }, ctx, 'invoices__saved')}`
        : update,
    );
    await this.receiptWhenFirstPaid(beforeStatus, row, ctx);
    await this.announce(event, beforeStatus, row, ctx);
    return 'applied';
  }

  /**
   * Publishes what dunning listens to: a failed attempt on a still open invoice (every delivery of
   * `invoice.payment_failed`; the listener is idempotent), and the invoice leaving `open` for good.
   */
  private async announce(
    event: StripeEventPayload,
    before: InvoiceStatus | null,
    row: InvoiceOrmEntity,
    ctx: StripeEventContext,
  ): Promise<void> {
    const object = event.data.object as { test_clock?: unknown };
    const ref: InvoiceRef = {
      invoiceId: row.id,
      accountId: row.accountId,
      stripeInvoiceId: row.stripeInvoiceId,
      stripeCustomerId: row.stripeCustomerId,
      stripeSubscriptionId: row.stripeSubscriptionId,
      amountDue: row.amountDue,
      amountRemaining: row.amountRemaining,
      currency: row.currency,
      hostedInvoiceUrl: row.hostedInvoiceUrl,
      billingReason: row.billingReason,
      testClockId: idOf(object.test_clock),
    };
    const at = new Date(ctx.event.created * 1000).toISOString();
    if (event.type === 'invoice.payment_failed' && row.status === 'open') {
      await this.events.publish(ctx.manager, [
        invoicePaymentFailed({ ...ref, failedAt: at, attemptCount: row.attemptCount }),
      ]);
    }
    const settled = SETTLED[row.status];
    if (settled && before !== row.status) {
      await this.events.publish(ctx.manager, [invoiceSettled({ ...ref, outcome: settled, settledAt: at })]);
    }
  }

  /**
   * A subscription invoice seen paid for the first time gets its receipt (R-PAY-4), in this transaction
   * under the invoice's row lock: numbered in the account's receipt sequence and e-mailed once. An
   * invoice that collected nothing (a trial's) has no receipt. The one place the mirror issues receipts
   * (to become a listener of an "invoice paid" domain event).
   */
  private async receiptWhenFirstPaid(
    before: InvoiceStatus | null,
    row: InvoiceOrmEntity,
    ctx: StripeEventContext,
  ): Promise<void> {
    if (before === 'paid' || row.status !== 'paid') return;
    if (!row.stripeSubscriptionId || row.amountPaid <= 0) return;
    await this.receipts.issueForInvoice(ctx.manager, {
      invoiceId: row.id,
      accountId: row.accountId,
      invoiceNumber: row.number,
      amount: row.amountPaid,
      currency: row.currency,
      paidAt: row.paidAt ?? new Date(ctx.event.created * 1000),
      periodStart: row.periodStart,
      periodEnd: row.periodEnd,
    });
  }

  /** The customer's account, else the account of the mirrored subscription the invoice belongs to. */
  private async accountFor(values: InvoiceValues, ctx: StripeEventContext): Promise<string | null> {
    const linked = await this.accounts.accountForStripeCustomer(ctx.manager, values.stripeCustomerId);
    if (linked) return linked;
    if (values.stripeSubscriptionId) {
      const subscription = await this.subscriptions.findByStripeId(values.stripeSubscriptionId, ctx.manager);
      if (subscription) return subscription.accountId;
    }
    return this.accounts.resolveStripeCustomerAccount(ctx, values.stripeCustomerId);
  }

  /** The audit record of a mirrored invoice, written with the row of the CTE `onlyWith`. */
  private auditSql(
    row: InvoiceOrmEntity,
    before: Record<string, unknown> | null,
    ctx: StripeEventContext,
    onlyWith: string,
  ): Sql {
    return this.audit.recordSql(
      ctx.manager,
      {
        accountId: row.accountId,
        action: before ? 'invoice.status_changed' : 'invoice.mirrored',
        entityType: 'invoice',
        entityId: row.id,
        before,
        after: {
          stripeInvoiceId: row.stripeInvoiceId,
          status: row.status,
          amountDue: row.amountDue,
          amountPaid: row.amountPaid,
          amountRemaining: row.amountRemaining,
          currency: row.currency,
        },
        actor: eventActor(ctx),
      },
      onlyWith,
    );
  }
}
