/**
 * Builders for the billing objects in the exact shape of the pinned API version. Each builder is typed
 * with the SDK's own declaration, so the compiler checks that every non-optional field is present.
 */
import type Stripe from 'stripe';
import { newId } from '../../core/ids.js';

/** The SDK brands decimal strings; on the wire they are plain strings. */
export type DecimalString = NonNullable<Stripe.Price['unit_amount_decimal']>;
export function decimal(value: string): DecimalString {
  return value as unknown as DecimalString;
}

export function planFromPrice(price: Stripe.Price): Stripe.Plan {
  const recurring = price.recurring;
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: recurring?.interval ?? 'month',
    interval_count: recurring?.interval_count ?? 1,
    livemode: false,
    metadata: price.metadata,
    meter: recurring?.meter ?? null,
    nickname: price.nickname,
    product: typeof price.product === 'string' ? price.product : price.product.id,
    tiers_mode: price.tiers_mode,
    transform_usage: null,
    trial_period_days: recurring?.trial_period_days ?? null,
    usage_type: recurring?.usage_type ?? 'licensed',
  };
}

export function productIdOf(price: Stripe.Price): string {
  return typeof price.product === 'string' ? price.product : price.product.id;
}

export interface SubscriptionItemInput {
  subscription: string;
  price: Stripe.Price;
  quantity: number;
  metadata: Stripe.Metadata;
  created: number;
  periodStart: number;
  periodEnd: number;
}

export function buildSubscriptionItem(input: SubscriptionItemInput): Stripe.SubscriptionItem {
  return {
    id: newId('si'),
    object: 'subscription_item',
    billing_thresholds: null,
    created: input.created,
    current_period_end: input.periodEnd,
    current_period_start: input.periodStart,
    current_trial: null,
    discounts: [],
    metadata: input.metadata,
    plan: planFromPrice(input.price),
    price: input.price,
    quantity: input.quantity,
    subscription: input.subscription,
    tax_rates: [],
  };
}

export interface SubscriptionInput {
  id: string;
  customer: string;
  currency: string;
  created: number;
  startDate: number;
  billingCycleAnchor: number;
  status: Stripe.Subscription.Status;
  items: Stripe.SubscriptionItem[];
  defaultPaymentMethod: string | null;
  metadata: Stripe.Metadata;
  description: string | null;
  trialStart: number | null;
  trialEnd: number | null;
  missingPaymentMethod: Stripe.Subscription.TrialSettings.EndBehavior.MissingPaymentMethod;
  testClock: string | null;
  collectionMethod: 'charge_automatically' | 'send_invoice';
  daysUntilDue: number | null;
  /** `flexible` by default at this API version. */
  billingMode?: 'classic' | 'flexible';
  saveDefaultPaymentMethod?: 'off' | 'on_subscription';
}

export function buildSubscription(input: SubscriptionInput): Stripe.Subscription {
  return {
    id: input.id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: input.billingCycleAnchor,
    billing_cycle_anchor_config: null,
    billing_mode:
      input.billingMode === 'classic'
        ? { flexible: null, type: 'classic' }
        : { flexible: { proration_discounts: 'included' }, type: 'flexible', updated_at: input.created },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: input.collectionMethod,
    created: input.created,
    currency: input.currency,
    customer: input.customer,
    customer_account: null,
    days_until_due: input.daysUntilDue,
    default_payment_method: input.defaultPaymentMethod,
    default_source: null,
    default_tax_rates: [],
    description: input.description,
    discounts: [],
    ended_at: null,
    invoice_settings: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: { type: 'self' },
    },
    items: {
      object: 'list',
      data: input.items,
      has_more: false,
      url: `/v1/subscription_items?subscription=${input.id}`,
    },
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: input.saveDefaultPaymentMethod ?? 'off',
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: input.startDate,
    status: input.status,
    test_clock: input.testClock,
    transfer_data: null,
    trial_end: input.trialEnd,
    trial_settings: {
      end_behavior: { billing_cycle_anchor: null, missing_payment_method: input.missingPaymentMethod },
    },
    trial_start: input.trialStart,
  };
}

export interface InvoiceInput {
  id: string;
  customer: Stripe.Customer;
  currency: string;
  created: number;
  billingReason: Stripe.Invoice.BillingReason;
  subscription: Stripe.Subscription | null;
  periodStart: number;
  periodEnd: number;
  autoAdvance: boolean;
  collectionMethod: 'charge_automatically' | 'send_invoice';
  description: string | null;
  metadata: Stripe.Metadata;
  defaultPaymentMethod: string | null;
  testClock: string | null;
  dueDate: number | null;
}

