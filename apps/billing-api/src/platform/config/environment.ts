import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { dunningPolicyFromJson } from '@billing/domain';
import { DEFAULT_PDF_FONT_PATH, PdfFont } from '../pdf/pdf-font.js';

export const APP_ROLES = ['api', 'worker', 'all'] as const;
export type AppRole = (typeof APP_ROLES)[number];

const toBool = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  return value;
};
const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;

/** Development defaults: a fresh clone runs against local services and the emulator with no .env. */
export const DEV_JWT_SECRET = 'dev-only-jwt-secret-change-me-0123456789abcdef';
export const DEV_STRIPE_SECRET_KEY = 'sk_test_emulator_dev';
/**
 * Where an emulator key (`sk_test_emulator…`) goes when STRIPE_API_BASE is unset: the local emulator
 * (`npm run emulator`, `npm start`), never api.stripe.com, which could only refuse it.
 */
export const EMULATOR_API_BASE = 'http://127.0.0.1:12111';
export const isEmulatorKey = (key: string): boolean => key.startsWith('sk_test_emulator');
export const DEV_WEBHOOK_SECRET = 'whsec_dev_emulator_secret';
export const DEV_UNSUBSCRIBE_SECRET = 'dev-only-unsubscribe-secret-change-me-0123456789';

/**
 * Every environment variable the service reads (R-ARCH-6). `.env.example` documents each one; a missing
 * or malformed variable stops the process with a message naming it.
 */
export class EnvironmentVariables {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @IsIn(APP_ROLES)
  APP_ROLE: AppRole = 'all';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @Transform(toBool)
  @IsBoolean()
  TRUST_PROXY = false;

  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/billing';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE = 10;

  @Transform(toBool)
  @IsBoolean()
  DB_MIGRATE = true;

  @Transform(toBool)
  @IsBoolean()
  DB_PREPARED_STATEMENTS = true;

  @IsUrl({ protocols: ['redis', 'rediss'], require_tld: false, require_protocol: true })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @IsString()
  @MinLength(1)
  QUEUE_PREFIX = 'billing';

  @IsString()
  @MinLength(8)
  STRIPE_SECRET_KEY = DEV_STRIPE_SECRET_KEY;

  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  STRIPE_API_BASE?: string;

