import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { emitEvent } from '../core/events.js';
import { newId } from '../core/ids.js';
import { nowFor } from '../core/time.js';
import { optNonEmpty, reqString } from '../http/form.js';
import type { ApiRequest, Router } from '../http/router.js';
import { installBilling } from '../billing/service/install.js';
import { baseUrlFor } from '../billing/service/runtime.js';
import { registerPortalPages } from '../pages/portal-page.js';
import { getCustomer } from './customers.js';

export function register(router: Router<ApiRequest>, ctx: EmulatorContext): void {
  installBilling(ctx);
  registerPortalPages(ctx);
  router.post('/v1/billing_portal/sessions', (req) => {
    const customer = getCustomer(req.account, reqString(req.body, 'customer'), 'customer');
    const id = newId('bps');
    const session: Stripe.BillingPortal.Session = {
      id,
      object: 'billing_portal.session',
      configuration: optNonEmpty(req.body, 'configuration') ?? 'bpc_emulator_default',
      created: nowFor(req.account, customer.id),
      customer: customer.id,
      customer_account: null,
      flow: null,
      livemode: false,
      locale: optNonEmpty(req.body, 'locale') ?? null,
      on_behalf_of: optNonEmpty(req.body, 'on_behalf_of') ?? null,
      return_url: optNonEmpty(req.body, 'return_url') ?? null,
      url: `${baseUrlFor(req.account)}/_emulator/portal/${id}`,
    };
    req.account.billing_portal_sessions.set(id, session);
    emitEvent(req.account, {
      type: 'billing_portal.session.created',
      object: session,
      customerId: customer.id,
    });
    return session;
  });
}
