import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { diffAttributes, emitEvent } from '../core/events.js';
import { newId } from '../core/ids.js';
import type { Account } from '../core/state.js';
import { realNow } from '../core/time.js';
import { invalidRequest, missingParam, resourceMissing } from '../http/errors.js';
import {
  type FormParams,
  applyMetadata,
  optBool,
  optInt,
  optNonEmpty,
  optObject,
  optString,
  optStringArray,
  reqString,
} from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';
import { createProduct, getProduct } from './products.js';

const INTERVALS: ReadonlySet<string> = new Set(['day', 'week', 'month', 'year']);
/** Stripe caps a recurring interval at one year (e.g. 12 months, 52 weeks, 365 days). */
const MAX_COUNT: Readonly<Record<string, number>> = { day: 365, week: 52, month: 12, year: 1 };

/** `unit_amount_decimal` travels as a decimal string; the SDK's type is a branded Decimal. */
export function decimalString(value: string): NonNullable<Stripe.Price['unit_amount_decimal']> {
  return value as unknown as NonNullable<Stripe.Price['unit_amount_decimal']>;
}

export function getPrice(account: Account, id: string, param = 'id'): Stripe.Price {
  const price = account.prices.get(id);
  if (!price) throw resourceMissing('price', id, param);
  return price;
}

/** Moves a lookup key or refuses, as Stripe does (`transfer_lookup_key`). */
function claimLookupKey(
  account: Account,
  key: string,
  transfer: boolean,
  param: string,
  except?: string,
): void {
  for (const other of account.prices.values()) {
    if (other.id === except || other.lookup_key !== key) continue;
    if (!transfer) {
      throw invalidRequest(
        `A price (\`${other.id}\`) already uses that lookup key. Use \`transfer_lookup_key\` to move it to this price.`,
        param,
      );
    }
    const before = structuredClone(other);
    other.lookup_key = null;
    emitEvent(account, {
      type: 'price.updated',
      object: other,
      previousAttributes: diffAttributes(before, other) ?? {},
    });
  }
}

function recurringFrom(params: FormParams, param: string): Stripe.Price.Recurring | null {
  const recurring = optObject(params, 'recurring', param);
  if (!recurring) return null;
  const interval = reqString(recurring, 'interval', `${param}[interval]`);
  if (!INTERVALS.has(interval)) {
    throw invalidRequest(`Invalid interval: must be one of day, week, month, or year`, `${param}[interval]`);
  }
  const count = optInt(recurring, 'interval_count', `${param}[interval_count]`) ?? 1;
  if (count < 1 || count > (MAX_COUNT[interval] ?? 1)) {
    throw invalidRequest(
      'The maximum billing interval is one year (1 year, 12 months, or 52 weeks).',
      `${param}[interval_count]`,
    );
  }
  const usage = optNonEmpty(recurring, 'usage_type', `${param}[usage_type]`) ?? 'licensed';
  if (usage !== 'licensed' && usage !== 'metered')
    throw invalidRequest(`Invalid usage_type: ${usage}`, `${param}[usage_type]`);
  return {
    interval: interval,
    interval_count: count,
    meter: optNonEmpty(recurring, 'meter', `${param}[meter]`) ?? null,
    trial_period_days: optInt(recurring, 'trial_period_days', `${param}[trial_period_days]`) ?? null,
    usage_type: usage,
  };
}

