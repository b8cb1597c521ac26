// The vendored subset of Stripe's OpenAPI spec (refresh.mjs beside this file) is complete for what reads it:
// every $ref resolves inside it, the checked components are there, and it covers every resource the
// emulator routes. When this fails after a new resource, run refresh.mjs (see its --help).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  OPENAPI_2024_COMPONENTS,
  STRIPE_OBJECT_NAMES,
  stripeFixtures,
  type StripeObjectName,
} from '../test-support/stripe-shapes.js';

const here = import.meta.dirname;
type Json = Record<string, unknown>;
const spec = JSON.parse(fs.readFileSync(path.join(here, 'spec3.subset.json'), 'utf8')) as {
  info: { version: string };
  'x-subset': { resources: string[]; checkedComponents: string[] };
  paths: Record<string, Json>;
  components: { schemas: Record<string, Json> };
};

function refs(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const n of node) refs(n, out);
  else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.add(v);
      else refs(v, out);
    }
  }
  return out;
}

/** `customers`, `checkout/sessions`, ...: what the emulator's resource modules route under /v1. */
function emulatorResources(): string[] {
  const dir = path.resolve(here, '..', 'src', 'resources');
  const found = new Set<string>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const m of text.matchAll(/router\.(?:get|post|delete)\(\s*'\/v1\/([^']+)'/g)) {
      const segments = (m[1] as string).split('/');
      const two = ['checkout', 'billing_portal', 'test_helpers'].includes(segments[0] as string);
      found.add(segments.slice(0, two ? 2 : 1).join('/'));
    }
  }
  return [...found].sort();
}

describe('the vendored Stripe OpenAPI subset', () => {
  it('is the 2024-04-10 spec the shape checks are written for, with its licence', () => {
    expect(spec.info.version).toBe('2024-04-10');
    expect(fs.readFileSync(path.join(here, 'LICENSE'), 'utf8')).toMatch(/MIT License[\s\S]*Stripe, Inc\./);
  });

  it('resolves every $ref inside itself', () => {
    const dangling = [...refs(spec)].filter((r) => {
      const m = /^#\/components\/schemas\/(.+)$/.exec(r);
      return !m || !spec.components.schemas[m[1] as string];
    });
    expect(dangling).toEqual([]);
  });

  it('holds the components the 2024 shape checks validate against', () => {
    expect([...spec['x-subset'].checkedComponents].sort()).toEqual([...OPENAPI_2024_COMPONENTS].sort());
    for (const c of OPENAPI_2024_COMPONENTS) expect(spec.components.schemas[c]).toBeDefined();
  });

  it('covers every resource the emulator routes (else run refresh.mjs)', () => {
    const resources = emulatorResources();
    expect(resources).toContain('customers');
    expect(resources).toContain('checkout/sessions');
    expect(spec['x-subset'].resources).toEqual(resources);
    // and only those: nothing under a resource the emulator does not serve
    const stray = Object.keys(spec.paths).filter(
      (p) => !resources.some((r) => p === `/v1/${r}` || p.startsWith(`/v1/${r}/`)),
    );
    expect(stray).toEqual([]);
    expect(spec.paths['/v1/customers/{customer}']).toHaveProperty('get');
  });

  it("holds Stripe's example object of every type the emulator returns", () => {
    // the `object` value of each type (a deleted customer or product is a `customer` or `product`)
    const objectOf: Record<Exclude<StripeObjectName, 'List'>, string> = {
      Customer: 'customer',
      DeletedCustomer: 'customer',
      PaymentMethod: 'payment_method',
      SetupIntent: 'setup_intent',
      PaymentIntent: 'payment_intent',
      Charge: 'charge',
      Refund: 'refund',
      Product: 'product',
      DeletedProduct: 'product',
      Price: 'price',
      Subscription: 'subscription',
      SubscriptionItem: 'subscription_item',
      Invoice: 'invoice',
      InvoiceItem: 'invoiceitem',
      InvoiceLineItem: 'line_item',
      InvoicePayment: 'invoice_payment',
      'Checkout.Session': 'checkout.session',
      'BillingPortal.Session': 'billing_portal.session',
      Event: 'event',
      WebhookEndpoint: 'webhook_endpoint',
      'TestHelpers.TestClock': 'test_helpers.test_clock',
      CustomerBalanceTransaction: 'customer_balance_transaction',
    };
    expect(Object.keys(objectOf).sort()).toEqual(STRIPE_OBJECT_NAMES.filter((n) => n !== 'List').sort());
    const present = new Set(Object.values(stripeFixtures()).map((f) => f['object']));
    const missing = Object.values(objectOf).filter((o) => !present.has(o));
    expect(missing).toEqual([]);
  });
});
