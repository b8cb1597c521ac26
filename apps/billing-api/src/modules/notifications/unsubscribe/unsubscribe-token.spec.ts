import { describe, expect, it } from '@jest/globals';
import { AppConfig } from '../../../platform/config/app-config.js';
import {
  DEV_UNSUBSCRIBE_SECRET,
  InvalidEnvironmentError,
  validateEnvironment,
} from '../../../platform/config/environment.js';
import { signUnsubscribeToken, verifyUnsubscribeToken } from './unsubscribe-token.js';

const SECRET = 'unit-test-unsubscribe-secret-0123456789abcdef';
const ACCOUNT = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

/** Flips one character of a base64url string to another valid one. */
function flip(s: string, at: number): string {
  const c = s[at] ?? 'A';
  return `${s.slice(0, at)}${c === 'A' ? 'B' : 'A'}${s.slice(at + 1)}`;
}

describe('unsubscribe tokens (R-NOT-3)', () => {
  it('round-trips the account and template, compactly and URL-safe', () => {
    const token = signUnsubscribeToken(SECRET, { accountId: ACCOUNT, template: 'card_expiring' });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(token.length).toBeLessThan(100);
    expect(verifyUnsubscribeToken(SECRET, token)).toEqual({ accountId: ACCOUNT, template: 'card_expiring' });
    // Upper-case ids sign the same account.
    expect(
      signUnsubscribeToken(SECRET, { accountId: ACCOUNT.toUpperCase(), template: 'card_expiring' }),
    ).toBe(token);
  });

  it('refuses another secret, an altered payload or signature, and malformed input', () => {
    const token = signUnsubscribeToken(SECRET, { accountId: ACCOUNT, template: 'card_expiring' });
    const [payload = '', signature = ''] = token.split('.');
    expect(verifyUnsubscribeToken(`${SECRET}x`, token)).toBeNull();
    for (let i = 0; i < payload.length; i++) {
      expect(verifyUnsubscribeToken(SECRET, `${flip(payload, i)}.${signature}`)).toBeNull();
    }
    expect(verifyUnsubscribeToken(SECRET, `${payload}.${flip(signature, 5)}`)).toBeNull();
    expect(verifyUnsubscribeToken(SECRET, `${payload}.${signature.slice(0, -2)}`)).toBeNull();
    expect(verifyUnsubscribeToken(SECRET, `${payload}.${signature}.x`)).toBeNull();
    expect(verifyUnsubscribeToken(SECRET, `${payload}=.${signature}`)).toBeNull();
    expect(verifyUnsubscribeToken(SECRET, payload)).toBeNull();
    expect(verifyUnsubscribeToken(SECRET, '')).toBeNull();
    expect(verifyUnsubscribeToken(SECRET, undefined)).toBeNull();
    expect(verifyUnsubscribeToken(SECRET, 'a'.repeat(600))).toBeNull();
  });

  it('binds the template: a token for one template is not a token for another', () => {
    const reminder = signUnsubscribeToken(SECRET, { accountId: ACCOUNT, template: 'card_expiring' });
    const receipt = signUnsubscribeToken(SECRET, { accountId: ACCOUNT, template: 'payment_succeeded' });
    const swapped = `${receipt.split('.')[0]}.${reminder.split('.')[1]}`;
    expect(verifyUnsubscribeToken(SECRET, swapped)).toBeNull();
    // Signed tokens of a transactional template verify here; the endpoint refuses them by kind.
    expect(verifyUnsubscribeToken(SECRET, receipt)?.template).toBe('payment_succeeded');
  });

  it('refuses to sign what it could not verify', () => {
    expect(() => signUnsubscribeToken(SECRET, { accountId: 'acc-1', template: 'card_expiring' })).toThrow(
      'UUID',
    );
    expect(() => signUnsubscribeToken(SECRET, { accountId: ACCOUNT, template: 'Card Expiring' })).toThrow(
      'template',
    );
  });
});

describe('unsubscribe configuration', () => {
  const problemsOf = (raw: Record<string, string>): string[] => {
    try {
      validateEnvironment(raw);
      return [];
    } catch (e) {
      if (e instanceof InvalidEnvironmentError) return e.problems;
      throw e;
    }
  };

  it('uses a development secret and localhost outside production', () => {
    const config = new AppConfig(validateEnvironment({}));
    expect(config.notifications.unsubscribeSecret).toBe(DEV_UNSUBSCRIBE_SECRET);
    expect(config.http.publicBaseUrl).toBe('http://localhost:3000');
    const custom = new AppConfig(
      validateEnvironment({
        PUBLIC_BASE_URL: 'https://billing.example.com/',
        NOTIFICATIONS_UNSUBSCRIBE_SECRET: SECRET,
      }),
    );
    expect(custom.http.publicBaseUrl).toBe('https://billing.example.com');
    expect(custom.notifications.unsubscribeSecret).toBe(SECRET);
  });

  it('requires a real secret of 32+ characters in production and a URL as PUBLIC_BASE_URL', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toContain(
      'NOTIFICATIONS_UNSUBSCRIBE_SECRET: must be set in production (32+ characters)',
    );
    expect(
      problemsOf({ NODE_ENV: 'production', NOTIFICATIONS_UNSUBSCRIBE_SECRET: DEV_UNSUBSCRIBE_SECRET }),
    ).toContain('NOTIFICATIONS_UNSUBSCRIBE_SECRET: the development secret is not allowed in production');
    const short = problemsOf({ NOTIFICATIONS_UNSUBSCRIBE_SECRET: 'too-short-secret' });
    expect(short.length).toBeGreaterThan(0);
    expect(short.every((p) => p.startsWith('NOTIFICATIONS_UNSUBSCRIBE_SECRET:'))).toBe(true);
    expect(short.join('\n')).not.toContain('too-short-secret');
    expect(problemsOf({ PUBLIC_BASE_URL: 'billing.example.com' })[0]).toMatch(/^PUBLIC_BASE_URL:/);
  });
});
