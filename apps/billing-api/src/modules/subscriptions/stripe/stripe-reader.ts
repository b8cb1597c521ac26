import { Injectable } from '@nestjs/common';
import { StripeGateway } from '../../../platform/stripe/stripe.gateway.js';

/**
 * Re-reads the Stripe objects the subscription mirror asks for when an API command (not a webhook)
 * reports a subscription: subscriptions and customers, through the one gateway. Null when Stripe has
 * no such object.
 */
@Injectable()
export class StripeReader {
  constructor(private readonly gateway: StripeGateway) {}

  async refetch(objectId: string): Promise<Record<string, unknown> | null> {
    const read = (): Promise<unknown> | null => {
      if (objectId.startsWith('sub_')) {
        return this.gateway.call('subscription.retrieve', (s) => s.subscriptions.retrieve(objectId));
      }
      if (objectId.startsWith('cus_')) {
        return this.gateway.call('customer.retrieve', (s) => s.customers.retrieve(objectId));
      }
      return null;
    };
    const found = await read();
    if (!found || (found as { deleted?: boolean }).deleted === true) return null;
    return found as Record<string, unknown>;
  }

  /**
   * The time on the customer's Stripe test clock (test mode), or null when the customer is on none: what
   * "now" means for that customer's subscriptions, which Stripe bills on the clock's time.
   */
  async customerClockTime(customerId: string): Promise<Date | null> {
    const customer = await this.refetch(customerId);
    const clock = customer?.test_clock;
    const clockId = typeof clock === 'string' ? clock : (clock as { id?: string } | null | undefined)?.id;
    if (!clockId) return null;
    const found = await this.gateway.call('test_clock.retrieve', (s) =>
      s.testHelpers.testClocks.retrieve(clockId),
    );
    return new Date(found.frozen_time * 1000);
  }
}
