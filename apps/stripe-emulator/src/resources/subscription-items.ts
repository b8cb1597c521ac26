import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { invalidRequest, resourceMissing } from '../http/errors.js';
import { type FormParams, optNonEmpty, reqString } from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';
import { installBilling } from '../billing/service/install.js';
import { getSubscription, updateSubscription } from '../billing/service/subscriptions.js';

function getItem(req: ApiRequest): Stripe.SubscriptionItem {
  const id = req.params.id ?? '';
  const item = req.account.subscription_items.get(id);
  if (!item) throw resourceMissing('subscription_item', id);
  return item;
}

/** Parameters of the item endpoints that apply to the whole subscription change. */
function changeParams(params: FormParams): FormParams {
  const out: FormParams = {};
  for (const key of ['proration_behavior', 'proration_date', 'payment_behavior']) {
    const v = params[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function itemFields(params: FormParams): FormParams {
  const out: FormParams = {};
  for (const key of ['price', 'plan', 'price_data', 'quantity', 'metadata']) {
    const v = params[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

export function register(router: Router<ApiRequest>, ctx: EmulatorContext): void {
  installBilling(ctx);
  router.get('/v1/subscription_items', (req) => {
    const subscription = optNonEmpty(req.query, 'subscription');
    if (!subscription)
      throw invalidRequest('Missing required param: subscription.', 'subscription', 'parameter_missing');
    return paginate(req.account.subscription_items.values(), req.query, '/v1/subscription_items', {
      filter: (i) => i.subscription === subscription,
    });
  });
  router.get('/v1/subscription_items/:id', (req) => getItem(req));
  router.post('/v1/subscription_items', (req) => {
    const sub = getSubscription(req.account, reqString(req.body, 'subscription'), 'subscription');
    const before = new Set(sub.items.data.map((i) => i.id));
    updateSubscription(req.account, sub, { ...changeParams(req.body), items: [itemFields(req.body)] });
    const created = sub.items.data.find((i) => !before.has(i.id));
    if (!created) throw invalidRequest('The item could not be added.');
    return created;
  });
  router.post('/v1/subscription_items/:id', (req) => {
    const item = getItem(req);
    const sub = getSubscription(req.account, item.subscription, 'subscription');
    updateSubscription(req.account, sub, {
      ...changeParams(req.body),
      items: [{ id: item.id, ...itemFields(req.body) }],
    });
    return req.account.subscription_items.get(item.id) ?? item;
  });
  router.delete('/v1/subscription_items/:id', (req) => {
    const item = getItem(req);
    const sub = getSubscription(req.account, item.subscription, 'subscription');
    updateSubscription(req.account, sub, {
      ...changeParams({ ...req.query, ...req.body }),
      items: [{ id: item.id, deleted: 'true' }],
    });
    const deleted: Stripe.DeletedSubscriptionItem = {
      id: item.id,
      object: 'subscription_item',
      deleted: true,
    };
    return deleted;
  });
}
