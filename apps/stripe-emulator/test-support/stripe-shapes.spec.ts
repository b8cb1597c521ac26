import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import {
  OPENAPI_2024_COMPONENTS,
  STRIPE_OBJECT_NAMES,
  expectOpenApi2024Shape,
  expectStripeListShape,
  expectStripeShape,
  isOpenApi2024SpecAvailable,
  openApi2024SpecPath,
  openApiToJsonSchema,
  sharedStripeDir,
  stripeSchemaIndex,
  validateOpenApi2024Shape,
  validateStripeListShape,
  validateStripeShape,
  type OpenApi2024ComponentName,
  type StripeObjectName,
} from './stripe-shapes.js';

// Stripe's example objects (`{ resources: { name: object } }`), from the shared folder beside the repository.
// No conditional skip: in a normal checkout (and in CI) shared/ is there, and a missing file must fail here.
type Json = Record<string, unknown>;
const fixtures = (
  JSON.parse(fs.readFileSync(path.join(sharedStripeDir(), 'fixtures3.json'), 'utf8')) as {
    resources: Record<string, Json>;
  }
).resources;

function fixture(name: string): Json {
  const f = fixtures[name];
  if (!f) throw new Error(`no fixture ${name}`);
  return structuredClone(f);
}

const customer = (): Json => fixture('customer');
const subscription = (): Json => fixture('subscription');

