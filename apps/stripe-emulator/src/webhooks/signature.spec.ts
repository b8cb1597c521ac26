import { describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import { signatureHeader } from './signature.js';

describe('signatureHeader', () => {
  const stripe = new Stripe('sk_test_sig');

  it('matches the header the SDK itself generates for the same payload, secret and time', () => {
    const payload = JSON.stringify({ id: 'evt_1', object: 'event' });
    const expected = stripe.webhooks.generateTestHeaderString({
      payload,
      secret: 'whsec_abc',
      timestamp: 1_700_000_000,
    });
    expect(signatureHeader(payload, 'whsec_abc', 1_700_000_000)).toBe(expected);
  });

  it('is accepted by constructEvent at the signing time and refused once older than the tolerance', () => {
    const payload = JSON.stringify({ id: 'evt_2', object: 'event', type: 'customer.created' });
    const t = Math.floor(Date.now() / 1000);
    const header = signatureHeader(payload, 'whsec_x', t);
    expect(stripe.webhooks.constructEvent(payload, header, 'whsec_x').id).toBe('evt_2');
    expect(() =>
      stripe.webhooks.constructEvent(payload, header, 'whsec_x', 300, undefined, (t + 301) * 1000),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);
  });
});
