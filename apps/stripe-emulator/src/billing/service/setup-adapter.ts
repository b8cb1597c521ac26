/**
 * A SetupIntent for a card the buyer saves in a setup-mode Checkout Session, through CORE's setup
 * intents. The hosted page is where a 3-D Secure challenge would be shown; the emulator's page
 * passes it, so a card that needs authentication on setup ends up saved too.
 */
import type Stripe from 'stripe';
import type { Account } from '../../core/state.js';
import {
  completeSetupIntentAction,
  confirmSetupIntent,
  createSetupIntent,
} from '../../resources/setup-intents.js';

export function createSucceededSetupIntent(
  account: Account,
  customer: string,
  paymentMethod: string,
): Stripe.SetupIntent {
  const si = createSetupIntent(account, {
    customer,
    payment_method: paymentMethod,
    payment_method_types: ['card'],
    usage: 'off_session',
  });
  const confirmed = confirmSetupIntent(account, si, { throwOnDecline: true });
  return confirmed.status === 'requires_action'
    ? completeSetupIntentAction(account, confirmed, true)
    : confirmed;
}
