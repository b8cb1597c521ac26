import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiError } from '../../../platform/http/api-error.js';
import { toInstant } from '../../../platform/validation/instant.js';
import { decodeCursor, toPage, type Page } from '../../../platform/http/pagination.js';
import { uuidOrNull } from '../../../platform/validation/uuid.js';
import { PAYMENT_REFUND_LINES, type PaymentRefundLines } from '../contracts/payment-refund-lines.js';
import type { PaymentDetailView, PaymentView } from '../contracts/payment.view.js';
import { PaymentStatusHistoryOrmEntity } from '../persistence/payment-status-history.orm-entity.js';
import { PaymentOrmEntity } from '../persistence/payment.orm-entity.js';
import { toPaymentView } from '../persistence/payment.mapper.js';

/** The filters, sort and page of a payment list (the API's query, validated by its DTO). */
export interface PaymentListFilter {
  limit?: number | undefined;
  cursor?: string | undefined;
  sort?: 'created' | 'amount' | undefined;
  direction?: 'asc' | 'desc' | undefined;
  status?: string[] | undefined;
  createdFrom?: string | undefined;
  createdTo?: string | undefined;
  amountMin?: number | undefined;
  amountMax?: number | undefined;
  orderReference?: string | undefined;
  currency?: string | undefined;
}

/** Read side of payments (R-PAY-3): filtered, sorted, cursor-paged history and one payment in full. */
@Injectable()
export class PaymentQueries implements OnApplicationBootstrap {
  private refundLines: PaymentRefundLines | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The refunds module's query contract, resolved once the application is built (it fails without). */
  onApplicationBootstrap(): void {
    this.refundLines = this.moduleRef.get<PaymentRefundLines>(PAYMENT_REFUND_LINES, { strict: false });
  }

  async list(accountId: string, q: PaymentListFilter): Promise<Page<PaymentView>> {
    const limit = q.limit ?? 20;
    const column = q.sort === 'amount' ? 'p.amount' : 'p.created_at';
    const direction = q.direction === 'asc' ? 'ASC' : 'DESC';
    const qb = this.db
      .getRepository(PaymentOrmEntity)
      .createQueryBuilder('p')
      .where('p.account_id = :accountId', { accountId })
      .orderBy(column, direction)
      .addOrderBy('p.id', direction)
      .limit(limit + 1);
    if (q.status?.length) qb.andWhere('p.status IN (:...statuses)', { statuses: q.status });
    if (q.createdFrom) qb.andWhere('p.created_at >= :from::timestamptz', { from: toInstant(q.createdFrom) });
    if (q.createdTo) qb.andWhere('p.created_at < :to::timestamptz', { to: toInstant(q.createdTo) });
    if (q.amountMin !== undefined) qb.andWhere('p.amount >= :min', { min: q.amountMin });
    if (q.amountMax !== undefined) qb.andWhere('p.amount <= :max', { max: q.amountMax });
    if (q.orderReference) qb.andWhere('p.order_reference = :ref', { ref: q.orderReference });
    if (q.currency) qb.andWhere('p.currency = :currency', { currency: q.currency.toLowerCase() });
    const after = decodeCursor(q.cursor, { value: q.sort === 'amount' ? 'integer' : 'instant', id: 'uuid' });
    if (after) {
      const op = direction === 'ASC' ? '>' : '<';
      const cast = q.sort === 'amount' ? 'bigint' : 'timestamptz';
      qb.andWhere(`(${column}, p.id) ${op} (:v::${cast}, :id::uuid)`, { v: after.value, id: after.id });
    }
    const rows = await qb.getMany();
    const page = toPage(rows, limit, (r) => ({
      value: q.sort === 'amount' ? r.amount : r.createdAt.toISOString(),
      id: r.id,
    }));
    return { ...page, data: page.data.map(toPaymentView) };
  }

  /** One payment with its status history and refunds; 404 when it is not this account's (or any). */
  async detail(paymentId: string, accountId: string | null): Promise<PaymentDetailView> {
    const row = uuidOrNull(paymentId)
      ? await this.db.getRepository(PaymentOrmEntity).findOne({ where: { id: paymentId } })
      : null;
    if (!row || (accountId !== null && row.accountId !== accountId)) {
      throw new ApiError('not_found', 'The payment was not found.');
    }
    const history = await this.db
      .getRepository(PaymentStatusHistoryOrmEntity)
      .find({ where: { paymentId: row.id }, order: { id: 'ASC' } });
    if (!this.refundLines) throw new Error('payment details need the refunds module (RefundsModule)');
    const refunds = await this.refundLines.forPayment(row.id);
    return {
      payment: toPaymentView(row),
      statusHistory: history.map((h) => ({
        fromStatus: h.fromStatus,
        toStatus: h.toStatus,
        causeType: h.causeType,
        causeId: h.causeId,
        declineCode: h.declineCode,
        at: h.at.toISOString(),
      })),
      refunds,
    };
  }
}