/** Creates a price (`param` prefixes error params when nested, e.g. `default_price_data`). */
export function createPrice(account: Account, body: FormParams, param = ''): Stripe.Price {
  const p = (name: string): string => (param ? `${param}[${name}]` : name);
  const currency = reqString(body, 'currency', p('currency')).toLowerCase();
  let productId = optNonEmpty(body, 'product', p('product'));
  if (productId) getProduct(account, productId, p('product'));
  else {
    const productData = optObject(body, 'product_data', p('product_data'));
    if (!productData) throw missingParam(p('product'));
    productId = createProduct(account, productData, p('product_data')).id;
  }
  let unitAmount = optInt(body, 'unit_amount', p('unit_amount'));
  const decimal = optNonEmpty(body, 'unit_amount_decimal', p('unit_amount_decimal'));
  if (unitAmount === undefined && decimal !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(decimal)) throw invalidRequest('Invalid decimal', p('unit_amount_decimal'));
    if (/^\d+$/.test(decimal)) unitAmount = Number(decimal);
  }
  const custom = optObject(body, 'custom_unit_amount', p('custom_unit_amount'));
  if (unitAmount === undefined && decimal === undefined && !custom) {
    throw invalidRequest('Missing required param: unit_amount.', p('unit_amount'), 'parameter_missing');
  }
  if (unitAmount !== undefined && unitAmount < 0)
    throw invalidRequest('Invalid non-negative integer', p('unit_amount'));
  const recurring = recurringFrom(body, p('recurring'));
  const lookupKey = optNonEmpty(body, 'lookup_key', p('lookup_key'));
  if (lookupKey)
    claimLookupKey(
      account,
      lookupKey,
      optBool(body, 'transfer_lookup_key', p('transfer_lookup_key')) ?? false,
      p('lookup_key'),
    );
  const taxBehavior = optNonEmpty(body, 'tax_behavior', p('tax_behavior'));
  const price: Stripe.Price = {
    id: newId('price'),
    object: 'price',
    active: optBool(body, 'active', p('active')) ?? true,
    billing_scheme: 'per_unit',
    created: realNow(),
    currency,
    custom_unit_amount: custom
      ? {
          maximum: optInt(custom, 'maximum') ?? null,
          minimum: optInt(custom, 'minimum') ?? null,
          preset: optInt(custom, 'preset') ?? null,
        }
      : null,
    livemode: false,
    lookup_key: lookupKey ?? null,
    metadata: applyMetadata({}, body),
    nickname: optNonEmpty(body, 'nickname', p('nickname')) ?? null,
    product: productId,
    recurring,
    tax_behavior: taxBehavior ?? 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: recurring ? 'recurring' : 'one_time',
    unit_amount: unitAmount ?? null,
    unit_amount_decimal:
      decimal !== undefined
        ? decimalString(decimal)
        : unitAmount !== undefined
          ? decimalString(String(unitAmount))
          : null,
  };
  account.prices.set(price.id, price);
  emitEvent(account, { type: 'price.created', object: price });
  return price;
}

export function register(router: Router<ApiRequest>, _ctx: EmulatorContext): void {
  router.post('/v1/prices', (req) => createPrice(req.account, req.body));

  router.get('/v1/prices/:id', (req) => getPrice(req.account, req.params.id ?? ''));

  router.post('/v1/prices/:id', (req) => {
    const price = getPrice(req.account, req.params.id ?? '');
    const before = structuredClone(price);
    const active = optBool(req.body, 'active');
    if (active !== undefined) price.active = active;
    const nickname = optString(req.body, 'nickname');
    if (nickname !== undefined) price.nickname = nickname === '' ? null : nickname;
    const lookupKey = optString(req.body, 'lookup_key');
    if (lookupKey === '') price.lookup_key = null;
    else if (lookupKey !== undefined && lookupKey !== price.lookup_key) {
      claimLookupKey(
        req.account,
        lookupKey,
        optBool(req.body, 'transfer_lookup_key') ?? false,
        'lookup_key',
        price.id,
      );
      price.lookup_key = lookupKey;
    }
    const taxBehavior = optNonEmpty(req.body, 'tax_behavior');
    if (taxBehavior) price.tax_behavior = taxBehavior;
    price.metadata = applyMetadata(price.metadata, req.body);
    const previous = diffAttributes(before, price);
    if (previous)
      emitEvent(req.account, { type: 'price.updated', object: price, previousAttributes: previous });
    return price;
  });

  router.get('/v1/prices', (req) => {
    const q = req.query;
    const active = optBool(q, 'active');
    const currency = optNonEmpty(q, 'currency')?.toLowerCase();
    const product = optNonEmpty(q, 'product');
    const type = optNonEmpty(q, 'type');
    const lookupKeys = optStringArray(q, 'lookup_keys');
    const recurring = optObject(q, 'recurring');
    const interval = recurring ? optNonEmpty(recurring, 'interval', 'recurring[interval]') : undefined;
    const usageType = recurring ? optNonEmpty(recurring, 'usage_type', 'recurring[usage_type]') : undefined;
    return paginate(req.account.prices.values(), q, '/v1/prices', {
      filter: (p) =>
        (active === undefined || p.active === active) &&
        (currency === undefined || p.currency === currency) &&
        (product === undefined || p.product === product) &&
        (type === undefined || p.type === type) &&
        (lookupKeys === undefined || (p.lookup_key !== null && lookupKeys.includes(p.lookup_key))) &&
        (interval === undefined || p.recurring?.interval === interval) &&
        (usageType === undefined || p.recurring?.usage_type === usageType),
    });
  });
}
