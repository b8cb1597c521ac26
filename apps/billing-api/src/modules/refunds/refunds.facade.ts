import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { RecordedBalanceFacts } from '@billing/domain';
import { DataSource, In, type EntityManager } from 'typeorm';
import type { RefundView } from './contracts/refund.view.js';
import { toRefundView } from './persistence/refund.mapper.js';
import { RefundOrmEntity } from './persistence/refund.orm-entity.js';

/** What other modules may ask of refunds. */
@Injectable()
export class RefundsFacade {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A payment's refunds, oldest first. */
  async listForPayment(paymentId: string, manager: EntityManager = this.db.manager): Promise<RefundView[]> {
    const rows = await manager
      .getRepository(RefundOrmEntity)
      .find({ where: { paymentId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map(toRefundView);
  }

  async getRefund(refundId: string, manager: EntityManager = this.db.manager): Promise<RefundView | null> {
    const row = await manager.getRepository(RefundOrmEntity).findOne({ where: { id: refundId } });
    return row ? toRefundView(row) : null;
  }

  /**
   * What the app records of these Stripe refunds' money, for reconciliation: the amount (negated, as
   * Stripe signs a refund's balance transaction), fee and net. Refunds the app does not mirror are left out.
   */
  async recordedBalances(
    stripeRefundIds: readonly string[],
    manager: EntityManager = this.db.manager,
  ): Promise<{ stripeRefundId: string; accountId: string; recorded: RecordedBalanceFacts }[]> {
    if (stripeRefundIds.length === 0) return [];
    const rows = await manager
      .getRepository(RefundOrmEntity)
      .find({ where: { stripeRefundId: In([...stripeRefundIds]) } });
    return rows.map((row) => ({
      stripeRefundId: row.stripeRefundId ?? '',
      accountId: row.accountId,
      recorded: { currency: row.currency, amount: -row.amount, fee: row.fee, net: row.net },
    }));
  }

  async findByStripeId(
    stripeRefundId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<RefundView | null> {
    const row = await manager.getRepository(RefundOrmEntity).findOne({ where: { stripeRefundId } });
    return row ? toRefundView(row) : null;
  }
}
