import { Injectable } from '@nestjs/common';
import { AfterCommit } from '../../../platform/database/after-commit.js';
import {
  HandlesStripeEvents,
  type StripeEventContext,
  type StripeEventOutcome,
  type StripeEventPayload,
} from '../../webhooks/contracts/stripe-event-handler.js';
import { DunningScheduler } from '../jobs/dunning-scheduler.js';
import { DunningTimeRepository } from '../persistence/dunning-time.repository.js';

/**
 * A Stripe test clock finished advancing: its new time is recorded and, after the commit, the steps of
 * the cases on that clock that are now due are queued. So advancing a clock seven days runs Day 3, 5
 * and 7 in order, as the days would have.
 */
@Injectable()
export class TestClockEventsHandler {
  constructor(
    private readonly time: DunningTimeRepository,
    private readonly scheduler: DunningScheduler,
    private readonly afterCommit: AfterCommit,
  ) {}

  @HandlesStripeEvents('test_helpers.test_clock.ready')
  async onReady(event: StripeEventPayload, ctx: StripeEventContext): Promise<StripeEventOutcome> {
    const clock = event.data.object as { id?: unknown; frozen_time?: unknown };
    if (typeof clock.id !== 'string' || typeof clock.frozen_time !== 'number') return 'ignored';
    const clockId = clock.id;
    await this.time.clockReached(ctx.manager, clockId, new Date(clock.frozen_time * 1000));
    this.afterCommit.run(ctx.manager, () => this.scheduler.enqueueDue({ testClockId: clockId }));
    return 'applied';
  }
}
