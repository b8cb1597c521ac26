import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { Clock } from '../../platform/clock/clock.js';
import { type Actor, RequestContext } from '../../platform/context/request-context.js';
import type { StripeEventContext, StripeEventOutcome } from './contracts/stripe-event-handler.js';
import { ProcessStripeEvent } from './processing/process-stripe-event.js';
import { StripeEventDispatcher } from './processing/stripe-event-dispatcher.js';

/** What other modules may ask of the webhooks module. */
@Injectable()
export class WebhooksFacade {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly dispatcher: StripeEventDispatcher,
    private readonly processor: ProcessStripeEvent,
    private readonly clock: Clock,
  ) {}

  /**
   * Applies a Stripe object read just now as if Stripe had sent `type` about it: the one handler of that
   * type (the same one webhooks use: lock, ordering rule, machine, audit) runs in its own transaction,
   * with `actor` as the audited actor. Reconciliation repairs what the app missed this way. Returns the
   * handler's outcome; 'ignored' when no handler owns the type.
   *
   * The report's time orders it against the events already applied (R-SM-3): it is the later of our
   * clock and the newest event received (Stripe's clock, which may run ahead of ours), so a read made
   * now is never taken for an older report; where it ties with the last event applied to the object, the
   * handler re-reads the object, as for any same-second event.
   */
  async applyAsEvent(
    type: string,
    object: Record<string, unknown>,
    options: { actor: Actor; reportId: string },
  ): Promise<StripeEventOutcome> {
    const handler = this.dispatcher.handlerFor(type);
    if (!handler) return 'ignored';
    const created = await this.reportTime();
    const event = {
      id: options.reportId,
      object: 'event',
      type,
      created,
      livemode: object.livemode === true,
      data: { object },
    } as unknown as Stripe.Event;
    const context = {
      correlationId: RequestContext.current()?.correlationId ?? options.reportId,
      actor: options.actor,
    };
    return this.db.transaction(async (manager) => {
      const ctx: StripeEventContext = {
        manager,
        event: { id: options.reportId, type, created, livemode: event.livemode },
        refetch: (objectId) => this.processor.refetch(objectId),
        actor: options.actor,
      };
      return (await RequestContext.run(context, () => handler.fn(event, ctx))) ?? 'applied';
    });
  }

  private async reportTime(): Promise<number> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    // The newest of the recently received events (by the received_at index), not a scan of the inbox.
    const [row]: { newest: Date | null }[] = await this.db.query(
      `SELECT max(event_created) AS newest FROM
         (SELECT event_created FROM webhook_events ORDER BY received_at DESC, id DESC LIMIT 1000) recent`,
    );
    const newest = row?.newest ? Math.floor(new Date(row.newest).getTime() / 1000) : 0;
    return Math.max(now, newest);
  }
}
