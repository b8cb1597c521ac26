import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { diffAttributes, emitEvent } from '../core/events.js';
import { newId } from '../core/ids.js';
import type { Account } from '../core/state.js';
import { realNow } from '../core/time.js';
import { invalidRequest, resourceMissing } from '../http/errors.js';
import { registerExpander } from '../http/expand.js';
import {
  type FormParams,
  applyMetadata,
  optBool,
  optNonEmpty,
  optObject,
  optString,
  optStringArray,
  reqString,
} from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';
import { createPrice } from './prices.js';

export function getProduct(account: Account, id: string, param = 'id'): Stripe.Product {
  const product = account.products.get(id);
  if (!product) throw resourceMissing('product', id, param);
  return product;
}

/** Creates a product (also from `product_data` on prices); emits `product.created`. */
export function createProduct(account: Account, body: FormParams, param = ''): Stripe.Product {
  const p = (name: string): string => (param ? `${param}[${name}]` : name);
  const customId = optNonEmpty(body, 'id', p('id'));
  if (customId && (account.products.has(customId) || account.deleted.has(customId))) {
    throw invalidRequest(`Product already exists.`, p('id'), 'resource_already_exists');
  }
  const now = realNow();
  const product: Stripe.Product = {
    id: customId ?? newId('prod'),
    object: 'product',
    active: optBool(body, 'active', p('active')) ?? true,
    created: now,
    default_price: null,
    description: optNonEmpty(body, 'description', p('description')) ?? null,
    images: optStringArray(body, 'images', p('images')) ?? [],
    livemode: false,
    marketing_features: [],
    metadata: applyMetadata({}, body),
    name: reqString(body, 'name', p('name')),
    package_dimensions: null,
    shippable: null,
    statement_descriptor: optNonEmpty(body, 'statement_descriptor', p('statement_descriptor')) ?? null,
    tax_code: optNonEmpty(body, 'tax_code', p('tax_code')) ?? null,
    tax_details: null,
    type: 'service',
    unit_label: optNonEmpty(body, 'unit_label', p('unit_label')) ?? null,
    updated: now,
    url: optNonEmpty(body, 'url', p('url')) ?? null,
  };
  account.products.set(product.id, product);
  emitEvent(account, { type: 'product.created', object: product });
  return product;
}

export function register(router: Router<ApiRequest>, _ctx: EmulatorContext): void {
  registerExpander(
    '*',
    'product',
    (account, id) =>
      account.products.get(id) ??
      (account.deleted.has(id) ? { id, object: 'product', deleted: true } : undefined),
  );
  registerExpander('product', 'default_price', (account, id) => account.prices.get(id));

  router.post('/v1/products', (req) => {
    const product = createProduct(req.account, req.body);
    const defaultPriceData = optObject(req.body, 'default_price_data');
    if (defaultPriceData) {
      const price = createPrice(
        req.account,
        { ...defaultPriceData, product: product.id },
        'default_price_data',
      );
      product.default_price = price.id;
    }
    return product;
  });

  router.get('/v1/products/:id', (req) => {
    const id = req.params.id ?? '';
    if (req.account.deleted.get(id) === 'product') return { id, object: 'product', deleted: true };
    return getProduct(req.account, id);
  });

  router.post('/v1/products/:id', (req) => {
    const product = getProduct(req.account, req.params.id ?? '');
    const before = structuredClone(product);
    const name = optNonEmpty(req.body, 'name');
    if (name !== undefined) product.name = name;
    const active = optBool(req.body, 'active');
    if (active !== undefined) product.active = active;
    for (const field of ['description', 'url', 'statement_descriptor', 'unit_label', 'tax_code'] as const) {
      const v = optString(req.body, field);
      if (v !== undefined) (product as unknown as Record<string, unknown>)[field] = v === '' ? null : v;
    }
    const images = optStringArray(req.body, 'images');
    if (images !== undefined) product.images = images;
    const defaultPrice = optString(req.body, 'default_price');
    if (defaultPrice !== undefined) {
      if (defaultPrice === '') product.default_price = null;
      else {
        const price = req.account.prices.get(defaultPrice);
        if (!price || price.product !== product.id)
          throw resourceMissing('price', defaultPrice, 'default_price');
        product.default_price = defaultPrice;
      }
    }
    product.metadata = applyMetadata(product.metadata, req.body);
    const previous = diffAttributes(before, product);
    if (previous) {
      product.updated = Math.max(realNow(), product.updated);
      emitEvent(req.account, { type: 'product.updated', object: product, previousAttributes: previous });
    }
    return product;
  });

  router.delete('/v1/products/:id', (req) => {
    const id = req.params.id ?? '';
    const product = getProduct(req.account, id);
    for (const price of req.account.prices.values()) {
      if (price.product === id) {
        throw invalidRequest(
          'This product cannot be deleted because it has one or more user-created prices.',
          undefined,
          'product_has_prices',
        );
      }
    }
    req.account.products.delete(id);
    req.account.deleted.set(id, 'product');
    emitEvent(req.account, { type: 'product.deleted', object: product });
    return { id, object: 'product', deleted: true };
  });

  router.get('/v1/products', (req) => {
    const active = optBool(req.query, 'active');
    const ids = optStringArray(req.query, 'ids');
    const shippable = optBool(req.query, 'shippable');
    const url = optNonEmpty(req.query, 'url');
    return paginate(req.account.products.values(), req.query, '/v1/products', {
      filter: (p) =>
        (active === undefined || p.active === active) &&
        (ids === undefined || ids.includes(p.id)) &&
        (shippable === undefined || p.shippable === shippable) &&
        (url === undefined || p.url === url),
    });
  });
}
