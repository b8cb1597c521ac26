import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import Stripe from 'stripe';
import { AppConfig } from '../config/app-config.js';
import { RequestContext } from '../context/request-context.js';
import { classifyStripeError } from './stripe-errors.js';

/** The API version the installed SDK pins; every call and every webhook must agree with it. */
export const STRIPE_API_VERSION = '2026-10-28.endive';

/** How far a webhook's signed timestamp may be from now, either way (Stripe's default, 300 s). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export class InvalidWebhookSignatureError extends Error {
  constructor() {
    super('invalid Stripe webhook signature');
    this.name = 'InvalidWebhookSignatureError';
  }
}

/**
 * The one adapter around the `stripe` SDK (R-ARCH-3): nothing else imports it. It points the SDK at
 * Stripe or the emulator, pins the API version, lets the SDK retry transient failures itself
 * (`maxNetworkRetries`, same idempotency key every time), derives idempotency keys from operations
 * (R-CORE-3), classifies errors, and verifies webhook signatures against every configured secret.
 */
@Injectable()
export class StripeGateway {
  private readonly logger = new Logger('StripeGateway');
  /** The SDK client. Modules call it only through {@link call}. */
  private readonly stripe: Stripe;
  private readonly webhookSecrets: string[];

  constructor(config: AppConfig) {
    const base = config.stripe.apiBase;
    this.stripe = new Stripe(config.stripe.secretKey, {
      apiVersion: STRIPE_API_VERSION,
      maxNetworkRetries: config.stripe.maxNetworkRetries,
      timeout: config.stripe.timeoutMs,
      appInfo: { name: 'billing-service', version: '0.1.0' },
      telemetry: false,
      ...(base
        ? {
            host: base.hostname,
            port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
            protocol: base.protocol === 'https:' ? 'https' : 'http',
          }
        : {}),
    });
    this.webhookSecrets = config.stripe.webhookSecrets;
  }

  /**
   * A deterministic idempotency key for one logical operation (e.g. `payment.create` + our payment id):
   * a retry of the same operation, by the SDK or by us after a crash, can never act twice at Stripe.
   */
  static idempotencyKey(operation: string, ...parts: (string | number)[]): string {
    const digest = createHash('sha256').update(parts.map(String).join('\u0000')).digest('base64url');
    return `${operation}:${digest}`.slice(0, 255);
  }

  /**
   * Runs one SDK call, turning failures into {@link StripeCallError}s. `operation` names the call in logs
   * and errors, which carry the correlation id of the current request or job.
   */
  async call<T>(operation: string, fn: (stripe: Stripe) => Promise<T>): Promise<T> {
    const ended = RequestContext.startStripeCall();
    try {
      return await fn(this.stripe);
    } catch (error) {
      const failure = classifyStripeError(operation, error);
      // A declined card is an outcome, recorded where it matters (the payment, the dunning step, their
      // audit and metrics), not a fault: logged at debug. Every dunning retry that is declined used to
      // write a warning (about a twentieth of the worker's CPU on Day 3 of bench:dunning).
      this.logger[failure.kind === 'card' ? 'debug' : 'warn'](
        {
          operation,
          kind: failure.kind,
          code: failure.code,
          stripe: failure.detail,
          correlationId: RequestContext.correlationId(),
        },
        'stripe call failed',
      );
      throw failure;
    } finally {
      ended();
    }
  }

  /**
   * Verifies a webhook with the SDK (tolerance 300 s) against each configured secret, so that during a
   * rotation events signed with either the old or the new secret are accepted (R-WH-1).
   */
  verifyWebhook(rawBody: Buffer | string, signature: string | undefined): Stripe.Event {
    if (!signature) throw new InvalidWebhookSignatureError();
    // The SDK refuses timestamps older than the tolerance but takes any future one: a signature made
    // with a clock set ahead (or a replay kept for later) is refused beyond the same tolerance.
    const signedAt = Number(/(?:^|,)\s*t=(\d{1,15})(?:,|$)/.exec(signature)?.[1]);
    if (Number.isFinite(signedAt) && signedAt > Date.now() / 1000 + WEBHOOK_TOLERANCE_SECONDS) {
      throw new InvalidWebhookSignatureError();
    }
    for (const secret of this.webhookSecrets) {
      try {
        return this.stripe.webhooks.constructEvent(rawBody, signature, secret, WEBHOOK_TOLERANCE_SECONDS);
      } catch (error) {
        if (!(error instanceof Stripe.errors.StripeSignatureVerificationError)) throw error;
      }
    }
    throw new InvalidWebhookSignatureError();
  }
}
