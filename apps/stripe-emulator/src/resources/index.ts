import type { ResourceModule } from '../core/context.js';
import * as balanceTransactions from './balance-transactions.js';
import * as charges from './charges.js';
import * as customers from './customers.js';
import * as events from './events.js';
import * as paymentIntents from './payment-intents.js';
import * as paymentMethods from './payment-methods.js';
import * as prices from './prices.js';
import * as products from './products.js';
import * as refunds from './refunds.js';
import * as setupIntents from './setup-intents.js';
import * as tokens from './tokens.js';
import * as webhookEndpoints from './webhook-endpoints.js';
// BILLING
import * as billingPortal from './billing-portal.js';
import * as checkoutSessions from './checkout-sessions.js';
import * as invoiceItems from './invoice-items.js';
import * as invoices from './invoices.js';
import * as subscriptionItems from './subscription-items.js';
import * as subscriptions from './subscriptions.js';
import * as testClocks from './test-clocks.js';

/**
 * Every resource module, in registration order. To add one: create `resources/<name>.ts` exporting
 * `register(router, ctx)` and add a line here (see CORE.md).
 */
export const resourceModules: readonly ResourceModule[] = [
  // CORE: payment side
  customers,
  paymentMethods,
  tokens,
  setupIntents,
  paymentIntents,
  charges,
  refunds,
  balanceTransactions,
  products,
  prices,
  events,
  webhookEndpoints,
  // BILLING: add subscriptions, subscription items, invoices, invoice items, checkout, portal, test clocks below
  subscriptions,
  subscriptionItems,
  invoices,
  invoiceItems,
  testClocks,
  checkoutSessions,
  billingPortal,
];
