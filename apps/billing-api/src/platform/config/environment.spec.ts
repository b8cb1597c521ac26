import { describe, expect, it } from '@jest/globals';
import { DEFAULT_DUNNING_POLICY } from '@billing/domain';
import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import { AppConfig } from './app-config.js';
import {
  DEV_JWT_SECRET,
  EnvironmentVariables,
  InvalidEnvironmentError,
  validateEnvironment,
} from './environment.js';

function problemsOf(raw: Record<string, string>): string[] {
  try {
    validateEnvironment(raw);
  } catch (e) {
    if (e instanceof InvalidEnvironmentError) return e.problems;
    throw e;
  }
  return [];
}

describe('environment validation (R-ARCH-6)', () => {
  it('runs a fresh development checkout on its embedded defaults', () => {
    const env = validateEnvironment({});
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      APP_ROLE: 'all',
      PORT: 3000,
      DB_MIGRATE: true,
      JWT_SECRET: DEV_JWT_SECRET,
    });
    const config = new AppConfig(env);
    expect(config.runsHttp && config.runsWorkers).toBe(true);
    // the emulator's key goes to the local emulator, not to api.stripe.com
    expect(config.stripe.apiBase?.href).toBe('http://127.0.0.1:12111/');
  });

  it('sends a real key to api.stripe.com unless STRIPE_API_BASE says otherwise', () => {
    const real = (extra: Record<string, string> = {}) =>
      new AppConfig(validateEnvironment({ STRIPE_SECRET_KEY: 'sk_test_51abc', ...extra })).stripe.apiBase;
    expect(real()).toBeNull();
    expect(real({ STRIPE_API_BASE: 'http://127.0.0.1:12112' })?.port).toBe('12112');
  });

  it('reads the catalogue settings (R-PLAN-1/2) and names a malformed one', () => {
    expect(new AppConfig(validateEnvironment({})).catalog).toEqual({
      path: 'config/catalog.json',
      syncOnStart: false,
    });
    expect(
      new AppConfig(
        validateEnvironment({ CATALOG_PATH: '/etc/billing/plans.json', CATALOG_SYNC_ON_START: 'yes' }),
      ).catalog,
    ).toEqual({ path: '/etc/billing/plans.json', syncOnStart: true });
    expect(problemsOf({ CATALOG_SYNC_ON_START: 'sometimes' })).toEqual([
      'CATALOG_SYNC_ON_START: CATALOG_SYNC_ON_START must be a boolean value',
    ]);
  });

  it('reads the dunning policy (R-DUN-5): the default when unset, a valid one, and names what is wrong', () => {
    expect(new AppConfig(validateEnvironment({})).dunning).toEqual({
      policy: DEFAULT_DUNNING_POLICY,
      catchUpIntervalMs: 60_000,
    });
    const short = {
      steps: [
        { id: 'd0', dayOffset: 0, actions: [{ kind: 'send_email', template: 'payment_failed_1' }] },
        { id: 'd2', dayOffset: 2, actions: [{ kind: 'suspend' }] },
      ],
    };
    const config = new AppConfig(
      validateEnvironment({ DUNNING_POLICY: JSON.stringify(short), DUNNING_CATCH_UP_INTERVAL_MS: '5000' }),
    );
    expect(config.dunning).toEqual({ policy: short, catchUpIntervalMs: 5000 });
    expect(problemsOf({ DUNNING_POLICY: '{"steps":[]}' })).toEqual([
      'DUNNING_POLICY: the policy has no steps',
    ]);
    expect(problemsOf({ DUNNING_CATCH_UP_INTERVAL_MS: '10' })).toEqual([
      'DUNNING_CATCH_UP_INTERVAL_MS: DUNNING_CATCH_UP_INTERVAL_MS must not be less than 200',
    ]);
  });

  it('converts and groups typed values', () => {
    const config = new AppConfig(
      validateEnvironment({
        PORT: '8080',
        APP_ROLE: 'worker',
        DB_MIGRATE: 'false',
        STRIPE_API_BASE: 'http://127.0.0.1:12111',
        STRIPE_WEBHOOK_SECRETS: 'whsec_a, whsec_b',
        CORS_ORIGINS: 'https://app.example.com,https://admin.example.com',
      }),
    );
    expect(config.http.port).toBe(8080);
    expect(config.runsHttp).toBe(false);
    expect(config.database.migrate).toBe(false);
    expect(config.stripe.apiBase?.port).toBe('12111');
    expect(config.stripe.webhookSecrets).toEqual(['whsec_a', 'whsec_b']);
    expect(config.http.corsOrigins).toHaveLength(2);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['APP_ROLE', 'both'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'not a url'],
    ['DB_MIGRATE', 'maybe'],
    ['STRIPE_SECRET_KEY', 'pk_test_123456'],
    ['STRIPE_WEBHOOK_SECRETS', 'secret'],
    ['JWT_SECRET', 'short'],
    ['LOG_LEVEL', 'loud'],
    ['MERCHANT_NAME', '   '],
    ['MERCHANT_NAME', 'Acme\nGmbH'],
    ['MERCHANT_NAME', 'x'.repeat(121)],
    ['MERCHANT_ADDRESS', 'Hauptstraße 1\r\nBerlin'],
    // Not in the default receipt font (DejaVu Sans has no CJK script and no emoji).
    ['MERCHANT_NAME', '株式会社アクメ'],
    ['MERCHANT_ADDRESS', 'Acme|🏢 Main St'],
    ['RECEIPT_FONT_PATH', '/nonexistent/font.ttf'],
    ['RECEIPT_FONT_PATH', 'package.json'],
  ])('names %s when it is malformed (%s)', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.startsWith(`${name}:`))).toBe(true);
  });

  it('names the merchant on receipts: a development default, address lines split on |', () => {
    expect(new AppConfig(validateEnvironment({})).merchant).toEqual({ name: 'Billing', address: [] });
    const config = new AppConfig(
      validateEnvironment({
        MERCHANT_NAME: ' Acme GmbH ',
        MERCHANT_ADDRESS: 'Hauptstraße 1 | | 10115 Berlin|',
      }),
    );
    expect(config.merchant).toEqual({ name: 'Acme GmbH', address: ['Hauptstraße 1', '10115 Berlin'] });
  });

  it('accepts a merchant in any script the receipt font has, and says which characters it lacks', () => {
    const config = new AppConfig(
      validateEnvironment({ MERCHANT_NAME: 'ООО «Акме»', MERCHANT_ADDRESS: 'ul. Łąkowa 3|Αθήνα' }),
    );
    expect(config.merchant).toEqual({ name: 'ООО «Акме»', address: ['ul. Łąkowa 3', 'Αθήνα'] });
    expect(config.receipts.fontPath).toMatch(/DejaVuSans\.ttf$/);
    expect(problemsOf({ MERCHANT_NAME: 'Acme 株式会社' })).toEqual([
      'MERCHANT_NAME: the receipt font (DejaVu Sans) has no 株 式 会 社; set RECEIPT_FONT_PATH to a .ttf or .otf font that has them',
    ]);
    // Right-to-left scripts are set with the bidirectional algorithm (platform/pdf/bidi-text.ts).
    expect(problemsOf({ MERCHANT_NAME: 'אקמה בע"מ', MERCHANT_ADDRESS: 'Acme|تل أبيب' })).toEqual([]);
  });

  it('refuses development secrets and a missing key source in production, naming each', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining(['JWT_SECRET or JWT_JWKS_URL', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRETS']),
    );
  });

  it('never prints a secret value in its message', () => {
    const problems = problemsOf({
      JWT_SECRET: 'tooshort-secret',
      STRIPE_SECRET_KEY: 'pk_live_verysecretvalue',
    });
    expect(problems.length).toBeGreaterThanOrEqual(2);
    expect(problems.join('\n')).not.toMatch(/tooshort-secret|verysecretvalue/);
  });

  it('documents every variable it reads in .env.example', () => {
    const declared = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(EnvironmentVariables, '', true, false)
        .map((m) => m.propertyName),
    );
    const documented = new Set(
      readFileSync('.env.example', 'utf8')
        .split('\n')
        .map((line) => /^#?\s*([A-Z][A-Z0-9_]+)=/.exec(line)?.[1])
        .filter((name): name is string => name !== undefined),
    );
    expect(declared.size).toBeGreaterThan(20);
    expect([...declared].filter((name) => !documented.has(name))).toEqual([]);
  });
});
