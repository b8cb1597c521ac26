import type { EntityManager } from 'typeorm';
import { PaymentOrmEntity } from './payment.orm-entity.js';

/**
 * Writes a payment row that the caller has loaded and locked: one UPDATE by id. TypeORM's `save()` would
 * first SELECT the row again to diff it, a round trip per write on the hottest path (issue 5 benchmark).
 */
export async function updatePaymentRow(manager: EntityManager, row: PaymentOrmEntity): Promise<void> {
  const { id, ...columns } = row;
  await manager.getRepository(PaymentOrmEntity).update({ id }, columns);
}
