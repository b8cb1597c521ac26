import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { signPayload } from '../../apps/billing-api/src/modules/integrations/signature.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { stripeRetriesOff, suspendedRenewal } from './dunning.support.js';
import { type EntitlementVerdictBody } from './entitlements.support.js';
import { startGuardedSample, type GuardedSample } from './guard-samples.support.js';
import { http, randomUUID, startPaymentsWorld, until, type PaymentsWorld } from './payments-support.js';
import { createCatalogue } from './stripe-mirrors.support.js';
import { createAccount } from './webhooks.support.js';

// Issue 19: the guard package as an integrator installs it, in sample Nest, Express and Fastify apps
// started here, against the real running service (api + worker): the read-only rule on a suspended
// account, the feature gate, the local cache invalidated by the signed `entitlements.updated` event (and
// not by a forged one), fail-open when the service is down.
describe('@billing/guard in sample Nest, Express and Fastify apps against the running service', () => {
  let w: PaymentsWorld;
  /** Between the samples and the service: stopped, the service is unreachable. */
  const service = new TcpProxy('127.0.0.1', 0);
  const samples: GuardedSample[] = [];
  let suspendedAccount: string;

  beforeAll(async () => {
    // The samples' receivers listen on this machine: allowed as private targets for the test only.
    w = await startPaymentsWorld({ INTEGRATIONS_ALLOW_PRIVATE_TARGETS: 'true' });
    await w.t.db.query(`UPDATE billing_settings SET rollout_percent = 100`);
    service.forwardTo('127.0.0.1', Number(new URL(w.t.url).port));
    await service.start(0);
    for (const name of ['nest', 'express', 'fastify'] as const) {
      samples.push(await startGuardedSample(w, name, `http://127.0.0.1:${service.port}`));
    }
    // The real path to a suspended account: a renewal that fails on a test clock, run by the dunning
    // module through Day 3, 5 and 7 (test/int/dunning-emails.int-spec.ts follows it with e-mails).
    await stripeRetriesOff(w);
    suspendedAccount = (await suspendedRenewal(w, await createCatalogue(w.stripe))).a.accountId;
  }, 120_000);
  afterAll(async () => {
    for (const s of samples) await s.close();
    await service.stop();
    await w?.close();
  });

  const verdict = (accountId: string) =>
    http<EntitlementVerdictBody>(w.t.url, 'GET', `/v1/accounts/${accountId}/entitlements`, {
      token: w.admin,
    });

  const call = (s: GuardedSample, method: string, path: string, accountId: string) =>
    http<{ error?: { code: string; message: string } }>(s.app.url, method, path, {
      headers: { 'x-account-id': accountId },
      ...(method === 'GET' ? {} : { body: {} }),
    });

  const setFlag = async (accountId: string, billingEnabled: boolean): Promise<void> => {
    const res = await http(w.t.url, 'PATCH', `/v1/admin/accounts/${accountId}/billing`, {
      token: w.admin,
      body: { billingEnabled },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(res.status).toBe(200);
  };

  describe.each(['nest', 'express', 'fastify'] as const)('the %s sample', (name) => {
    const sample = (): GuardedSample => samples.find((x) => x.name === name)!;

    it('a suspended account: 403 account_suspended on a change, 200 on a read and an export', async () => {
      const s = sample();
      expect((await verdict(suspendedAccount)).body).toMatchObject({
        state: 'suspended',
        accessMode: 'read_only',
      });
      const created = await call(s, 'POST', '/projects', suspendedAccount);
      expect(created.status).toBe(403);
      expect(created.body.error).toMatchObject({ code: 'account_suspended' });
      expect(created.body.error?.message).toMatch(/read-only/);
      const read = await call(s, 'GET', '/projects', suspendedAccount);
      expect(read.status).toBe(200);
      expect(read.headers.get('x-billing-decision')).toBe('entitled');
      expect((await call(s, 'POST', '/exports', suspendedAccount)).status).toBe(201);
    });

    it('an account with full access may change things; a request without an account is not checked', async () => {
      const s = sample();
      const a = await createAccount(w.t.url, w.admin);
      const created = await call(s, 'POST', '/projects', a);
      expect(created.status).toBe(201);
      expect(created.headers.get('x-billing-decision')).toBe('entitled');
      const anonymous = await http(s.app.url, 'POST', '/projects', { body: {} });
      expect(anonymous).toMatchObject({ status: 201 });
      expect(anonymous.headers.get('x-billing-decision')).toBe('no_account');
    });

    it('the feature gate, and the signed entitlements.updated event clearing the local cache (a forged one does not)', async () => {
      const s = sample();
      const a = await createAccount(w.t.url, w.admin);
      // Free: no sso. The sample keeps this verdict for ten minutes.
      const refused = await call(s, 'GET', '/sso', a);
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({ code: 'feature_not_entitled' });

      // The sample looks down to the service: the event about the change cannot reach it yet.
      await s.front.stop();
      await setFlag(a, false);
      expect((await verdict(a)).body).toMatchObject({ basis: 'billing_disabled', tier: 'business' });
      await until(async () => {
        const rows = await w.t.db.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM integration_delivery_attempts t
             JOIN integration_deliveries d ON d.id = t.delivery_id
             JOIN integration_events e ON e.id = d.event_id
            WHERE d.endpoint_id = $1 AND e.account_id = $2 AND t.error IS NOT NULL`,
          [s.endpoint.id, a],
        );
        return rows[0]!.n > 0;
      }, 'a failed delivery of the event to the stopped sample');

      // A forged event (wrong secret) straight to the sample: refused, and the cache keeps its verdict.
      const body = JSON.stringify({ id: randomUUID(), type: 'entitlements.updated', accountId: a, data: {} });
      const forged = await fetch(`${s.app.url}/billing/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-billing-signature': signPayload(
            'whsec_not_the_secret_0000',
            body,
            Math.floor(Date.now() / 1000),
          ),
        },
        body,
      });
      expect(forged.status).toBe(400);
      expect((await call(s, 'GET', '/sso', a)).status).toBe(403);

      // The service retries the real, signed event; once it lands the next request sees the new verdict.
      await s.front.start();
      const allowed = await until(async () => {
        const res = await call(s, 'GET', '/sso', a);
        return res.status === 200 ? res : null;
      }, 'the sample to see billing off after the signed event');
      expect(allowed.body).toEqual({ sso: true });
    });

    it('fail-open: the service unreachable grants access and says why; back, the rule again', async () => {
      const s = sample();
      s.app.billing.invalidate(suspendedAccount);
      await service.stop();
      try {
        const open = await call(s, 'POST', '/projects', suspendedAccount);
        expect(open.status).toBe(201);
        expect(open.headers.get('x-billing-decision')).toBe('service_unreachable');
      } finally {
        await service.start();
      }
      const back = await until(async () => {
        const res = await call(s, 'POST', '/projects', suspendedAccount);
        return res.status === 403 ? res : null;
      }, 'the read-only rule once the service is back');
      expect(back.body.error).toMatchObject({ code: 'account_suspended' });
    });
  });
});
