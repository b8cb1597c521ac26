import type { ResourceModule } from '../core/context.js';
import * as customers from './customers.js';
import * as events from './events.js';
import * as webhookEndpoints from './webhook-endpoints.js';

/**
 * Every resource module, in registration order. To add one: create `resources/<name>.ts` exporting
 * `register(router, ctx)` and add a line here (see CORE.md).
 */
export const resourceModules: readonly ResourceModule[] = [
  // CORE: payment side
  customers,
  events,
  webhookEndpoints,
  // BILLING: add subscriptions, subscription items, invoices, invoice items, checkout, portal, test clocks below
];
