import { DEFAULT_DUNNING_POLICY, dunningPolicyFromJson, type DunningPolicy } from '@billing/domain';
import {
  type AppRole,
  DEV_UNSUBSCRIBE_SECRET,
  EMULATOR_API_BASE,
  type EnvironmentVariables,
  isEmulatorKey,
} from './environment.js';
import { DEFAULT_PDF_FONT_PATH } from '../pdf/pdf-font.js';

/**
 * The validated configuration as typed, grouped values. Inject `AppConfig` rather than reading
 * process.env: it is the only place that knows variable names.
 */
export class AppConfig {
  readonly env: EnvironmentVariables['NODE_ENV'];
  readonly role: AppRole;
  readonly http: {
    port: number;
    host: string;
    trustProxy: boolean;
    corsOrigins: string[];
    swaggerEnabled: boolean;
    /** The service's public URL without a trailing slash (links in e-mails). */
    publicBaseUrl: string;
  };
  readonly database: { url: string; poolSize: number; migrate: boolean; preparedStatements: boolean };
  readonly redis: { url: string; queuePrefix: string; scheduleCheckIntervalMs: number };
  readonly stripe: {
    secretKey: string;
    apiBase: URL | null;
    webhookSecrets: string[];
    maxNetworkRetries: number;
    timeoutMs: number;
  };
  readonly auth: {
    jwtSecret: string | null;
    jwksUrl: string | null;
    issuer: string | null;
    audience: string | null;
  };
  /** The plan catalogue file and whether start-up syncs it to Stripe (R-PLAN-1/2). */
  readonly catalog: { path: string; syncOnStart: boolean };
  /** One-time payments: the largest amount accepted, in minor units. */
  readonly payments: { maxAmount: number; refundWindowDays: number };
  /** Plan and seat quotes (R-SUB-3, R-PLAN-3): minutes a quote (a seat price too) may be applied after it was priced. */
  readonly quotes: { ttlMinutes: number };
  /** Billing ownership transfer (R-SUB-9): the page the e-mailed one-time link opens. */
  readonly ownership: { confirmUrl: string };
  readonly rateLimit: { ipPerMinute: number; accountPerMinute: number };
  readonly idempotency: { ttlHours: number; waitMs: number; lockTimeoutMs: number };
  readonly logLevel: EnvironmentVariables['LOG_LEVEL'];
  readonly webhooks: {
    maxAttempts: number;
    backoffMs: number;
    enqueueTimeoutMs: number;
    sweepIntervalMs: number;
    sweepAfterMs: number;
  };
  /** Port of the worker role's own `/metrics` listener (null: none; the api serves `/metrics`). */
  readonly metrics: { workerPort: number | null };
  readonly reconciliation: {
    windowHours: number;
    pageSize: number;
    pageAttempts: number;
    pageRetryDelayMs: number;
    leaseSeconds: number;
  };
  readonly stripeProbe: { intervalMs: number; timeoutMs: number; required: boolean };
  /** Integration endpoints: whether private, loopback and link-local targets are allowed. */
  readonly integrations: { allowPrivateTargets: boolean };
  /** Outgoing e-mail: the SMTP transport, the sender (R-NOT-1) and the unsubscribe-link key (R-NOT-3). */
  readonly notifications: {
    smtpUrl: string;
    emailFrom: string;
    unsubscribeSecret: string;
    /** The product's billing page that e-mails link to (BILLING_APP_URL). */
    billingAppUrl: string;
    reminderScanIntervalMs: number;
  };
  /** The business named on receipts and their e-mails (R-PAY-4): its name and postal address lines. */
  readonly merchant: { name: string; address: string[] };
  /** The font receipt PDFs are set in (RECEIPT_FONT_PATH, DejaVu Sans by default). */
  readonly receipts: { fontPath: string };
  /** The dunning schedule (DUNNING_POLICY, validated) and how often missed steps are caught up. */
  readonly dunning: { policy: DunningPolicy; catchUpIntervalMs: number };