  @IsString()
  STRIPE_WEBHOOK_SECRETS = DEV_WEBHOOK_SECRET;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10)
  STRIPE_MAX_NETWORK_RETRIES = 2;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120000)
  STRIPE_TIMEOUT_MS = 20000;

  /**
   * The plan catalogue file (R-PLAN-1): JSON the operator edits, read and checked at start-up (a bad
   * field stops the process, named). Relative paths are from the working directory.
   */
  @IsString()
  @MinLength(1)
  CATALOG_PATH = 'config/catalog.json';

  /** Create or update the catalogue's Stripe products and prices at start-up (R-PLAN-2), as `npm run catalog:sync` does. */
  @Transform(toBool)
  @IsBoolean()
  CATALOG_SYNC_ON_START = false;

  /** The largest one-time payment the API accepts, in minor units of any currency (R-PAY-1). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(99999999)
  PAYMENT_MAX_AMOUNT = 99999999;

  /** How long a plan-change quote (R-SUB-3) may be applied after Stripe priced it, in minutes. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1440)
  QUOTE_TTL_MINUTES = 15;

  /** How many days after a payment succeeded it may still be refunded (R-REF-1). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3650)
  REFUND_WINDOW_DAYS = 180;

  /**
   * The page of the product that receives the one-time link of a billing ownership transfer (R-SUB-9) as
   * `?token=…` and posts it, with the signed-in user's token, to `POST /v1/ownership-transfers/confirm`.
   * Defaults to PUBLIC_BASE_URL + `/v1/ownership-transfers/confirm`.
   */
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  OWNERSHIP_CONFIRM_URL?: string;

  @IsOptional()
  @IsString()
  @MinLength(32)
  JWT_SECRET?: string;

  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  JWT_JWKS_URL?: string;

  @IsOptional()
  @IsString()
  JWT_ISSUER?: string;

  @IsOptional()
  @IsString()
  JWT_AUDIENCE?: string;

  @IsString()
  CORS_ORIGINS = '';

  /**
   * Integration endpoints may point at private, loopback and link-local addresses (for receivers on the
   * same host or network). Off: such URLs are refused, at creation and again at each delivery (SSRF).
   */
  @Transform(toBool)
  @IsBoolean()
  INTEGRATIONS_ALLOW_PRIVATE_TARGETS = false;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  RATE_LIMIT_IP_PER_MINUTE = 600;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  RATE_LIMIT_ACCOUNT_PER_MINUTE = 1200;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(24 * 30)
  IDEMPOTENCY_TTL_HOURS = 24;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  IDEMPOTENCY_WAIT_MS = 15000;

  @Transform(toInt)
  @IsInt()
  @Min(1000)
  IDEMPOTENCY_LOCK_TIMEOUT_MS = 60000;

  /** How often workers re-assert every repeatable job's schedule (besides on each Redis reconnect). */
  @Transform(toInt)
  @IsInt()
  @Min(200)
  @Max(3_600_000)
  SCHEDULE_CHECK_INTERVAL_MS = 30_000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(50)
  WEBHOOK_MAX_ATTEMPTS = 8;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  WEBHOOK_BACKOFF_MS = 2000;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(30_000)
  WEBHOOK_ENQUEUE_TIMEOUT_MS = 500;

  @Transform(toInt)
  @IsInt()
  @Min(200)
  @Max(3_600_000)
  WEBHOOK_SWEEP_INTERVAL_MS = 30_000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(86_400_000)
  WEBHOOK_SWEEP_AFTER_MS = 120_000;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  METRICS_PORT?: number;

  /** Invoices and PaymentIntents created this many hours back are compared by each reconciliation run. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(24 * 400)
  RECONCILIATION_WINDOW_HOURS = 48;

  /** Objects per Stripe list page of a reconciliation run (Stripe's maximum is 100). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  RECONCILIATION_PAGE_SIZE = 100;

  /** Attempts at one page of a run (after the SDK's own retries of each call) before the run fails. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10)
  RECONCILIATION_PAGE_ATTEMPTS = 4;

  /** The wait before a page's first retry; doubled for each further one. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(600_000)
  RECONCILIATION_PAGE_RETRY_DELAY_MS = 2000;

  /**
   * How long a run's worker holds it without finishing a page (renewed every page): a run whose worker
   * stopped is resumed from its stored cursor by another worker once this has passed.
   */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(86_400)
  RECONCILIATION_LEASE_SECONDS = 300;

  /** How often the Stripe reachability probe behind /health/ready runs (its answer is cached meanwhile). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  STRIPE_PROBE_INTERVAL_MS = 30_000;

  /** How long one Stripe reachability probe may take before Stripe counts as unreachable. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  STRIPE_PROBE_TIMEOUT_MS = 3_000;

  /**
   * true: /health/ready answers 503 while the Stripe probe fails. Off by default: a Stripe outage is
   * shared by every replica, and taking them all out of the load balancer would stop the webhook intake
   * and every read too; readiness then reports Stripe as down without failing.
   */
  @Transform(toBool)
  @IsBoolean()
  STRIPE_PROBE_REQUIRED = false;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' = 'info';

  @Transform(toBool)
  @IsBoolean()
  SWAGGER_ENABLED = true;

  /** Outgoing e-mail (R-NOT-1): an SMTP URL (`smtp://user:pass@host:587`, `smtps://…`). */
  @IsUrl({ protocols: ['smtp', 'smtps'], require_tld: false, require_protocol: true })
  SMTP_URL = 'smtp://127.0.0.1:1025';

  @IsString()
  @MinLength(3)
  EMAIL_FROM = 'Billing <billing@example.com>';

  /** The service's public URL: links in e-mails (one-click unsubscribe, R-NOT-3) point here. */
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  PUBLIC_BASE_URL = 'http://localhost:3000';

  /** HMAC key of the unsubscribe links in reminder e-mails (R-NOT-3); required in production. */
  @IsOptional()
  @IsString()
  @MinLength(32)
  NOTIFICATIONS_UNSUBSCRIBE_SECRET?: string;

  /** The product's billing page that every e-mail links to (it opens the Customer Portal, R-SUB-6). */
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  BILLING_APP_URL = 'http://localhost:3000/billing';

  /** Interval of the reminder scan (trial ending, card expiring), in ms: at least a minute, at most a day. */
  @Transform(toInt)
  @IsInt()
  @Min(60_000)
  @Max(86_400_000)
  NOTIFICATIONS_REMINDER_SCAN_INTERVAL_MS = 3_600_000;
  /**
   * The dunning schedule (R-DUN-5) as JSON: `{"steps":[{"id","dayOffset","actions":[…]}]}` (see
   * docs/dunning.md). Unset: Day 0 e-mail, Day 3 and 5 retry and e-mail, Day 7 suspend and e-mail.
   */
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  DUNNING_POLICY?: string;

  /** How often a worker runs the dunning steps that fell due but did not run (restart, Redis flushed). */
  @Transform(toInt)
  @IsInt()
  @Min(200)
  @Max(3_600_000)
  DUNNING_CATCH_UP_INTERVAL_MS = 60_000;

  /** The business named on receipts (R-PAY-4): the integrator's, not this service's. */
  @IsString()
  @MinLength(1)
  @MaxLength(120)
  @Matches(/^(?=.*\S)[^\p{Cc}]+$/u, { message: 'must be one line of text without control characters' })
  MERCHANT_NAME = 'Billing';

  /** The merchant's postal address on receipts, its lines separated by `|` (optional). */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  @Matches(/^[^\p{Cc}]*$/u, { message: 'must be lines separated by | without control characters' })
  MERCHANT_ADDRESS?: string;

  /**
   * The TrueType or OpenType font receipts are set in (optional): DejaVu Sans when unset. Checked at
   * start-up: it must load, and it must have every character of MERCHANT_NAME and MERCHANT_ADDRESS.
   */
  @IsOptional()
  @IsString()
  RECEIPT_FONT_PATH?: string;
}

