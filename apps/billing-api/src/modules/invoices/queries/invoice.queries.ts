import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { assertAccountAccess, type Principal } from '../../../platform/auth/principal.js';
import { ApiError } from '../../../platform/http/api-error.js';
import { decodeCursor, toPage, type Page } from '../../../platform/http/pagination.js';
import { StripeCallError } from '../../../platform/stripe/stripe-errors.js';
import { StripeGateway } from '../../../platform/stripe/stripe.gateway.js';
import { toInstant } from '../../../platform/validation/instant.js';
import { uuidOrNull } from '../../../platform/validation/uuid.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import { InvoiceOrmEntity } from '../persistence/invoice.orm-entity.js';
import {
  transformStripeInvoice,
  type InvoiceStatus,
  type InvoiceValues,
} from '../webhooks/transform-stripe-invoice.js';

/** How long the mirror serves invoices (R-SUB-7); older ones are read from Stripe on demand. */
export const INVOICE_MIRROR_YEARS = 2;

/** The oldest Stripe creation time the mirror serves at `now`: the same instant two calendar years before. */
export function mirrorWindowStart(now: Date): Date {
  const start = new Date(now.getTime());
  start.setUTCFullYear(start.getUTCFullYear() - INVOICE_MIRROR_YEARS);
  return start;
}

/** An invoice as the read side shows it: from the mirror, or read from Stripe (then without our id). */
export interface ReadInvoice extends InvoiceValues {
  id: string | null;
  accountId: string;
  source: 'mirror' | 'stripe';
}

export interface InvoiceFilter {
  limit?: number;
  cursor?: string;
  status?: InvoiceStatus[];
  createdFrom?: string;
  createdTo?: string;
}

const STRIPE_INVOICE_ID = /^in_[A-Za-z0-9]{1,250}$/;

/**
 * Read side of invoices (R-SUB-7). The list serves the mirror's last two years (by Stripe's creation
 * time), newest first in a stable order. One invoice is served from the mirror while it is in that window;
 * older, or never mirrored, it is read from Stripe on demand through the gateway and shown, not stored:
 * the mirror has one writer (the webhook handler, under the ordering rule), and an old invoice is final
 * and rarely asked for, so a cached copy would only add a second writer and a copy to keep right.
 */
@Injectable()
export class InvoiceQueries {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly stripe: StripeGateway,
    private readonly accounts: AccountsFacade,
  ) {}

  async list(accountId: string, q: InvoiceFilter): Promise<Page<ReadInvoice>> {
    const limit = q.limit ?? 20;
    const qb = this.db
      .getRepository(InvoiceOrmEntity)
      .createQueryBuilder('i')
      .where('i.account_id = :accountId', { accountId })
      .andWhere('i.stripe_created_at >= :windowStart', { windowStart: mirrorWindowStart(this.clock.now()) })
      .orderBy('i.stripe_created_at', 'DESC')
      .addOrderBy('i.id', 'DESC')
      .limit(limit + 1);
    if (q.status?.length) qb.andWhere('i.status IN (:...statuses)', { statuses: q.status });
    if (q.createdFrom) {
      qb.andWhere('i.stripe_created_at >= :from::timestamptz', { from: toInstant(q.createdFrom) });
    }
    if (q.createdTo) qb.andWhere('i.stripe_created_at < :to::timestamptz', { to: toInstant(q.createdTo) });
    const after = decodeCursor(q.cursor, { value: 'instant', id: 'uuid' });
    if (after) {
      qb.andWhere('(i.stripe_created_at, i.id) < (:v::timestamptz, :id::uuid)', {
        v: after.value,
        id: after.id,
      });
    }
    const rows = await qb.getMany();
    const page = toPage(rows, limit, (r) => ({ value: r.stripeCreatedAt.toISOString(), id: r.id }));
    return { ...page, data: page.data.map(fromMirror) };
  }

  /** The currency of the account's latest mirrored invoice (the customer's), or null. */
  async latestCurrency(accountId: string): Promise<string | null> {
    const row = await this.db.getRepository(InvoiceOrmEntity).findOne({
      where: { accountId },
      order: { stripeCreatedAt: 'DESC', id: 'DESC' },
      select: { id: true, currency: true },
    });
    return row?.currency ?? null;
  }

  /**
   * One invoice by our id or Stripe's (`in_…`) as `principal` may see it; 404 when it does not exist or
   * is another account's. Served from the mirror in its window, else read from Stripe.
   */
  async find(principal: Principal, id: string): Promise<ReadInvoice> {
    const repo = this.db.getRepository(InvoiceOrmEntity);
    const ourId = uuidOrNull(id);
    if (!ourId && !STRIPE_INVOICE_ID.test(id)) throw notFound();
    const row = await repo.findOne({ where: ourId ? { id: ourId } : { stripeInvoiceId: id } });
    if (!row && ourId) throw notFound();
    if (row) {
      assertAccountAccess(principal, row.accountId);
      if (row.stripeCreatedAt.getTime() >= mirrorWindowStart(this.clock.now()).getTime()) {
        return fromMirror(row);
      }
    }
    const values = await this.readFromStripe(row?.stripeInvoiceId ?? id);
    if (!values) throw notFound();
    const accountId =
      row?.accountId ??
      (await this.accounts.accountForStripeCustomer(this.db.manager, values.stripeCustomerId));
    if (!accountId) throw notFound();
    assertAccountAccess(principal, accountId);
    return { ...values, id: row?.id ?? null, accountId, source: 'stripe' };
  }

  /** The invoice as Stripe has it now; null when Stripe has no such invoice. */
  private async readFromStripe(stripeInvoiceId: string): Promise<InvoiceValues | null> {
    try {
      const invoice = await this.stripe.call('invoices.retrieve', (s) =>
        s.invoices.retrieve(stripeInvoiceId),
      );
      return transformStripeInvoice(invoice);
    } catch (error) {
      if (error instanceof StripeCallError && error.kind === 'not_found') return null;
      throw error;
    }
  }
}

function notFound(): ApiError {
  return new ApiError('not_found', 'The invoice was not found.');
}

function fromMirror(row: InvoiceOrmEntity): ReadInvoice {
  return {
    id: row.id,
    accountId: row.accountId,
    stripeInvoiceId: row.stripeInvoiceId,
    stripeCustomerId: row.stripeCustomerId,
    stripeSubscriptionId: row.stripeSubscriptionId,
    number: row.number,
    status: row.status,
    billingReason: row.billingReason,
    currency: row.currency,
    amountDue: row.amountDue,
    amountPaid: row.amountPaid,
    amountRemaining: row.amountRemaining,
    total: row.total,
    attemptCount: row.attemptCount,
    nextPaymentAttempt: row.nextPaymentAttempt,
    hostedInvoiceUrl: row.hostedInvoiceUrl,
    invoicePdf: row.invoicePdf,
    periodStart: row.periodStart,
    periodEnd: row.periodEnd,
    paidAt: row.paidAt,
    stripeCreatedAt: row.stripeCreatedAt,
    source: 'mirror',
  };
}
