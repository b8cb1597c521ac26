import { billingFingerprint } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import type Stripe from 'stripe';
import { ApiError } from '../../../platform/http/api-error.js';
import { StripeGateway } from '../../../platform/stripe/stripe.gateway.js';
import { CatalogFacade } from '../../catalog/catalog.facade.js';
import type { SubscriptionItemsDescription } from '../../catalog/contracts/catalog-price.view.js';

/** How Stripe bills a subscription now: its items in catalogue terms and the fingerprint quotes lock. */
export interface StripeBilling {
  subscriptionId: string;
  customerId: string;
  status: string;
  currentPeriodEnd: number;
  description: SubscriptionItemsDescription;
  baseItemId: string;
  seatItemId: string | null;
  /** The subscription's latest invoice before the change (a change that invoices makes a new one). */
  latestInvoiceId: string | null;
  fingerprint: string;
}

/** The item changes that bill `target` instead of what Stripe bills now (`items[]` of an update). */
export type ItemChange =
  | { id: string; price: string; quantity?: number }
  | { price: string; quantity: number }
  | { id: string; deleted: true };

/**
 * The seat item of an update (R-PLAN-3): the existing seat item (when the subscription has one) moved
 * to `seatPriceId` and `seats`, else a new item of that price. Shared by quotes and direct seat changes.
 */
export function seatItemChange(seatItemId: string | null, seatPriceId: string, seats: number): ItemChange {
  return seatItemId
    ? { id: seatItemId, price: seatPriceId, quantity: seats }
    : { price: seatPriceId, quantity: seats };
}

/**
 * The items of a plan or seat change (R-SUB-3): the base item moves to the target base price, the seat
 * item to the target seat price and count (created when there was none, deleted at zero seats).
 */
export function planChangeItems(
  billing: Pick<StripeBilling, 'baseItemId' | 'seatItemId'>,
  target: { basePriceId: string; seatPriceId: string | null; seats: number },
): ItemChange[] {
  const items: ItemChange[] = [{ id: billing.baseItemId, price: target.basePriceId, quantity: 1 }];
  if (target.seats > 0 && target.seatPriceId) {
    items.push(seatItemChange(billing.seatItemId, target.seatPriceId, target.seats));
  } else if (billing.seatItemId) {
    items.push({ id: billing.seatItemId, deleted: true });
  }
  return items;
}

/**
 * Reads a subscription and its customer from Stripe (one call) for quotes and plan changes: the app
 * never prices a change itself, and what it locks in a quote is what Stripe bills at that moment.
 */
@Injectable()
export class SubscriptionBillingReader {
  constructor(
    private readonly gateway: StripeGateway,
    private readonly catalog: CatalogFacade,
  ) {}

  async read(stripeSubscriptionId: string): Promise<StripeBilling> {
    const sub = await this.gateway.call('subscription.retrieve', (s) =>
      s.subscriptions.retrieve(stripeSubscriptionId, { expand: ['customer'] }),
    );
    const items = sub.items.data;
    const description = await this.catalog.describeItems(
      items.map((i) => ({
        priceId: i.price.id,
        quantity: i.quantity ?? 1,
        lookupKey: i.price.lookup_key,
        metadata: i.price.metadata,
      })),
    );
    const base = description && items.find((i) => i.price.id === description.basePriceId);
    if (!description || !base) {
      throw new ApiError(
        'invalid_transition',
        'The subscription is not billed on a plan of the catalogue: it cannot be changed here.',
        { details: { stripeSubscriptionId } },
      );
    }
    const seat = description.seatPriceId
      ? (items.find((i) => i.price.id === description.seatPriceId) ?? null)
      : null;
    const customer = sub.customer as Stripe.Customer | string;
    const customerBalance = typeof customer === 'string' ? 0 : customer.balance;
    return {
      subscriptionId: sub.id,
      customerId: typeof customer === 'string' ? customer : customer.id,
      status: sub.status,
      currentPeriodEnd: base.current_period_end,
      description,
      baseItemId: base.id,
      seatItemId: seat?.id ?? null,
      latestInvoiceId:
        typeof sub.latest_invoice === 'string' ? sub.latest_invoice : (sub.latest_invoice?.id ?? null),
      fingerprint: billingFingerprint({
        status: sub.status,
        currentPeriodEnd: base.current_period_end,
        items: items.map((i) => ({ price: i.price.id, quantity: i.quantity ?? 1 })),
        customerBalance,
      }),
    };
  }
}