export function buildInvoice(input: InvoiceInput): Stripe.Invoice {
  const c = input.customer;
  return {
    id: input.id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Stripe Emulator',
    account_tax_ids: null,
    amount_due: 0,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: 0,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: input.autoAdvance,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: input.billingReason,
    collection_method: input.collectionMethod,
    created: input.created,
    currency: input.currency,
    custom_fields: null,
    customer: c.id,
    customer_account: null,
    customer_address: c.address ?? null,
    customer_email: c.email ?? null,
    customer_name: c.name ?? null,
    customer_phone: c.phone ?? null,
    customer_shipping: null,
    customer_tax_exempt: c.tax_exempt ?? 'none',
    customer_tax_ids: [],
    default_payment_method: input.defaultPaymentMethod,
    default_source: null,
    default_tax_rates: [],
    description: input.description,
    discounts: [],
    due_date: input.dueDate,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: [], has_more: false, url: `/v1/invoices/${input.id}/lines` },
    livemode: false,
    metadata: input.metadata,
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: input.subscription
      ? {
          quote_details: null,
          subscription_details: {
            metadata: input.subscription.metadata,
            subscription: input.subscription.id,
          },
          type: 'subscription_details',
        }
      : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    payments: { object: 'list', data: [], has_more: false, url: `/v1/invoice_payments?invoice=${input.id}` },
    period_end: input.periodEnd,
    period_start: input.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: 0,
    subtotal_excluding_tax: 0,
    test_clock: input.testClock,
    total: 0,
    total_discount_amounts: [],
    total_excluding_tax: 0,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  };
}

export interface LineInput {
  invoice: string | null;
  currency: string;
  amount: number;
  description: string;
  periodStart: number;
  periodEnd: number;
  price: Stripe.Price | null;
  quantity: number | null;
  subscription: string | null;
  subscriptionItem: string | null;
  invoiceItem: string | null;
  proration: boolean;
  metadata: Stripe.Metadata;
}

export function buildLineItem(input: LineInput): Stripe.InvoiceLineItem {
  const parent: Stripe.InvoiceLineItem.Parent = input.subscriptionItem
    ? {
        invoice_item_details: null,
        subscription_item_details: {
          invoice_item: input.invoiceItem,
          proration: input.proration,
          proration_details: { credited_items: null },
          subscription: input.subscription,
          subscription_item: input.subscriptionItem,
        },
        type: 'subscription_item_details',
      }
    : {
        invoice_item_details: {
          invoice_item: input.invoiceItem ?? '',
          proration: input.proration,
          proration_details: { credited_items: null },
          subscription: input.subscription,
        },
        subscription_item_details: null,
        type: 'invoice_item_details',
      };
  return {
    id: newId('il'),
    object: 'line_item',
    amount: input.amount,
    currency: input.currency,
    description: input.description,
    discount_amounts: [],
    discountable: !input.proration,
    discounts: [],
    invoice: input.invoice,
    livemode: false,
    metadata: input.metadata,
    parent,
    period: { start: input.periodStart, end: input.periodEnd },
    pretax_credit_amounts: [],
    pricing: input.price
      ? {
          price_details: { price: input.price.id, product: productIdOf(input.price) },
          type: 'price_details',
          unit_amount_decimal: input.price.unit_amount_decimal,
        }
      : null,
    quantity: input.quantity,
    quantity_decimal: input.quantity === null ? null : decimal(String(input.quantity)),
    subscription: input.subscription,
    subtotal: input.amount,
    taxes: [],
  };
}

export interface InvoiceItemInput {
  customer: string;
  currency: string;
  amount: number;
  date: number;
  description: string | null;
  invoice: string | null;
  metadata: Stripe.Metadata;
  periodStart: number;
  periodEnd: number;
  price: Stripe.Price | null;
  unitAmountDecimal: DecimalString | null;
  quantity: number;
  proration: boolean;
  subscription: string | null;
  subscriptionItem: string | null;
  testClock: string | null;
}

export function buildInvoiceItem(input: InvoiceItemInput): Stripe.InvoiceItem {
  return {
    id: newId('ii'),
    object: 'invoiceitem',
    amount: input.amount,
    currency: input.currency,
    customer: input.customer,
    customer_account: null,
    date: input.date,
    description: input.description,
    discountable: !input.proration,
    discounts: [],
    invoice: input.invoice,
    livemode: false,
    metadata: input.metadata,
    net_amount: input.amount,
    parent: input.subscription
      ? {
          subscription_details: input.subscriptionItem
            ? { subscription: input.subscription, subscription_item: input.subscriptionItem }
            : { subscription: input.subscription },
          type: 'subscription_details',
        }
      : null,
    period: { start: input.periodStart, end: input.periodEnd },
    pricing: {
      price_details: input.price ? { price: input.price.id, product: productIdOf(input.price) } : undefined,
      type: 'price_details',
      unit_amount_decimal: input.unitAmountDecimal,
    },
    proration: input.proration,
    proration_details: { credited_items: null, discount_amounts: [] },
    quantity: input.quantity,
    quantity_decimal: decimal(String(input.quantity)),
    tax_rates: [],
    test_clock: input.testClock,
  };
}

export function buildInvoicePayment(
  invoice: Stripe.Invoice,
  paymentIntentId: string,
  amountRequested: number,
  created: number,
): Stripe.InvoicePayment {
  return {
    id: newId('inpay'),
    object: 'invoice_payment',
    amount_paid: null,
    amount_requested: amountRequested,
    created,
    currency: invoice.currency,
    invoice: invoice.id,
    is_default: true,
    livemode: false,
    payment: { payment_intent: paymentIntentId, type: 'payment_intent' },
    status: 'open',
    status_transitions: { canceled_at: null, paid_at: null },
  };
}
