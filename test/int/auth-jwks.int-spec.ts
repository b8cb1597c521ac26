import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { http, startTestApp, tokenFor, type TestApp } from '../support/test-app.js';

interface ErrorBody {
  error: { code: string };
}

describe('bearer tokens verified against a JWKS URL (R-API-2)', () => {
  let jwks: Server;
  let privateKey: CryptoKey;
  let t: TestApp;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    t = await startTestApp({
      role: 'api',
      env: {
        JWT_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
        JWT_ISSUER: 'https://idp.test',
        JWT_AUDIENCE: 'billing',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
  });

  const sign = (claims: Record<string, unknown>, issuer = 'https://idp.test'): Promise<string> =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('idp-admin')
      .setIssuer(issuer)
      .setAudience('billing')
      .setExpirationTime('5m')
      .sign(privateKey);

  it('accepts a token signed by a key of the set, with the expected issuer and audience', async () => {
    const r = await http(t.url, 'GET', '/v1/admin/accounts', { token: await sign({ role: 'admin' }) });
    expect(r.status).toBe(200);
  });

  it('refuses a token from another issuer, and an HS256 token, with 401', async () => {
    const wrongIssuer = await http<ErrorBody>(t.url, 'GET', '/v1/admin/accounts', {
      token: await sign({ role: 'admin' }, 'https://evil.test'),
    });
    expect(wrongIssuer.status).toBe(401);
    const hs256 = await http<ErrorBody>(t.url, 'GET', '/v1/admin/accounts', {
      token: await tokenFor({ sub: 'x', role: 'admin' }),
    });
    expect(hs256.status).toBe(401);
    expect(hs256.body.error.code).toBe('unauthenticated');
  });

  it('refuses a token without a known role', async () => {
    const r = await http<ErrorBody>(t.url, 'GET', '/v1/admin/accounts', {
      token: await sign({ role: 'superuser' }),
    });
    expect(r.status).toBe(401);
  });
});
