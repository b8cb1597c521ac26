import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { startEmulator, type RunningEmulator } from '../../../../stripe-emulator/src/server.js';
import { AppConfig } from '../config/app-config.js';
import { validateEnvironment } from '../config/environment.js';
import { StripeCallError } from './stripe-errors.js';
import { InvalidWebhookSignatureError, StripeGateway } from './stripe.gateway.js';

function gatewayFor(apiBase: string, overrides: Record<string, string> = {}): StripeGateway {
  return new StripeGateway(
    new AppConfig(
      validateEnvironment({
        STRIPE_SECRET_KEY: `sk_test_${randomUUID().replace(/-/g, '')}`,
        STRIPE_API_BASE: apiBase,
        STRIPE_WEBHOOK_SECRETS: 'whsec_old,whsec_new',
        STRIPE_MAX_NETWORK_RETRIES: '0',
        ...overrides,
      }),
    ),
  );
}

describe('StripeGateway against the emulator (R-ARCH-3)', () => {
  let emulator: RunningEmulator;
  let gateway: StripeGateway;

  beforeAll(async () => {
    // The gateway logs every failed call; the failures here are on purpose.
    Logger.overrideLogger(false);
    emulator = await startEmulator({ port: 0 });
    gateway = gatewayFor(emulator.url);
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('talks to the configured API base with the pinned version and Stripe request ids', async () => {
    const customer = await gateway.call('customer.create', (s) =>
      s.customers.create({ email: 'a@example.test' }),
    );
    expect(customer.id).toMatch(/^cus_/);
    expect(customer.lastResponse.requestId).toMatch(/^req_/);
    expect(customer.lastResponse.apiVersion).toBe('2026-10-28.endive');
  });

  it('derives stable idempotency keys so a repeated operation acts once at Stripe', async () => {
    const key = StripeGateway.idempotencyKey('customer.create', 'account', 42);
    expect(key).toBe(StripeGateway.idempotencyKey('customer.create', 'account', 42));
    expect(key).not.toBe(StripeGateway.idempotencyKey('customer.create', 'account', 43));
    expect(key.length).toBeLessThanOrEqual(255);
    const first = await gateway.call('customer.create', (s) =>
      s.customers.create({ email: 'b@example.test' }, { idempotencyKey: key }),
    );
    const again = await gateway.call('customer.create', (s) =>
      s.customers.create({ email: 'b@example.test' }, { idempotencyKey: key }),
    );
    expect(again.id).toBe(first.id);
  });

  it.each([
    ['pm_card_chargeDeclined', 'card_declined', 'card'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds', 'card'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'card'],
  ])('classifies a charge with %s as %s', async (paymentMethod, code, kind) => {
    const failure = await gateway
      .call('payment.create', (s) =>
        s.paymentIntents.create({
          amount: 5000,
          currency: 'usd',
          payment_method: paymentMethod,
          confirm: true,
        }),
      )
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StripeCallError);
    expect(failure).toMatchObject({ code, kind });
    expect((failure as StripeCallError).outcomeUnknown).toBe(false);
  });

  it('classifies a missing object as a provider error, not a decline', async () => {
    const missing = await gateway
      .call('customer.get', (s) => s.customers.retrieve('cus_doesnotexist'))
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ kind: 'not_found', code: 'payment_provider_error' });
  });

  it('treats an unreachable Stripe as outcome unknown, never as a decline', async () => {
    const dead = gatewayFor('http://127.0.0.1:9', { STRIPE_TIMEOUT_MS: '1000' });
    const failure = await dead
      .call('customer.create', (s) => s.customers.create({}))
      .catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'unavailable', code: 'payment_provider_unavailable' });
    expect((failure as StripeCallError).outcomeUnknown).toBe(true);
  });

  it('verifies webhooks against every configured secret (rotation) and rejects the rest', () => {
    const payload = JSON.stringify({
      id: 'evt_1',
      object: 'event',
      type: 'customer.created',
      data: { object: {} },
    });
    const sign = (secret: string, timestamp?: number): string =>
      Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });
    expect(gateway.verifyWebhook(payload, sign('whsec_old')).id).toBe('evt_1');
    expect(gateway.verifyWebhook(Buffer.from(payload), sign('whsec_new')).id).toBe('evt_1');
    expect(() => gateway.verifyWebhook(payload, sign('whsec_other'))).toThrow(InvalidWebhookSignatureError);
    expect(() => gateway.verifyWebhook(`${payload} `, sign('whsec_new'))).toThrow(
      InvalidWebhookSignatureError,
    );
    expect(() =>
      gateway.verifyWebhook(payload, sign('whsec_new', Math.floor(Date.now() / 1000) - 301)),
    ).toThrow(InvalidWebhookSignatureError);
    expect(() => gateway.verifyWebhook(payload, undefined)).toThrow(InvalidWebhookSignatureError);
  });
});
