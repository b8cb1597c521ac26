/**
 * @billing/domain: the pure billing domain (R-ARCH-1). No framework, no clock, no ids, no floats in
 * money: `now` and ids are arguments, money is integer minor units.
 */
export * from './kernel/result.js';
export * from './kernel/errors.js';
export * from './kernel/events.js';

export * from './money/currency.js';
export * from './money/money.js';
export * from './money/format.js';

export * from './plan/plan.js';
export * from './seat/seat.js';
export * from './plan/plan-quote.js';
export * from './account/ownership-transfer.js';

export * from './subscription/subscription.types.js';
export * from './subscription/subscription.events.js';
export * from './subscription/subscription.machine.js';
export * from './subscription/stripe-subscription.js';
export * from './subscription/staleness.js';
export * from './subscription/trial-end.js';
export * from './subscription/stripe-inputs.js';

export * from './entitlement/entitlement.js';
export * from './dunning/dunning.js';
export * from './payment/payment.js';
export * from './payment/charge-amount.js';
export * from './payment/payment-metadata.js';
export * from './refund/refund.js';
export * from './reconciliation/drift.js';

import type { PaymentEvent } from './payment/payment.js';
import type { SubscriptionEvent } from './subscription/subscription.events.js';

/** Every domain event the library emits. */
export type DomainEvent = SubscriptionEvent | PaymentEvent;