describe('generated schemas', () => {
  it('describe the installed stripe package and its pinned API version', () => {
    const index = stripeSchemaIndex();
    const pkg = JSON.parse(fs.readFileSync('node_modules/stripe/package.json', 'utf8')) as {
      version: string;
    };
    expect(index.stripe).toBe(pkg.version);
    expect(index.apiVersion).toBe(Stripe.API_VERSION);
    expect(Object.keys(index.objects).sort()).toEqual([...STRIPE_OBJECT_NAMES].sort());
  });

  it('are what the generator makes from the installed SDK (run `npm run stripe:schemas` after an upgrade)', () => {
    // --check regenerates into a temp folder and exits 1 (execFileSync throws) when a committed file differs.
    const out = execFileSync(process.execPath, ['scripts/stripe-schemas/generate.mjs', '--check'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toBe('');
  }, 120_000);

  it('stay a few MB in total', () => {
    const dir = 'apps/stripe-emulator/schemas';
    const total = fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
    expect(total).toBeLessThan(3 * 1024 * 1024);
  });
});

describe('expectStripeShape accepts Stripe example objects whose shape matches the pinned version', () => {
  const matching: Array<[string, StripeObjectName]> = [
    ['customer', 'Customer'],
    ['deleted_customer', 'DeletedCustomer'],
    ['payment_method', 'PaymentMethod'],
    ['refund', 'Refund'],
    ['deleted_product', 'DeletedProduct'],
    ['price', 'Price'],
    ['invoiceitem', 'InvoiceItem'],
    ['line_item', 'InvoiceLineItem'],
    ['invoice_payment', 'InvoicePayment'],
    ['event', 'Event'],
    ['webhook_endpoint', 'WebhookEndpoint'],
    ['test_helpers.test_clock', 'TestHelpers.TestClock'],
    ['customer_balance_transaction', 'CustomerBalanceTransaction'],
  ];
  it.each(matching)('%s as %s', (name, objectName) => {
    expect(validateStripeShape(objectName, fixture(name))).toEqual([]);
    expect(() => expectStripeShape(objectName, fixture(name))).not.toThrow();
  });
});

describe('Stripe example objects older than the pinned version are rejected for exactly what changed', () => {
  // The fixtures predate 2026-10-28.endive: these are the differences, each listed so that the note stays true.
  // `transfer_data.destination` in the fixtures is a stub `{ id, object: 'account' }`, not a real Account.
  const stubDestination = [
    "$.transfer_data.destination: missing required property 'charges_enabled'",
    "$.transfer_data.destination: missing required property 'details_submitted'",
    "$.transfer_data.destination: missing required property 'email'",
    "$.transfer_data.destination: missing required property 'payouts_enabled'",
    "$.transfer_data.destination: missing required property 'type'",
  ];
  const older: Array<[string, StripeObjectName, string[]]> = [
    ['setup_intent', 'SetupIntent', ["$: missing required property 'allowed_payment_method_types'"]],
    [
      'payment_intent',
      'PaymentIntent',
      [
        "$: missing required property 'allowed_payment_method_types'",
        "$: missing required property 'payment_record'",
        ...stubDestination,
      ],
    ],
    [
      'charge',
      'Charge',
      [
        "$.payment_method_details.card: missing required property 'electronic_commerce_indicator'",
        ...stubDestination,
      ],
    ],
    ['product', 'Product', ["$: missing required property 'tax_details'"]],
    [
      'subscription',
      'Subscription',
      [
        "$.cancellation_details: missing required property 'feedback_option'",
        "$.items.data[0]: missing required property 'current_trial'",
        "$.pending_update: missing required property 'cancel_at_period_end'",
        ...stubDestination,
        "$.trial_settings.end_behavior: missing required property 'billing_cycle_anchor'",
      ],
    ],
    ['subscription_item', 'SubscriptionItem', ["$: missing required property 'current_trial'"]],
    // Since 2025-03-31 an invoice's subscription is at parent.subscription_details.subscription.
    ['invoice', 'Invoice', ["$: unknown property 'subscription'"]],
    ['checkout.session', 'Checkout.Session', ["$: missing required property 'allowed_payment_method_types'"]],
    [
      'billing_portal.session',
      'BillingPortal.Session',
      [
        "$.flow: missing required property 'customer_update'",
        "$.flow: missing required property 'subscription_pause'",
      ],
    ],
  ];
  it.each(older)('%s as %s', (name, objectName, expected) => {
    expect(validateStripeShape(objectName, fixture(name))).toEqual(expected);
  });

  it('an old fixture brought up to the pinned version passes', () => {
    const item = fixture('subscription_item');
    item['current_trial'] = null;
    expectStripeShape('SubscriptionItem', item);
    const invoice = fixture('invoice');
    delete invoice['subscription'];
    expectStripeShape('Invoice', invoice);
  });
});

describe('expectStripeShape rejects', () => {
  it('a missing required field, naming it', () => {
    const c = customer();
    delete c['email'];
    expect(validateStripeShape('Customer', c)).toEqual(["$: missing required property 'email'"]);
    expect(() => expectStripeShape('Customer', c)).toThrow(/missing required property 'email'/);
  });

  it('a wrong type, with its JSON path', () => {
    const c = customer();
    c['balance'] = '100';
    (c['invoice_settings'] as Json)['custom_fields'] = 'none';
    expect(validateStripeShape('Customer', c)).toEqual([
      '$.balance: must be integer',
      '$.invoice_settings.custom_fields: must be array or null',
    ]);
  });

  it('a float where Stripe has an integer amount or timestamp', () => {
    const price = fixture('price');
    price['unit_amount'] = 19.99;
    price['created'] = 1700000000.5;
    expect(validateStripeShape('Price', price)).toEqual([
      '$.created: must be integer',
      '$.unit_amount: must be integer or null',
    ]);
  });

  it('an unknown value of a closed enum (the object constant, the event type), but any string in an open one', () => {
    const c = customer();
    c['object'] = 'cus';
    expect(validateStripeShape('Customer', c)).toEqual(['$.object: must be "customer"']);

    const event = fixture('event');
    event['type'] = 'customer.teleported';
    expect(validateStripeShape('Event', event)).toEqual([
      expect.stringMatching(/^\$\.type: must be one of \[/),
    ]);

    // Subscription.Status is `'active' | ... | OtherString` in the SDK: open.
    const sub = subscription();
    sub['status'] = 'some_status_from_the_future';
    const subViolations = validateStripeShape('Subscription', sub);
    expect(subViolations.some((v) => v.startsWith('$.status'))).toBe(false);
    sub['status'] = 42;
    expect(validateStripeShape('Subscription', sub)).toContain('$.status: must be string');
  });

  it('every violation at once, in the thrown message', () => {
    const c = customer();
    delete c['livemode'];
    c['email'] = 7;
    c['created'] = 'yesterday';
    let message = '';
    try {
      expectStripeShape('Customer', c);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`Stripe Customer (stripe@${stripeSchemaIndex().stripe}`);
    expect(message).toContain(`${String(c['id'])} does not match (3 violations)`);
    expect(message).toContain("$: missing required property 'livemode'");
    expect(message).toContain('$.email: must be string or null');
    expect(message).toContain('$.created: must be integer');
  });

  it('a property the SDK does not declare, unless allowUnknownProperties', () => {
    // basil moved current_period_end from the subscription to its items.
    const sub = subscription();
    const items = (sub['items'] as { data: Json[] }).data;
    for (const item of items) item['current_trial'] = null;
    sub['cancellation_details'] = null;
    sub['pending_update'] = null;
    sub['transfer_data'] = null;
    sub['trial_settings'] = null;
    expectStripeShape('Subscription', sub);
    sub['current_period_end'] = 1700000000;
    expect(validateStripeShape('Subscription', sub)).toEqual(["$: unknown property 'current_period_end'"]);
    expect(validateStripeShape('Subscription', sub, { allowUnknownProperties: true })).toEqual([]);
  });

  it('`deleted` on a live object, and a deleted object without `deleted: true`', () => {
    const c = customer();
    c['deleted'] = true;
    expect(validateStripeShape('Customer', c)).toEqual(['$.deleted: must be absent']);
    const gone = fixture('deleted_customer');
    gone['deleted'] = false;
    expect(validateStripeShape('DeletedCustomer', gone)).toEqual(['$.deleted: must be true']);
  });

  it('undefined', () => {
    expect(validateStripeShape('Customer', undefined)).toEqual(['$: value is undefined']);
  });
});

describe('expandable and nullable fields', () => {
  it('an expandable field takes the id or the expanded object, and checks the expanded object', () => {
    const sub = fixture('subscription_item');
    sub['current_trial'] = null;
    const invoice = fixture('invoice');
    delete invoice['subscription'];
    invoice['customer'] = 'cus_123';
    expect(validateStripeShape('Invoice', invoice)).toEqual([]);
    invoice['customer'] = customer();
    expect(validateStripeShape('Invoice', invoice)).toEqual([]);
    const broken = customer();
    delete broken['invoice_settings'];
    invoice['customer'] = broken;
    expect(validateStripeShape('Invoice', invoice)).toEqual([
      "$.customer: missing required property 'invoice_settings'",
    ]);
    invoice['customer'] = 42;
    expect(validateStripeShape('Invoice', invoice)).toEqual([
      expect.stringMatching(/^\$\.customer: must be (?=.*string)(?=.*object)/),
    ]);
  });

  it('null only where the SDK says `| null`', () => {
    const c = customer();
    c['email'] = null;
    c['test_clock'] = null;
    expect(validateStripeShape('Customer', c)).toEqual([]);
    c['balance'] = null;
    c['metadata'] = null;
    expect(validateStripeShape('Customer', c)).toEqual([
      '$.balance: must be integer',
      '$.metadata: must be object',
    ]);
  });

  it('a `*_decimal` field is a string on the wire, or the SDK Decimal that stands for it', () => {
    const price = fixture('price');
    price['unit_amount_decimal'] = '1999.5';
    expect(validateStripeShape('Price', price)).toEqual([]);
    price['unit_amount_decimal'] = Stripe.Decimal.from('1999.5');
    expect(validateStripeShape('Price', price)).toEqual([]);
    price['unit_amount_decimal'] = 1999.5;
    expect(validateStripeShape('Price', price)).toEqual(['$.unit_amount_decimal: must be string or null']);
    price['unit_amount_decimal'] = 'abc';
    expect(validateStripeShape('Price', price)).toEqual([
      expect.stringMatching(/^\$\.unit_amount_decimal: must match pattern/),
    ]);
  });
});

describe('events and lists', () => {
  const event = (type: string, object: Json): Json => ({ ...fixture('event'), type, data: { object } });

  it("an event's data.object must be the object its type says", () => {
    expectStripeShape('Event', event('customer.created', customer()));
    const broken = customer();
    delete broken['created'];
    expect(validateStripeShape('Event', event('customer.created', broken))).toEqual([
      "$.data.object: missing required property 'created'",
    ]);
    expect(validateStripeShape('Event', event('invoice.paid', customer()))).not.toEqual([]);
  });

  it('a list envelope and every item', () => {
    const list = { object: 'list', url: '/v1/customers', has_more: false, data: [customer(), customer()] };
    expectStripeListShape('Customer', list);
    expectStripeShape('List', list);
    const bad = customer();
    delete bad['id'];
    list.data[1] = bad;
    expect(validateStripeListShape('Customer', list)).toEqual(["$.data[1]: missing required property 'id'"]);
    expect(() => expectStripeListShape('Customer', { object: 'list', data: [] })).toThrow(
      /missing required property 'has_more'[\s\S]*missing required property 'url'/,
    );
  });
});

describe('expectOpenApi2024Shape (the 2024-04-10 OpenAPI spec beside the repository)', () => {
  it('finds the spec in ../shared/stripe (a normal checkout has it: its absence must fail here)', () => {
    expect(openApi2024SpecPath()).toMatch(/shared[\\/]stripe[\\/]spec3\.2024-04-10\.json$/);
    expect(isOpenApi2024SpecAvailable()).toBe(true);
  });

  // The customer fixture's `discount` has the newer shape (`source.coupon` instead of `coupon`).
  const matching = OPENAPI_2024_COMPONENTS.filter((c) => c !== 'customer');
  it.each(matching)('accepts the %s fixture', (component) => {
    expectOpenApi2024Shape(component, fixture(component));
  });

  it('accepts the customer fixture without its newer-shaped discount, and says what differs with it', () => {
    const c = customer();
    expect(validateOpenApi2024Shape('customer', c)).toEqual([
      "$.discount: missing required property 'coupon'",
    ]);
    c['discount'] = null;
    expectOpenApi2024Shape('customer', c);
  });

  it('rejects a missing required field, a wrong type, and null where the spec has no `nullable`', () => {
    const product = fixture('product');
    delete product['name'];
    product['active'] = 'yes';
    product['description'] = null;
    product['created'] = null;
    expect(validateOpenApi2024Shape('product', product)).toEqual([
      "$: missing required property 'name'",
      '$.active: must be boolean',
      '$.created: must be integer',
    ]);
    expect(() => expectOpenApi2024Shape('product', product)).toThrow(/OpenAPI spec 2024-04-10/);
  });

  it('resolves $refs and takes an expandable field as the id or the expanded object', () => {
    const product = fixture('product');
    product['default_price'] = 'price_123';
    expect(validateOpenApi2024Shape('product', product)).toEqual([]);
    product['default_price'] = fixture('price');
    expect(validateOpenApi2024Shape('product', product)).toEqual([]);
    const price = fixture('price');
    price['currency'] = 5;
    product['default_price'] = price;
    expect(validateOpenApi2024Shape('product', product)).toEqual([
      '$.default_price.currency: must be string',
    ]);
  });

  it('throws for a component outside the unchanged-since-2024 list', () => {
    expect(() => validateOpenApi2024Shape('invoice' as OpenApi2024ComponentName, {})).toThrow(/not one of/);
  });
});

describe('openApiToJsonSchema', () => {
  it('turns `nullable` into a null alternative, with or without a type', () => {
    expect(openApiToJsonSchema({ type: 'string', nullable: true, maxLength: 5000 })).toEqual({
      type: ['string', 'null'],
      maxLength: 5000,
    });
    expect(openApiToJsonSchema({ type: 'string', enum: ['a', 'b'], nullable: true })).toEqual({
      type: ['string', 'null'],
      enum: ['a', 'b', null],
    });
    expect(
      openApiToJsonSchema({
        anyOf: [{ $ref: '#/components/schemas/address' }],
        nullable: true,
        description: 'd',
      }),
    ).toEqual({
      description: 'd',
      anyOf: [{ anyOf: [{ $ref: '#/definitions/address' }] }, { type: 'null' }],
    });
  });

  it('adds the x-expansionResources to the alternatives of an expandable field', () => {
    expect(
      openApiToJsonSchema({
        anyOf: [{ type: 'string', maxLength: 5000 }],
        'x-expansionResources': { oneOf: [{ $ref: '#/components/schemas/customer' }] },
      }),
    ).toEqual({ anyOf: [{ type: 'string', maxLength: 5000 }, { $ref: '#/definitions/customer' }] });
    expect(
      openApiToJsonSchema({
        type: 'string',
        maxLength: 5000,
        'x-expansionResources': { oneOf: [{ $ref: '#/components/schemas/price' }] },
      }),
    ).toEqual({ anyOf: [{ type: 'string', maxLength: 5000 }, { $ref: '#/definitions/price' }] });
  });

  it('opens an enum that Stripe marks x-stripeBypassValidation and drops other extensions', () => {
    expect(
      openApiToJsonSchema({ type: 'string', enum: ['a'], 'x-stripeBypassValidation': true, 'x-foo': 1 }),
    ).toEqual({
      type: 'string',
    });
  });
});
