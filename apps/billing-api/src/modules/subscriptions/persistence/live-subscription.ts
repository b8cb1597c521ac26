import { isLiveState, type SubscriptionState } from '@billing/domain';
import type { EntityManager } from 'typeorm';
import { ApiError } from '../../../platform/http/api-error.js';
import { SubscriptionOrmEntity } from './subscription.orm-entity.js';

/**
 * The account's live subscription (the newest one in a live state), read without a lock to ask the
 * machine first; 409 `invalid_transition` naming the state when the account has none.
 */
export async function liveSubscriptionOf(
  manager: EntityManager,
  accountId: string,
): Promise<SubscriptionOrmEntity> {
  const rows = await manager.getRepository(SubscriptionOrmEntity).find({
    where: { accountId },
    order: { createdAt: 'DESC', id: 'DESC' },
  });
  const live = rows.find((r) => isLiveState(r.state));
  if (!live) {
    const state: SubscriptionState = rows[0]?.state ?? 'free';
    throw new ApiError('invalid_transition', `The account has no live subscription (it is ${state}).`, {
      details: { state },
    });
  }
  return live;
}
