import { describe, expect, it } from '@jest/globals';
import { signPayload } from '../../../apps/billing-api/src/modules/integrations/signature.js';
import type { Verdict } from './client.js';
import { decide, refusalBody } from './decide.js';
import { verifyBillingSignature } from './signature.js';

const verdict = (over: Partial<Verdict> = {}): Verdict => ({
  accountId: '7d3f7a4e-0000-4000-8000-000000000001',
  tier: 'pro',
  features: ['api', 'core'],
  limits: { seats: { total: 5, used: 1 } },
  accessMode: 'full',
  banners: [],
  basis: 'subscription',
  reason: 'subscription_state',
  state: 'active',
  billing: { enabled: true, accountFlag: true, rolloutPercent: 100 },
  dunningStage: null,
  nextChange: null,
  ...over,
});

describe('decide: the read-only rule and the feature gate', () => {
  const readOnly = verdict({ accessMode: 'read_only', state: 'suspended' });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'post'])(
    'read_only refuses %s with account_suspended',
    (method) => {
      const d = decide(readOnly, { method });
      expect(d).toMatchObject({ allowed: false, status: 403, code: 'account_suspended' });
      expect(d.allowed ? null : refusalBody(d).error).toMatchObject({ code: 'account_suspended' });
    },
  );

  it.each(['GET', 'HEAD', 'OPTIONS'])('read_only lets %s through', (method) => {
    expect(decide(readOnly, { method })).toMatchObject({ allowed: true, reason: 'entitled' });
  });

  it('read_only lets a mutating request marked allowed when read-only through (exports)', () => {
    expect(decide(readOnly, { method: 'POST', allowWhenReadOnly: true }).allowed).toBe(true);
  });

  it('full access lets mutations through', () => {
    expect(decide(verdict(), { method: 'DELETE' }).allowed).toBe(true);
  });

  it('a feature the verdict lacks is refused with feature_not_entitled; one it lists passes', () => {
    expect(decide(verdict(), { method: 'GET', features: ['sso'] })).toMatchObject({
      allowed: false,
      code: 'feature_not_entitled',
      message: 'The pro plan does not include "sso".',
    });
    expect(decide(verdict(), { method: 'GET', features: ['api', 'core'] }).allowed).toBe(true);
  });
});

describe('verifyBillingSignature: the service signature scheme', () => {
  const body = JSON.stringify({ type: 'entitlements.updated', accountId: 'a' });
  const now = 1_900_000_000;

  it('accepts what the service signs and nothing else', () => {
    const header = signPayload('whsec_x', body, now);
    expect(verifyBillingSignature('whsec_x', body, header, now)).toBe(true);
    expect(verifyBillingSignature('whsec_x', Buffer.from(body), header, now + 299)).toBe(true);
    expect(verifyBillingSignature('whsec_y', body, header, now)).toBe(false);
    expect(verifyBillingSignature('whsec_x', `${body} `, header, now)).toBe(false);
    expect(verifyBillingSignature('whsec_x', body, header, now + 301)).toBe(false);
    expect(verifyBillingSignature('whsec_x', body, undefined, now)).toBe(false);
    expect(verifyBillingSignature('whsec_x', body, 't=abc,v1=00', now)).toBe(false);
  });

  it('accepts any of two v1 signatures (a secret being rolled)', () => {
    const header = `${signPayload('whsec_old', body, now)},v1=${signPayload('whsec_new', body, now).split('v1=')[1]}`;
    expect(verifyBillingSignature('whsec_new', body, header, now)).toBe(true);
    expect(verifyBillingSignature('whsec_old', body, header, now)).toBe(true);
  });
});
