import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
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

  async findByStripeId(
    stripeRefundId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<RefundView | null> {
    const row = await manager.getRepository(RefundOrmEntity).findOne({ where: { stripeRefundId } });
    return row ? toRefundView(row) : null;
  }
}
