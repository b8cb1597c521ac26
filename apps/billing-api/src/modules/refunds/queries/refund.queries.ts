import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { decodeCursor, toPage, type Page } from '../../../platform/http/pagination.js';
import type { RefundView } from '../contracts/refund.view.js';
import type { ListRefundsQueryDto } from '../http/dto/refund.dto.js';
import { toRefundView } from '../persistence/refund.mapper.js';
import { RefundOrmEntity } from '../persistence/refund.orm-entity.js';

/** Read side of refunds for finance (R-REF): newest first, cursor pages in a stable order. */
@Injectable()
export class RefundQueries {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async list(q: ListRefundsQueryDto): Promise<Page<RefundView>> {
    const limit = q.limit ?? 20;
    const qb = this.db
      .getRepository(RefundOrmEntity)
      .createQueryBuilder('r')
      .orderBy('r.created_at', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .limit(limit + 1);
    if (q.accountId) qb.andWhere('r.account_id = :accountId', { accountId: q.accountId });
    if (q.paymentId) qb.andWhere('r.payment_id = :paymentId', { paymentId: q.paymentId });
    if (q.status) qb.andWhere('r.status = :status', { status: q.status });
    const after = decodeCursor(q.cursor, { value: 'instant', id: 'uuid' });
    if (after) {
      qb.andWhere('(r.created_at, r.id) < (:at::timestamptz, :id::uuid)', { at: after.value, id: after.id });
    }
    const rows = await qb.getMany();
    const page = toPage(rows, limit, (r) => ({ value: r.createdAt.toISOString(), id: r.id }));
    return { ...page, data: page.data.map(toRefundView) };
  }
}
