import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { newId, webhookSecret } from '../core/ids.js';
import type { Account } from '../core/state.js';
import { realNow } from '../core/time.js';
import { invalidRequest, resourceMissing } from '../http/errors.js';
import { applyMetadata, optBool, optNonEmpty, optString, optStringArray, reqString } from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';

function getEndpoint(account: Account, id: string): Stripe.WebhookEndpoint {
  const endpoint = account.webhook_endpoints.get(id);
  if (!endpoint) throw resourceMissing('webhook_endpoint', id);
  return endpoint;
}

function checkUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw invalidRequest(
      'Invalid URL: URL must be publicly accessible and use http or https.',
      'url',
      'url_invalid',
    );
  }
  return url;
}

/** Creates an endpoint and returns it with its `secret` (only shown on create, like Stripe). */
export function createWebhookEndpoint(
  account: Account,
  input: {
    url: string;
    enabledEvents: string[];
    description?: string | null;
    metadata?: Record<string, string>;
    secret?: string;
  },
): Stripe.WebhookEndpoint {
  const endpoint: Stripe.WebhookEndpoint = {
    id: newId('we'),
    object: 'webhook_endpoint',
    api_version: null,
    application: null,
    created: realNow(),
    description: input.description ?? null,
    enabled_events: input.enabledEvents,
    livemode: false,
    metadata: input.metadata ?? {},
    status: 'enabled',
    url: checkUrl(input.url),
  };
  const secret = input.secret ?? webhookSecret();
  account.webhook_endpoints.set(endpoint.id, endpoint);
  account.internalOf(endpoint.id).secret = secret;
  return { ...endpoint, secret };
}

export function register(router: Router<ApiRequest>, _ctx: EmulatorContext): void {
  router.post('/v1/webhook_endpoints', (req) => {
    const enabled = optStringArray(req.body, 'enabled_events');
    if (!enabled || enabled.length === 0)
      throw invalidRequest('Missing required param: enabled_events.', 'enabled_events', 'parameter_missing');
    const endpoint = createWebhookEndpoint(req.account, {
      url: reqString(req.body, 'url'),
      enabledEvents: enabled,
      description: optNonEmpty(req.body, 'description') ?? null,
      metadata: applyMetadata({}, req.body),
    });
    const apiVersion = optNonEmpty(req.body, 'api_version');
    if (apiVersion) {
      const stored = getEndpoint(req.account, endpoint.id);
      stored.api_version = apiVersion;
      endpoint.api_version = apiVersion;
    }
    return endpoint;
  });

  router.get('/v1/webhook_endpoints/:id', (req) => getEndpoint(req.account, req.params.id ?? ''));

  router.post('/v1/webhook_endpoints/:id', (req) => {
    const endpoint = getEndpoint(req.account, req.params.id ?? '');
    const url = optNonEmpty(req.body, 'url');
    if (url !== undefined) endpoint.url = checkUrl(url);
    const enabled = optStringArray(req.body, 'enabled_events');
    if (enabled !== undefined && enabled.length > 0) endpoint.enabled_events = enabled;
    const description = optString(req.body, 'description');
    if (description !== undefined) endpoint.description = description === '' ? null : description;
    const disabled = optBool(req.body, 'disabled');
    if (disabled !== undefined) endpoint.status = disabled ? 'disabled' : 'enabled';
    endpoint.metadata = applyMetadata(endpoint.metadata, req.body);
    return endpoint;
  });

  router.delete('/v1/webhook_endpoints/:id', (req) => {
    const id = req.params.id ?? '';
    getEndpoint(req.account, id);
    req.account.webhook_endpoints.delete(id);
    req.account.deleted.set(id, 'webhook_endpoint');
    return { id, object: 'webhook_endpoint', deleted: true };
  });

  router.get('/v1/webhook_endpoints', (req) =>
    paginate(req.account.webhook_endpoints.values(), req.query, '/v1/webhook_endpoints'),
  );
}
