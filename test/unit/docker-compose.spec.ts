// docker-compose.yml is what a newcomer deploys: read here as Docker Compose reads it (YAML, then
// ${VAR} interpolation from the environment and a .env beside it, then env_file under environment), with
// the .env a user copies from .env.example. No Docker engine is needed.
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { load as loadYaml } from 'js-yaml';
import { validateEnvironment } from '../../apps/billing-api/src/platform/config/environment.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
type Vars = Record<string, string | undefined>;

interface Service {
  image?: string;
  build?: unknown;
  ports?: string[];
  environment?: Record<string, string>;
  env_file?: Array<{ path: string; required?: boolean }>;
  healthcheck?: { test?: unknown; disable?: boolean };
}
interface ComposeFile {
  services: Record<string, Service>;
}

/** Compose's interpolation: $$, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}. */
function interpolate(text: string, vars: Vars): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g,
    (all, name?: string, op?: string, arg?: string) => {
      if (all === '$$') return '$';
      const value = vars[name as string];
      const unset = op?.startsWith(':') ? !value : value === undefined;
      if (op?.endsWith('-')) return unset ? (arg ?? '') : (value as string);
      if (op?.endsWith('?') && unset) throw new Error(`required variable ${name} is missing a value: ${arg}`);
      return value ?? '';
    },
  );
}

/** YAML merge keys (`<<: *anchor`), which Compose applies and js-yaml 5 leaves as plain keys. */
function merged(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(merged);
  if (typeof node !== 'object' || node === null) return node;
  const { '<<': base, ...rest } = node as Record<string, unknown>;
  const own = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, merged(v)]));
  const bases = (Array.isArray(base) ? base : base === undefined ? [] : [base]).map(merged);
  return Object.assign({}, ...bases, own) as unknown;
}

function load(file: string, vars: Vars): ComposeFile {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return merged(loadYaml(interpolate(text, vars))) as ComposeFile;
}

/** The .env a user gets with `cp .env.example .env`. */
const copiedEnv = parseEnv(fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8')) as Vars;
const secrets = {
  JWT_SECRET: 'a'.repeat(64),
  NOTIFICATIONS_UNSUBSCRIBE_SECRET: 'b'.repeat(64),
  STRIPE_WEBHOOK_SECRETS: 'whsec_compose0123456789',
  POSTGRES_PASSWORD: 'pw0123456789',
};

/** A container's environment: its env_file (the copied .env) under its `environment`. */
function containerEnv(service: Service): Record<string, string> {
  const fromFile = service.env_file?.some((f) => f.path === '.env') ? copiedEnv : {};
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...fromFile, ...(service.environment ?? {}) }))
    if (v !== undefined) env[k] = String(v);
  return env;
}

