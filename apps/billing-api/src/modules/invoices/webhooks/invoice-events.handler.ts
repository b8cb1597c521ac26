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
import type { EntityManager } from 'typeorm';
import {
  eventActor,
  HandlesStripeEvents,
  ReadAheadOutdated,
  ReadsStripeEventsAhead,
  type StripeEventContext,
  type StripeEventOutcome,
  type StripeEventPayload,
  type StripeEventReadAheadContext,
} from '../../webhooks/contracts/stripe-event-handler.js';
import { invoicePaymentFailed, invoiceSettled, type InvoiceRef } from '../contracts/invoice.events.js';
import { InvoiceOrmEntity } from '../persistence/invoice.orm-entity.js';
import {
  transformStripeInvoice,
  type InvoiceStatus,
  type InvoiceValues,
} from './transform-stripe-invoice.js';

const INVOICE_EVENTS = [
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
];

/** An invoice re-read from Stripe before the batch's transaction (`readAhead`). */
interface InvoiceReadAhead {
  readonly kind: 'invoice_read_ahead';
  /**
   * The row version's transaction (`xmin`) when the read was made: still good while it is unchanged.
   * `null`: there was no row; the read is good for the transaction that then inserts it (no other
   * transaction can have written it in between: the insert would have met that row).
   */
  stamp: string | null;
  values: InvoiceValues | null;
  /** The transaction that found the row unchanged (and locked it): later events of the batch use it as is. */
  checkedIn?: EntityManager;
}

function isInvoiceReadAhead(value: unknown): value is InvoiceReadAhead {
  return (value as InvoiceReadAhead | undefined)?.kind === 'invoice_read_ahead';
}

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

  /**
   * The same-second events of a batch's invoices (which the ordering rule cannot place: a change's
   * invoice is created, finalized and paid in one second) are re-read from Stripe before the batch's
   * transaction, from the invoices' committed state read in one statement: the batch then holds no row
   * lock, its subscriptions' among them, across a Stripe call. `onInvoice` uses a read only while nothing
   * has written the row since (its `xmin`), else the batch reads ahead again (ReadAheadOutdated).
   */
  @ReadsStripeEventsAhead(...INVOICE_EVENTS)
  async readAhead(
    events: StripeEventPayload[],
    ctx: StripeEventReadAheadContext,
  ): Promise<Map<string, InvoiceReadAhead>> {
    const reports = events
      .map((event) => ({ values: transformStripeInvoice(event.data.object as Stripe.Invoice), event }))
      .filter((r): r is { values: InvoiceValues; event: StripeEventPayload } => r.values !== null);
    const ids = [...new Set(reports.map((r) => r.values.stripeInvoiceId))];
    if (ids.length === 0) return new Map();
    const seen = await queryRows<{ id: string; stamp: string; last: string }>(
      ctx.manager,
      sql`SELECT stripe_invoice_id AS id, xmin::text AS stamp, last_event_created::text AS last
            FROM invoices WHERE stripe_invoice_id = ANY(${ids}::text[])`,
    );
    // The last event applied to each invoice as the batch goes, from its committed state: an event the
    // batch applies before a same-second one makes that one a re-read too.
    const last = new Map<string, { stamp: string | null; created: number }>(
      seen.map((row) => [row.id, { stamp: row.stamp, created: Number(row.last) }]),
    );
    const toRead = new Map<string, string | null>();
    for (const { values, event } of reports) {
      const row = last.get(values.stripeInvoiceId);
      if (toRead.has(values.stripeInvoiceId)) continue;
      // A new invoice: its first event inserts it (a renewal's or a change's invoice is created, finalized
      // and paid in the same second: its next events are re-reads, made here rather than under the lock).
      if (!row) {
        last.set(values.stripeInvoiceId, { stamp: null, created: event.created });
        continue;
      }
      const decision = decideStaleness({
        lastApplied: { eventCreated: row.created },
        incoming: { eventCreated: event.created },
      });
      if (decision === 'refetch') toRead.set(values.stripeInvoiceId, row.stamp);
      else if (decision === 'apply') row.created = Math.max(row.created, event.created);
    }
    const aheads = new Map<string, InvoiceReadAhead>();
    await Promise.all(
      [...toRead].map(async ([id, stamp]) => {
        const fresh = await ctx.refetch(id);
        const values = fresh ? transformStripeInvoice(fresh as unknown as Stripe.Invoice) : null;
        aheads.set(id, { kind: 'invoice_read_ahead', stamp, values });
      }),
    );
    return aheads;
  }

  @HandlesStripeEvents(...INVOICE_EVENTS)
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
    // A read-ahead is good only while nothing has written the row since it was made: checked when this
    // transaction first locks the row (before its own writes); from then on the transaction holds it.
    const ahead = isInvoiceReadAhead(ctx.ahead) ? ctx.ahead : null;
    if (ahead && row && ahead.checkedIn !== ctx.manager) {
      // Read while there was no row, and another transaction has inserted it since.
      if (ahead.stamp === null) throw new ReadAheadOutdated();
      const [now] = await queryRows<{ stamp: string }>(
        ctx.manager,
        sql`SELECT xmin::text AS stamp FROM invoices WHERE id = ${row.id}::uuid`,
      );
      if (now?.stamp !== ahead.stamp) throw new ReadAheadOutdated();
      ahead.checkedIn = ctx.manager;
    }
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
        // Read ahead while there was no row: good for this transaction, which now holds the new row.
        if (ahead && ahead.stamp === null) ahead.checkedIn = ctx.manager;
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
      const freshValues = await this.freshValues(incoming.stripeInvoiceId, ctx);
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
   * The invoice as Stripe has it now: the batch's read-ahead when it was found good under this
   * transaction's lock (`onInvoice`), else a read under the lock (a lone event, or no read-ahead).
   */
  private async freshValues(stripeInvoiceId: string, ctx: StripeEventContext): Promise<InvoiceValues | null> {
    const ahead = isInvoiceReadAhead(ctx.ahead) ? ctx.ahead : null;
    if (ahead && ahead.checkedIn === ctx.manager) return ahead.values;
    // Written since the read-ahead looked at it (a batch of the same second): read ahead again.
    if (ctx.readsAheadAgain) throw new ReadAheadOutdated();
    const fresh = await ctx.refetch(stripeInvoiceId);
    return fresh ? transformStripeInvoice(fresh as unknown as Stripe.Invoice) : null;
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