/** Turns class-validator errors into lines that name the variable, its value's problem and nothing secret. */
function describe(errors: ValidationError[]): string[] {
  return errors.flatMap((e) =>
    Object.values(e.constraints ?? { invalid: 'is invalid' }).map((msg) => `${e.property}: ${msg}`),
  );
}

export class InvalidEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'InvalidEnvironmentError';
  }
}

/** Validates raw variables (process.env) and returns the typed, defaulted set, or throws naming each bad one. */
export function validateEnvironment(raw: Record<string, unknown>): EnvironmentVariables {
  // Empty strings count as unset so a blank line in .env falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== '' && v !== undefined));
  const env = plainToInstance(EnvironmentVariables, cleaned, { enableImplicitConversion: false });
  const problems = describe(validateSync(env, { skipMissingProperties: false, forbidUnknownValues: false }));
  if (!env.JWT_SECRET && !env.JWT_JWKS_URL) {
    if (env.NODE_ENV === 'production')
      problems.push('JWT_SECRET or JWT_JWKS_URL: one must be set in production');
    else env.JWT_SECRET = DEV_JWT_SECRET;
  }
  if (!env.NOTIFICATIONS_UNSUBSCRIBE_SECRET) {
    if (env.NODE_ENV === 'production')
      problems.push('NOTIFICATIONS_UNSUBSCRIBE_SECRET: must be set in production (32+ characters)');
    else env.NOTIFICATIONS_UNSUBSCRIBE_SECRET = DEV_UNSUBSCRIBE_SECRET;
  }
  if (env.NODE_ENV === 'production') {
    if (env.JWT_SECRET === DEV_JWT_SECRET)
      problems.push('JWT_SECRET: the development secret is not allowed in production');
    if (env.STRIPE_SECRET_KEY === DEV_STRIPE_SECRET_KEY)
      problems.push('STRIPE_SECRET_KEY: set a real Stripe key in production');
    if (env.STRIPE_WEBHOOK_SECRETS === DEV_WEBHOOK_SECRET)
      problems.push('STRIPE_WEBHOOK_SECRETS: set the signing secrets of your Stripe webhook endpoint');
    if (env.NOTIFICATIONS_UNSUBSCRIBE_SECRET === DEV_UNSUBSCRIBE_SECRET)
      problems.push('NOTIFICATIONS_UNSUBSCRIBE_SECRET: the development secret is not allowed in production');
  }
  if (!/^(sk|rk)_(test|live)_/.test(env.STRIPE_SECRET_KEY)) {
    problems.push('STRIPE_SECRET_KEY: must start with sk_test_, sk_live_, rk_test_ or rk_live_');
  }
  if (env.STRIPE_WEBHOOK_SECRETS.split(',').some((s) => !s.trim().startsWith('whsec_'))) {
    problems.push('STRIPE_WEBHOOK_SECRETS: a comma-separated list of whsec_… secrets');
  }
  problems.push(...receiptFontProblems(env));
  if (env.DUNNING_POLICY) {
    const dunning = dunningPolicyFromJson(env.DUNNING_POLICY);
    if (!dunning.ok) problems.push(...dunning.error.map((p) => `DUNNING_POLICY: ${p}`));
  }
  if (problems.length > 0) throw new InvalidEnvironmentError(problems);
  return env;
}

/**
 * The receipt font must load, and the merchant's name and address, printed on every receipt, must be
 * text it can show: a merchant in a script the font lacks is a configuration error, found at start-up
 * rather than on a customer's receipt.
 */
function receiptFontProblems(env: EnvironmentVariables): string[] {
  let font: PdfFont;
  try {
    font = PdfFont.load(env.RECEIPT_FONT_PATH ?? DEFAULT_PDF_FONT_PATH);
  } catch (error) {
    return [`RECEIPT_FONT_PATH: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  for (const [name, value] of [
    ['MERCHANT_NAME', env.MERCHANT_NAME],
    ['MERCHANT_ADDRESS', env.MERCHANT_ADDRESS],
  ] as const) {
    const { missing } = font.printable(value ?? '');
    if (missing.length > 0) {
      problems.push(
        `${name}: the receipt font (${font.name}) has no ${missing.join(' ')}; ` +
          'set RECEIPT_FONT_PATH to a .ttf or .otf font that has them',
      );
    }
  }
  return problems;
}
