import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { signPayload, verifySignature } from './signature.js';

describe('X-Billing-Signature', () => {
  const secret = 'whsec_0123456789abcdef';
  const body = '{"id":"e1","type":"payment.succeeded"}';

  it('is t=<seconds>,v1=<HMAC-SHA256 hex of "t.body">', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(signPayload(secret, body, 1_700_000_000)).toBe(`t=1700000000,v1=${expected}`);
  });

  it('verifies the body it signed, and nothing else', () => {
    const header = signPayload(secret, body, 1_700_000_000);
    expect(verifySignature(secret, body, header, 1_700_000_100)).toBe(true);
    expect(verifySignature(secret, `${body} `, header, 1_700_000_100)).toBe(false);
    expect(verifySignature('whsec_other_secret_000', body, header, 1_700_000_100)).toBe(false);
    expect(verifySignature(secret, body, header, 1_700_000_301)).toBe(false);
    expect(verifySignature(secret, body, 'garbage', 1_700_000_000)).toBe(false);
  });
});
