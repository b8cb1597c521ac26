import {
  rejection,
  transition,
  type DomainRejection,
  type SubscriptionEvent,
  type SubscriptionInput,
  type SubscriptionSnapshot,
  type SubscriptionState,
} from '@billing/domain';
import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AfterCommit } from '../../../platform/database/after-commit.js';
import type { Actor } from '../../../platform/context/request-context.js';
import { DomainEvents } from '../../../platform/events/domain-events.js';
import { AuditFacade } from '../../audit/audit.facade.js';
import { CatalogFacade } from '../../catalog/catalog.facade.js';
import { subscriptionEvent } from '../contracts/subscription.events.js';
import type { SubscriptionOrmEntity } from '../persistence/subscription.orm-entity.js';
import { applySnapshot, toSnapshot } from '../persistence/subscription.snapshot.js';
import { SubscriptionMetrics } from '../subscription.metrics.js';

/** A change the machine refused: what was asked, and why not. */
export interface RefusedChange {
  /** The state the change was to lead to (what Stripe reports, or the input's usual target). */
  to: SubscriptionState;
  input: SubscriptionInput['type'] | null;
  rejection: DomainRejection;
}

/** What applying inputs did: the machine's events (to publish) and what it refused. */
export interface TransitionOutcome {
  events: SubscriptionEvent[];
  refused: RefusedChange[];
}

/**
 * The only way a subscription's app state changes (R-SM-1): inputs go through the machine of
 * libs/domain, its snapshot is written back onto the row, and what it refuses is recorded (an audit
 * record `subscription.transition_refused`, a counter, an alert log line) and not applied: it is left
 * for reconciliation. The caller holds the row's lock and saves the row.
 */
@Injectable()
export class SubscriptionTransitions {
  private readonly logger = new Logger('Subscriptions');

  constructor(
    private readonly audit: AuditFacade,
    private readonly events: DomainEvents,
    private readonly afterCommit: AfterCommit,
    private readonly metrics: SubscriptionMetrics,
    private readonly catalog: CatalogFacade,
  ) {}

  /**
   * Applies `path` all or nothing (every input accepted and the state `reach` reached, when given),
   * then each of `changes` on its own. Writes the resulting snapshot onto `row`.
   */
  apply(
    row: SubscriptionOrmEntity,
    inputs: {
      path: readonly SubscriptionInput[];
      changes: readonly SubscriptionInput[];
      reach?: SubscriptionState;
    },
    now: Date,
  ): TransitionOutcome {
    const outcome: TransitionOutcome = { events: [], refused: [] };
    // The operator's catalogue: plans, prices and seats are its data, never a list in code.
    const catalogue = this.catalog.catalogue();
    let snapshot = toSnapshot(row);
    let tried = snapshot;
    const pathEvents: SubscriptionEvent[] = [];
    for (const input of inputs.path) {
      const result = transition(tried, input, now, catalogue);
      if (!result.ok) {
        outcome.refused.push({ to: inputs.reach ?? tried.state, input: input.type, rejection: result.error });
        break;
      }
      tried = result.value.snapshot;
      pathEvents.push(...result.value.events);
    }
    if (outcome.refused.length === 0 && inputs.reach && tried.state !== inputs.reach) {
      outcome.refused.push({
        to: inputs.reach,
        input: inputs.path.at(-1)?.type ?? null,
        rejection: rejection(
          'invalid_transition',
          `the machine reaches '${tried.state}', not '${inputs.reach}'`,
          { from: snapshot.state, to: inputs.reach, reached: tried.state },
        ),
      });
    }
    if (outcome.refused.length === 0) {
      snapshot = tried;
      outcome.events.push(...pathEvents);
    }
    for (const input of inputs.changes) {
      const result = transition(snapshot, input, now, catalogue);
      if (!result.ok) {
        outcome.refused.push({ to: snapshot.state, input: input.type, rejection: result.error });
        continue;
      }
      snapshot = result.value.snapshot;
      outcome.events.push(...result.value.events);
    }
    applySnapshot(row, snapshot);
    return outcome;
  }

  /** Publishes the applied events and records the refused changes, in the caller's transaction. */
  async record(
    manager: EntityManager,
    row: SubscriptionOrmEntity,
    outcome: TransitionOutcome,
    from: SubscriptionSnapshot['state'],
    actor: Actor,
  ): Promise<void> {
    for (const refused of outcome.refused) {
      await this.audit.record(
        {
          accountId: row.accountId,
          action: 'subscription.transition_refused',
          entityType: 'subscription',
          entityId: row.id,
          before: { state: from },
          after: { state: refused.to, input: refused.input },
          reason: `${refused.rejection.code}: ${refused.rejection.message}`,
          actor,
        },
        manager,
      );
      const to = refused.to;
      this.afterCommit.run(manager, () => {
        this.metrics.transitionRefused(from, to);
        this.logger.error({
          msg: 'subscription transition refused; left for reconciliation',
          alert: 'subscription_transition_refused',
          subscriptionId: row.id,
          stripeSubscriptionId: row.stripeSubscriptionId,
          from,
          to,
          input: refused.input,
          code: refused.rejection.code,
        });
      });
    }
    const ref = {
      subscriptionId: row.id,
      accountId: row.accountId,
      stripeSubscriptionId: row.stripeSubscriptionId,
    };
    if (outcome.events.length > 0) {
      await this.events.publish(
        manager,
        outcome.events.map((e) => subscriptionEvent(e, ref)),
      );
    }
  }
}