  constructor(e: EnvironmentVariables) {
    const list = (s: string): string[] =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0);
    this.env = e.NODE_ENV;
    this.role = e.APP_ROLE;
    this.http = {
      port: e.PORT,
      host: e.HOST,
      trustProxy: e.TRUST_PROXY,
      corsOrigins: list(e.CORS_ORIGINS),
      swaggerEnabled: e.SWAGGER_ENABLED,
      publicBaseUrl: e.PUBLIC_BASE_URL.replace(/\/+$/, ''),
    };
    this.database = {
      url: e.DATABASE_URL,
      poolSize: e.DB_POOL_SIZE,
      migrate: e.DB_MIGRATE,
      preparedStatements: e.DB_PREPARED_STATEMENTS,
    };
    this.redis = {
      url: e.REDIS_URL,
      queuePrefix: e.QUEUE_PREFIX,
      scheduleCheckIntervalMs: e.SCHEDULE_CHECK_INTERVAL_MS,
    };
    this.stripe = {
      secretKey: e.STRIPE_SECRET_KEY,
      apiBase: e.STRIPE_API_BASE
        ? new URL(e.STRIPE_API_BASE)
        : isEmulatorKey(e.STRIPE_SECRET_KEY)
          ? new URL(EMULATOR_API_BASE)
          : null,
      webhookSecrets: list(e.STRIPE_WEBHOOK_SECRETS),
      maxNetworkRetries: e.STRIPE_MAX_NETWORK_RETRIES,
      timeoutMs: e.STRIPE_TIMEOUT_MS,
    };
    this.auth = {
      jwtSecret: e.JWT_SECRET ?? null,
      jwksUrl: e.JWT_JWKS_URL ?? null,
      issuer: e.JWT_ISSUER ?? null,
      audience: e.JWT_AUDIENCE ?? null,
    };
    this.catalog = { path: e.CATALOG_PATH, syncOnStart: e.CATALOG_SYNC_ON_START };
    this.payments = { maxAmount: e.PAYMENT_MAX_AMOUNT, refundWindowDays: e.REFUND_WINDOW_DAYS };
    this.quotes = { ttlMinutes: e.QUOTE_TTL_MINUTES };
    this.ownership = {
      confirmUrl:
        e.OWNERSHIP_CONFIRM_URL ?? `${e.PUBLIC_BASE_URL.replace(/\/+$/, '')}/v1/ownership-transfers/confirm`,
    };
    this.rateLimit = {
      ipPerMinute: e.RATE_LIMIT_IP_PER_MINUTE,
      accountPerMinute: e.RATE_LIMIT_ACCOUNT_PER_MINUTE,
    };
    this.idempotency = {
      ttlHours: e.IDEMPOTENCY_TTL_HOURS,
      waitMs: e.IDEMPOTENCY_WAIT_MS,
      lockTimeoutMs: e.IDEMPOTENCY_LOCK_TIMEOUT_MS,
    };
    this.logLevel = e.LOG_LEVEL;
    this.webhooks = {
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      backoffMs: e.WEBHOOK_BACKOFF_MS,
      enqueueTimeoutMs: e.WEBHOOK_ENQUEUE_TIMEOUT_MS,
      sweepIntervalMs: e.WEBHOOK_SWEEP_INTERVAL_MS,
      sweepAfterMs: e.WEBHOOK_SWEEP_AFTER_MS,
    };
    this.metrics = { workerPort: e.METRICS_PORT ?? null };
    this.reconciliation = {
      windowHours: e.RECONCILIATION_WINDOW_HOURS,
      pageSize: e.RECONCILIATION_PAGE_SIZE,
      pageAttempts: e.RECONCILIATION_PAGE_ATTEMPTS,
      pageRetryDelayMs: e.RECONCILIATION_PAGE_RETRY_DELAY_MS,
      leaseSeconds: e.RECONCILIATION_LEASE_SECONDS,
    };
    this.stripeProbe = {
      intervalMs: e.STRIPE_PROBE_INTERVAL_MS,
      timeoutMs: e.STRIPE_PROBE_TIMEOUT_MS,
      required: e.STRIPE_PROBE_REQUIRED,
    };
    this.integrations = { allowPrivateTargets: e.INTEGRATIONS_ALLOW_PRIVATE_TARGETS };
    this.notifications = {
      smtpUrl: e.SMTP_URL,
      emailFrom: e.EMAIL_FROM,
      // validateEnvironment fills in the development secret outside production and refuses it in production.
      unsubscribeSecret: e.NOTIFICATIONS_UNSUBSCRIBE_SECRET ?? DEV_UNSUBSCRIBE_SECRET,
      billingAppUrl: e.BILLING_APP_URL,
      reminderScanIntervalMs: e.NOTIFICATIONS_REMINDER_SCAN_INTERVAL_MS,
    };
    const dunningPolicy = e.DUNNING_POLICY ? dunningPolicyFromJson(e.DUNNING_POLICY) : null;
    if (dunningPolicy && !dunningPolicy.ok) throw new Error('DUNNING_POLICY was not validated');
    this.dunning = {
      policy: dunningPolicy?.value ?? DEFAULT_DUNNING_POLICY,
      catchUpIntervalMs: e.DUNNING_CATCH_UP_INTERVAL_MS,
    };
    this.merchant = {
      name: e.MERCHANT_NAME.trim(),
      address: (e.MERCHANT_ADDRESS ?? '')
        .split('|')
        .map((line) => line.trim())
        .filter((line) => line.length > 0),
    };
    this.receipts = { fontPath: e.RECEIPT_FONT_PATH ?? DEFAULT_PDF_FONT_PATH };
  }

  get runsHttp(): boolean {
    return this.role === 'api' || this.role === 'all';
  }

  get runsWorkers(): boolean {
    return this.role === 'worker' || this.role === 'all';
  }
}
