import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { type FormParams, optBool, optNonEmpty, optObject, optString } from '../http/form.js';
import { registerExpander } from '../http/expand.js';
import { invalidRequest } from '../http/errors.js';
import { paginateMap } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';
import { catchUpRealTime } from '../billing/service/clock.js';
import { installBilling } from '../billing/service/install.js';
import { realNow } from '../core/time.js';
import {
  cancelNow,
  createSubscription,
  getSubscription,
  pauseSubscription,
  periodOf,
  resumeSubscription,
  updateSubscription,
} from '../billing/service/subscriptions.js';

const STATUSES = new Set([
  'active',
  'all',
  'canceled',
  'ended',
  'incomplete',
  'incomplete_expired',
  'past_due',
  'paused',
  'trialing',
  'unpaid',
]);

function statusFilter(status: string | undefined): (s: Stripe.Subscription) => boolean {
  if (status === undefined) return (s) => s.status !== 'canceled' && s.status !== 'incomplete_expired';
  if (!STATUSES.has(status))
    throw invalidRequest(`Invalid status: must be one of ${[...STATUSES].join(', ')}`, 'status');
  if (status === 'all') return () => true;
  if (status === 'ended') return (s) => s.status === 'canceled' || s.status === 'incomplete_expired';
  return (s) => s.status === status;
}

function rangeMatch(value: number, params: FormParams, name: string): boolean {
  const raw = params[name];
  if (raw === undefined || raw === '') return true;
  if (typeof raw === 'string') return value === Number(raw);
  const r = optObject(params, name) ?? {};
  const b = (k: string): number | undefined =>
    typeof r[k] === 'string' && r[k] !== '' ? Number(r[k]) : undefined;
  const [gt, gte, lt, lte] = [b('gt'), b('gte'), b('lt'), b('lte')];
  return !(
    (gt !== undefined && !(value > gt)) ||
    (gte !== undefined && !(value >= gte)) ||
    (lt !== undefined && !(value < lt)) ||
    (lte !== undefined && !(value <= lte))
  );
}

/** DELETE parameters arrive in the query (the SDK) or the body (curl). */
function merged(req: ApiRequest): FormParams {
  return { ...req.query, ...req.body };
}

/** Real-time subscriptions catch up before they are read or changed (the ticker runs every second). */
function caughtUp(req: ApiRequest): ApiRequest {
  catchUpRealTime(req.account, realNow());
  return req;
}

export function register(router: Router<ApiRequest>, ctx: EmulatorContext): void {
  installBilling(ctx);
  registerExpander('subscription', 'latest_invoice', (account, id) => account.invoices.get(id));
  registerExpander('subscription', 'default_payment_method', (account, id) =>
    account.payment_methods.get(id),
  );
  registerExpander('subscription', 'test_clock', (account, id) => account.test_clocks.get(id));

  router.post('/v1/subscriptions', (req) => createSubscription(req.account, req.body));
  router.get('/v1/subscriptions', (req) => {
    caughtUp(req);
    const q = req.query;
    const customer = optNonEmpty(q, 'customer');
    const price = optNonEmpty(q, 'price') ?? optNonEmpty(q, 'plan');
    const clock = optNonEmpty(q, 'test_clock');
    const collection = optNonEmpty(q, 'collection_method');
    const byStatus = statusFilter(optNonEmpty(q, 'status'));
    return paginateMap(req.account.subscriptions, q, '/v1/subscriptions', {
      filter: (s) =>
        byStatus(s) &&
        (customer === undefined || s.customer === customer) &&
        (price === undefined || s.items.data.some((i) => i.price.id === price)) &&
        (clock === undefined || s.test_clock === clock) &&
        (collection === undefined || s.collection_method === collection) &&
        rangeMatch(periodOf(s).start, q, 'current_period_start') &&
        rangeMatch(periodOf(s).end, q, 'current_period_end'),
    });
  });
  router.get('/v1/subscriptions/:id', (req) => getSubscription(caughtUp(req).account, req.params.id ?? ''));
  router.post('/v1/subscriptions/:id', (req) =>
    updateSubscription(req.account, getSubscription(req.account, req.params.id ?? ''), req.body),
  );
  router.delete('/v1/subscriptions/:id', (req) => {
    const params = merged(req);
    const details = optObject(params, 'cancellation_details');
    const comment = details ? optString(details, 'comment', 'cancellation_details[comment]') : undefined;
    const feedback = details ? optString(details, 'feedback', 'cancellation_details[feedback]') : undefined;
    return cancelNow(req.account, getSubscription(req.account, req.params.id ?? ''), {
      reason: 'cancellation_requested',
      prorate: optBool(params, 'prorate') === true,
      invoiceNow: optBool(params, 'invoice_now') === true,
      comment: comment === undefined ? undefined : comment || null,
      feedback: feedback === undefined ? undefined : feedback || null,
    });
  });
  router.post('/v1/subscriptions/:id/pause', (req) =>
    pauseSubscription(req.account, getSubscription(req.account, req.params.id ?? ''), 'pause_requested'),
  );
  router.post('/v1/subscriptions/:id/resume', (req) =>
    resumeSubscription(req.account, getSubscription(req.account, req.params.id ?? ''), req.body),
  );
}
