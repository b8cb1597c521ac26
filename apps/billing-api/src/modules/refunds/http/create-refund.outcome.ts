import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { IdempotentOutcome, ResolvedOutcome } from '../../../platform/idempotency/idempotent-outcome.js';
import { toRefundView } from '../persistence/refund.mapper.js';
import { RefundOrmEntity } from '../persistence/refund.orm-entity.js';
import { toRefundDto } from './dto/refund.mapper.js';

/**
 * The answer of `POST /v1/payments/{id}/refunds` told from its refund, for a retry whose first request
 * wrote the refund and then lost its answer (issue 16): the payment is never refunded twice. A refund
 * still pending without a Stripe refund has no known outcome yet (the refunds janitor resubmits it by
 * the same Stripe key; the retry gets 409 `idempotency_key_in_use`); otherwise 201 with the refund as
 * it is now (failed included, with its reason).
 */
@Injectable()
export class CreateRefundOutcome implements IdempotentOutcome {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async resolve(refundId: string): Promise<ResolvedOutcome | null> {
    const row = await this.db.getRepository(RefundOrmEntity).findOneBy({ id: refundId });
    if (!row || (row.status === 'pending' && row.stripeRefundId === null)) return null;
    return { status: 201, body: toRefundDto(toRefundView(row)) };
  }
}
