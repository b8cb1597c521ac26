import { Foundation1763780000000 } from './1763780000000-foundation.js';
import { WebhookInbox1763810000000 } from './1763810000000-webhook-inbox.js';
import { AccountStripeCustomer1763810001000 } from './1763810001000-account-stripe-customer.js';
import { StripeMirrors1763820000000 } from './1763820000000-stripe-mirrors.js';
import { NotificationsReceipts1763850000000 } from './1763850000000-notifications-receipts.js';
import { IntegrationEvents1763850001000 } from './1763850001000-integration-events.js';
import { NotificationOptOuts1763860000000 } from './1763860000000-notification-opt-outs.js';
import { NotificationSendLease1763870000000 } from './1763870000000-notification-send-lease.js';
import { RefundNote1763880000000 } from './1763880000000-refund-note.js';
import { ReceiptMerchant1763890700000 } from './1763890700000-receipt-merchant.js';
import { AccountBillingEmailIndex1763891000000 } from './1763891000000-account-billing-email-index.js';
import { NotificationFailedIndex1763900000000 } from './1763900000000-notification-failed-index.js';
import { InvoiceReceipts1763910000000 } from './1763910000000-invoice-receipts.js';
import { SubscriptionMachine1764000000000 } from './1764000000000-subscription-machine.js';
import { CatalogPrices1764010000000 } from './1764010000000-catalog-prices.js';
import { IdempotencyResource1764100000000 } from './1764100000000-idempotency-resource.js';
import { WebhookRawBody1764100001000 } from './1764100001000-webhook-raw-body.js';
import { SubscriptionCheckouts1764200000000 } from './1764200000000-subscription-checkouts.js';
import { BillingSettings1764300000000 } from './1764300000000-billing-settings.js';
import { SubscriptionQuotes1764400000000 } from './1764400000000-subscription-quotes.js';
import { OwnershipTransfers1764410000000 } from './1764410000000-ownership-transfers.js';
import { Dunning1764420000000 } from './1764420000000-dunning.js';
import { Reconciliation1764440000000 } from './1764440000000-reconciliation.js';
import { PlanQuoteCycleAndWithdrawal1764500000000 } from './1764500000000-plan-quote-cycle-and-withdrawal.js';
import { SubscriptionAppChangeMarker1764500001000 } from './1764500001000-subscription-app-change-marker.js';
import { PlanQuoteCycleRestart1764551800000 } from './1764551800000-plan-quote-cycle-restart.js';
import { SubscriptionTestClock1764510000000 } from './1764510000000-subscription-test-clock.js';
import { ReconciliationFeesAndResume1764520000000 } from './1764520000000-reconciliation-fees-and-resume.js';
import { WebhookBatchJob1764540000000 } from './1764540000000-webhook-batch-job.js';
import { WebhookOpenObject1764540001000 } from './1764540001000-webhook-open-object.js';
import { WebhookOpenCustomer1764550000000 } from './1764550000000-webhook-open-customer.js';
import { WebhookSweepIndexes1764560000000 } from './1764560000000-webhook-sweep-indexes.js';

/**
 * Every migration, in order. Listed explicitly (not globbed) so that the compiled app, the CLI and the
 * test setup run exactly the same set (R-ARCH-5).
 */
export const MIGRATIONS = [
  Foundation1763780000000,
  WebhookInbox1763810000000,
  AccountStripeCustomer1763810001000,
  StripeMirrors1763820000000,
  NotificationsReceipts1763850000000,
  IntegrationEvents1763850001000,
  NotificationOptOuts1763860000000,
  NotificationSendLease1763870000000,
  RefundNote1763880000000,
  ReceiptMerchant1763890700000,
  AccountBillingEmailIndex1763891000000,
  NotificationFailedIndex1763900000000,
  InvoiceReceipts1763910000000,
  SubscriptionMachine1764000000000,
  CatalogPrices1764010000000,
  IdempotencyResource1764100000000,
  WebhookRawBody1764100001000,
  SubscriptionCheckouts1764200000000,
  BillingSettings1764300000000,
  SubscriptionQuotes1764400000000,
  OwnershipTransfers1764410000000,
  Dunning1764420000000,
  Reconciliation1764440000000,
  PlanQuoteCycleAndWithdrawal1764500000000,
  SubscriptionAppChangeMarker1764500001000,
  SubscriptionTestClock1764510000000,
  ReconciliationFeesAndResume1764520000000,
  WebhookBatchJob1764540000000,
  WebhookOpenObject1764540001000,
  WebhookOpenCustomer1764550000000,
  PlanQuoteCycleRestart1764551800000,
  WebhookSweepIndexes1764560000000,
];