describe('docker-compose.yml', () => {
  const compose = load('docker-compose.yml', { ...copiedEnv, ...secrets });
  const services = compose.services;

  it('has the whole stack', () => {
    expect(Object.keys(services).sort()).toEqual([
      'api',
      'mailpit',
      'postgres',
      'redis',
      'stripe-emulator',
      'worker',
    ]);
  });

  it('refuses to start without each secret, naming it, even with a copied .env.example', () => {
    for (const name of Object.keys(secrets)) {
      const vars: Vars = { ...copiedEnv, ...secrets, [name]: '' };
      expect(() => load('docker-compose.yml', vars)).toThrow(
        new RegExp(`required variable ${name} is missing`),
      );
      delete vars[name];
      expect(() => load('docker-compose.yml', vars)).toThrow(
        new RegExp(`required variable ${name} is missing`),
      );
    }
    expect(() => load('docker-compose.yml', copiedEnv)).toThrow(/required variable \w+ is missing/);
  });

  it('runs the api and the worker in production mode, with the services of the stack', () => {
    for (const name of ['api', 'worker']) {
      const env = containerEnv(services[name] as Service);
      expect(env['NODE_ENV']).toBe('production');
      expect(new URL(env['DATABASE_URL'] as string).hostname).toBe('postgres');
      expect(new URL(env['REDIS_URL'] as string).hostname).toBe('redis');
      // e-mail goes to Mailpit, Stripe calls to the emulator (a copied .env.example blanks neither)
      expect(new URL(env['SMTP_URL'] as string).host).toBe('mailpit:1025');
      expect(env['STRIPE_API_BASE']).toBe('http://stripe-emulator:12111');
      const { POSTGRES_PASSWORD: password, ...appSecrets } = secrets;
      expect(env).toMatchObject(appSecrets);
      expect(new URL(env['DATABASE_URL'] as string).password).toBe(password);
      // and the service's own validation accepts it: production refuses the development secrets
      expect(() => validateEnvironment(env)).not.toThrow();
    }
    const emulator = containerEnv(services['stripe-emulator'] as Service);
    expect(emulator['STRIPE_EMULATOR_WEBHOOK_SECRET']).toBe(secrets.STRIPE_WEBHOOK_SECRETS);
    expect(emulator['STRIPE_EMULATOR_WEBHOOK_URL']).toBe('http://api:3000/webhooks/stripe');
    expect(emulator['STRIPE_EMULATOR_PORT']).toBe('12111');
  });

  it('the production check would catch the development values a copied .env.example carries', () => {
    expect(() =>
      validateEnvironment({ ...containerEnv(services['api'] as Service), JWT_SECRET: '' }),
    ).toThrow(/JWT_SECRET or JWT_JWKS_URL/);
  });

  it('takes a real Stripe account when one is configured', () => {
    const real = load('docker-compose.yml', {
      ...copiedEnv,
      ...secrets,
      STRIPE_SECRET_KEY: 'sk_live_123',
      STRIPE_API_BASE: 'https://api.stripe.com',
    });
    const env = containerEnv(real.services['api'] as Service);
    expect(env['STRIPE_SECRET_KEY']).toBe('sk_live_123');
    expect(env['STRIPE_API_BASE']).toBe('https://api.stripe.com');
  });

  it('publishes PostgreSQL and Redis nowhere, and nothing but the api beyond 127.0.0.1', () => {
    expect(services['postgres']?.ports ?? []).toEqual([]);
    expect(services['redis']?.ports ?? []).toEqual([]);
    for (const [name, service] of Object.entries(services)) {
      if (name === 'api') continue;
      for (const port of service.ports ?? [])
        expect([name, port]).toEqual([name, expect.stringMatching(/^127\.0\.0\.1:/)]);
    }
  });

  it('checks the health of every service', () => {
    for (const [name, service] of Object.entries(services)) {
      expect([name, service.healthcheck?.disable ?? false]).toEqual([name, false]);
      expect([name, Array.isArray(service.healthcheck?.test)]).toEqual([name, true]);
    }
  });

  it('pins the tag of every image it pulls', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build) continue;
      expect([name, service.image]).toEqual([
        name,
        expect.stringMatching(/^[\w./-]+:v?\d+\.\d+(\.\d+)?(-[\w.]+)?$/),
      ]);
    }
  });
});

describe('docker-compose.dev.yml (PostgreSQL and Redis for running on the host)', () => {
  const dev = load('docker-compose.dev.yml', {});
  it('publishes on the loopback address only, with healthchecks and pinned images', () => {
    for (const [name, service] of Object.entries(dev.services)) {
      expect(service.ports?.length).toBeGreaterThan(0);
      for (const port of service.ports ?? [])
        expect([name, port]).toEqual([name, expect.stringMatching(/^127\.0\.0\.1:/)]);
      expect(Array.isArray(service.healthcheck?.test)).toBe(true);
      expect(service.image).toMatch(/:\d+\.\d+(\.\d+)?(-[\w.]+)?$/);
    }
  });
});
