import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { SignJWT } from 'jose';
import { AppConfig } from '../config/app-config.js';
import { validateEnvironment } from '../config/environment.js';
import { InvalidTokenError, TokenVerifier } from './token-verifier.js';

const SECRET = 'unit-test-jwt-secret-0123456789abcdef0123';

const verifier = () => new TokenVerifier(new AppConfig(validateEnvironment({ JWT_SECRET: SECRET })));

function sign(claims: Record<string, unknown>, expiresAt: number, secret = SECRET): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('user-1')
    .setExpirationTime(expiresAt)
    .sign(new TextEncoder().encode(secret));
}

describe('TokenVerifier (R-API-2) and its cache of verified tokens', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('a token verified before stays accepted until its exp and no longer, cache or not', async () => {
    const start = new Date('2026-11-22T10:00:00Z');
    jest.useFakeTimers({ now: start, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const v = verifier();
    const token = await sign({ role: 'owner', account_id: 'acc-1' }, start.getTime() / 1000 + 30);
    const principal = { userId: 'user-1', accountId: 'acc-1', role: 'owner' };
    await expect(v.verify(token)).resolves.toEqual(principal);
    jest.setSystemTime(start.getTime() + 29_000);
    await expect(v.verify(token)).resolves.toEqual(principal);
    jest.setSystemTime(start.getTime() + 31_000);
    await expect(v.verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('never caches a rejection: a forged token fails every time, a valid one then passes', async () => {
    const v = verifier();
    const exp = Math.floor(Date.now() / 1000) + 600;
    const forged = await sign({ role: 'admin' }, exp, 'another-secret-0123456789abcdef0123456789');
    await expect(v.verify(forged)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(v.verify(forged)).rejects.toBeInstanceOf(InvalidTokenError);
    // A valid member token whose payload is swapped for an admin one keeps a signature that no longer fits.
    const member = await sign({ role: 'member', account_id: 'acc-1' }, exp);
    await expect(v.verify(member)).resolves.toMatchObject({ role: 'member' });
    const [header, payload, signature] = member.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
    const elevated = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    await expect(v.verify(`${header}.${elevated}.${signature}`)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(v.verify(await sign({ role: 'admin' }, exp))).resolves.toMatchObject({ role: 'admin' });
  });

  // Issue 16 (9): issuer and audience are checked when configured, and a token that names them is not
  // accepted by a service that was told neither.
  it('checks issuer and audience: when configured, and when the token carries them', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const signed = (iss?: string, aud?: string): Promise<string> => {
      const jwt = new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('u')
        .setExpirationTime(exp);
      if (iss) jwt.setIssuer(iss);
      if (aud) jwt.setAudience(aud);
      return jwt.sign(new TextEncoder().encode(SECRET));
    };
    const plain = verifier();
    await expect(plain.verify(await signed())).resolves.toMatchObject({ role: 'admin' });
    await expect(plain.verify(await signed(undefined, 'another-service'))).rejects.toThrow(/JWT_AUDIENCE/);
    await expect(plain.verify(await signed('https://idp.test'))).rejects.toThrow(/JWT_ISSUER/);

    const configured = new TokenVerifier(
      new AppConfig(
        validateEnvironment({ JWT_SECRET: SECRET, JWT_ISSUER: 'https://idp.test', JWT_AUDIENCE: 'billing' }),
      ),
    );
    await expect(configured.verify(await signed('https://idp.test', 'billing'))).resolves.toMatchObject({
      role: 'admin',
    });
    for (const [iss, aud] of [
      ['https://idp.test', 'another-service'],
      ['https://evil.test', 'billing'],
      [undefined, 'billing'],
      ['https://idp.test', undefined],
    ] as const) {
      await expect(configured.verify(await signed(iss, aud))).rejects.toBeInstanceOf(InvalidTokenError);
    }
  });
});
