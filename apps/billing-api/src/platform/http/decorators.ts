import { SetMetadata } from '@nestjs/common';

export const SKIP_CARD_DATA_CHECK = 'billing:skip-card-data-check';
/** For routes whose body is not ours to judge (signed Stripe webhooks). */
export const SkipCardDataCheck = (): MethodDecorator & ClassDecorator =>
  SetMetadata(SKIP_CARD_DATA_CHECK, true);

export const BILLING_CALL = 'billing:billing-call';
/**
 * A route that asks Stripe to bill the caller's own account (checkout, trial, a payment, a saved card…):
 * refused with 409 `billing_disabled` before it runs when billing is off for that account (R-PLAN-5).
 * The metadata only marks the route; the entitlements module decides who is billed.
 */
export const BillingCall = (): MethodDecorator & ClassDecorator => SetMetadata(BILLING_CALL, true);
