import type { EmulatorContext } from '../core/context.js';
import { registerExpander } from '../http/expand.js';
import { optNonEmpty } from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';
import { createSession, expireSession, getSession, lineItemsOf } from '../billing/service/checkout.js';
import { installBilling } from '../billing/service/install.js';
import { registerCheckoutPages } from '../pages/checkout-page.js';

export function register(router: Router<ApiRequest>, ctx: EmulatorContext): void {
  installBilling(ctx);
  registerCheckoutPages(ctx);
  registerExpander('checkout.session', 'subscription', (account, id) => account.subscriptions.get(id));
  registerExpander('checkout.session', 'payment_intent', (account, id) => account.payment_intents.get(id));
  registerExpander('checkout.session', 'setup_intent', (account, id) => account.setup_intents.get(id));
  registerExpander('checkout.session', 'invoice', (account, id) => account.invoices.get(id));
  registerExpander('checkout.session', 'line_items', () => undefined);

  router.post('/v1/checkout/sessions', (req) => createSession(req.account, req.body));
  router.get('/v1/checkout/sessions', (req) => {
    const q = req.query;
    const customer = optNonEmpty(q, 'customer');
    const subscription = optNonEmpty(q, 'subscription');
    const paymentIntent = optNonEmpty(q, 'payment_intent');
    const status = optNonEmpty(q, 'status');
    return paginate(req.account.checkout_sessions.values(), q, '/v1/checkout/sessions', {
      filter: (s) =>
        (customer === undefined || s.customer === customer) &&
        (subscription === undefined || s.subscription === subscription) &&
        (paymentIntent === undefined || s.payment_intent === paymentIntent) &&
        (status === undefined || s.status === status),
    });
  });
  router.get('/v1/checkout/sessions/:id', (req) => {
    const session = getSession(req.account, req.params.id ?? '');
    if (!req.expand.includes('line_items')) return session;
    const items = lineItemsOf(req.account, session);
    return {
      ...session,
      line_items: {
        object: 'list',
        url: `/v1/checkout/sessions/${session.id}/line_items`,
        has_more: false,
        data: items,
      },
    };
  });
  router.post('/v1/checkout/sessions/:id/expire', (req) =>
    expireSession(req.account, getSession(req.account, req.params.id ?? '')),
  );
  router.get('/v1/checkout/sessions/:id/line_items', (req) => {
    const session = getSession(req.account, req.params.id ?? '');
    return paginate(
      lineItemsOf(req.account, session).reverse(),
      req.query,
      `/v1/checkout/sessions/${session.id}/line_items`,
      {
        sortNewestFirst: false,
        createdFilter: false,
      },
    );
  });
}
