import type { SubscriptionInput } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { findRows, queryRows, sql, updateRowSql } from '../../../../platform/database/row-sql.js';
import type { Actor } from '../../../../platform/context/request-context.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import type { DunningInput, DunningInputResult } from '../../contracts/dunning-input.js';
import { SubscriptionTransitions } from '../../machine/subscription-transitions.js';
import { auditedFields } from '../../persistence/subscription.mapper.js';
import { SubscriptionOrmEntity } from '../../persistence/subscription.orm-entity.js';

/**
 * What dunning reports of a subscription (R-DUN), applied through the machine on the locked row, in
 * the caller's transaction, at the time of the dunning timeline (a test clock's time under one):
 * - `payment_failed`: a collection attempt failed. An active (or trialing) subscription goes past_due
 *   with Day 0 as `past_due_since`; one already past_due (Stripe's own report came first) only has its
 *   `past_due_since` brought back to the failed attempt's time; `counted: false` leaves the attempt
 *   count alone (the attempt that opened the case was counted by whichever came first);
 * - `grace_exhausted`: the policy's suspend step (the machine checks 7 days and 3 attempts);
 * - `payment_succeeded`: the invoice was paid: past_due or suspended returns to active.
 * Returns the state before and after; a refusal is recorded by the transitions (audit, alert).
 */
@Injectable()
export class ApplyDunningInputHandler {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
    private readonly transitions: SubscriptionTransitions,
  ) {}

  async execute(
    manager: EntityManager,
    stripeSubscriptionId: string,
    input: DunningInput,
    actor: Actor,
  ): Promise<DunningInputResult | null> {
    const [row] = await findRows(
      manager,
      SubscriptionOrmEntity,
      sql`stripe_subscription_id = ${stripeSubscriptionId}`,
      { lock: 'for_no_key_update' },
    );
    if (!row) return null;
    const from = row.state;
    const before = auditedFields(row);
    const version = row.version;
    const at = input.at;
    let machineInput: SubscriptionInput | null = null;
    let correctedSince = false;
    switch (input.type) {
      case 'payment_failed':
        if (from === 'active' || from === 'trialing') machineInput = { type: 'payment_failed' };
        else if (from === 'past_due' || from === 'suspended') {
          if (input.counted !== false) machineInput = { type: 'payment_failed' };
          if (!row.pastDueSince || row.pastDueSince.getTime() > at.getTime()) {
            row.pastDueSince = at;
            correctedSince = true;
          }
        }
        break;
      case 'grace_exhausted':
        if (from === 'past_due') machineInput = { type: 'grace_exhausted', policy: input.grace };
        break;
      case 'payment_succeeded':
        if (from === 'past_due' || from === 'suspended') machineInput = { type: 'payment_succeeded' };
        break;
    }
    if (!machineInput && !correctedSince) return { from, to: from };
    const outcome = machineInput
      ? this.transitions.apply(row, { path: [machineInput], changes: [] }, at)
      : { events: [], refused: [] };
    if (outcome.refused.length === 0 || correctedSince) {
      if (row.version === version) row.version += 1;
      row.updatedAt = this.clock.now();
      // What dunning applied is as new as its report (a failed attempt's event, a step on the timeline):
      // a Stripe event about the subscription from before it, delivered late, is then stale and cannot
      // undo it (the renewal's own `customer.subscription.updated`, still `active`, put a past_due
      // subscription back to active and reset its attempts). One of the same second re-reads Stripe.
      row.lastEventCreated = Math.max(row.lastEventCreated, Math.floor(at.getTime() / 1000));
      // The row (read under its lock) and its audit record in one statement (`npm run bench:dunning`).
      const { id, ...values } = row;
      await queryRows(
        manager,
        sql`WITH subscriptions__saved AS (
              ${updateRowSql(manager, SubscriptionOrmEntity, values, sql`id = ${id}::uuid`)} RETURNING id)
            ${this.audit.recordSql(
              manager,
              {
                accountId: row.accountId,
                action: from !== row.state ? 'subscription.state_changed' : 'subscription.updated',
                entityType: 'subscription',
                entityId: row.id,
                before,
                after: auditedFields(row),
                reason: `dunning: ${input.type}`,
                actor,
              },
              'subscriptions__saved',
            )}`,
      );
    }
    await this.transitions.record(manager, row, outcome, from, actor);
    return { from, to: row.state };
  }
}
