import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { createRootLogger } from '../../apps/billing-api/src/platform/logging/logger.js';
import { TestSmtpServer } from './notifications.support.js';
import { until } from './webhooks.support.js';
import {
  accountWithCustomer,
  attachMethod,
  http,
  paySucceeded,
  randomUUID,
  startPaymentsWorld,
  type PaymentsWorld,
  type TestAccount,
} from './payments-support.js';

interface ErrorBody {
  error: { code: string; message: string; param?: string; request_id: string };
}

/** Sends bytes as they are (fetch would re-encode a string body as UTF-8). */
function rawPost(
  url: string,
  path: string,
  method: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; body: ErrorBody }> {
  return new Promise((resolve, reject) => {
    const target = new URL(path, url);
    const req = httpRequest(
      target,
      { method, headers: { 'content-type': 'application/json', 'content-length': body.length, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ErrorBody,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Every row of every table of ours, as one text: compared before and after a refused request. The keys
 * of the setup's own requests are still settled in the background here (the fuzz test, which waits for
 * quiet, checks `idempotency_keys` too).
 */
async function snapshot(w: PaymentsWorld): Promise<string> {
  const tables = await w.t.db.query<{ table_name: string }[]>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
       AND table_name NOT IN ('idempotency_keys', 'migrations') ORDER BY table_name`,
  );
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const rows = await w.t.db.query<{ sum: string | null; n: string }[]>(
      `SELECT count(*)::text AS n, md5(string_agg(t::text, ',' ORDER BY t::text)) AS sum FROM "${table_name}" t`,
    );
    parts.push(`${table_name}:${rows[0]?.n}:${rows[0]?.sum ?? ''}`);
  }
  return parts.join('\n');
}

// Issue 16, defects 4, 5, 7 and 8: bad input is a 400 with a code and changes nothing; card data in the
// request line is refused; the document and the service agree on empty filters and methods.
describe('input hardening (issue 16)', () => {
  let w: PaymentsWorld;
  let a: TestAccount;
  let paymentId: string;

  let smtp: TestSmtpServer;

  beforeAll(async () => {
    // The setup payment's receipt e-mail is delivered (not retried against a missing SMTP server), so
    // no background work changes a table while a refused request is compared.
    smtp = new TestSmtpServer();
    w = await startPaymentsWorld({ SMTP_URL: await smtp.start() });
    a = await accountWithCustomer(w);
    const method = await attachMethod(w, a, 'pm_card_visa');
    paymentId = (await paySucceeded(w, a, method, 5000)).id;
    await until(async () => {
      const [left] = await w.t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM notifications WHERE status <> 'sent'`,
      );
      return left?.n === 0;
    }, 'the setup e-mails sent');
  }, 60_000);
  afterAll(async () => {
    await w?.close();
    await smtp?.close();
  });

  const expectRefused = async (
    response: Promise<{ status: number; body: unknown }>,
    code: string,
    param?: string,
  ): Promise<void> => {
    const before = await snapshot(w);
    const r = await response;
    expect({ status: r.status, code: (r.body as ErrorBody).error?.code }).toEqual({ status: 400, code });
    if (param !== undefined) expect((r.body as ErrorBody).error.param).toBe(param);
    expect(await snapshot(w)).toBe(before);
  };

  describe('defect 4: no 500 on bad input', () => {
    it('refuses null for a settings field the account cannot be without (locale, billingEmail)', async () => {
      for (const field of ['locale', 'billingEmail', 'timeZone', 'name']) {
        await expectRefused(
          http(w.t.url, 'PATCH', `/v1/accounts/${a.accountId}`, {
            token: a.owner,
            body: { [field]: null },
            headers: { 'idempotency-key': randomUUID() },
          }),
          'validation_failed',
          field,
        );
      }
    });

    it('refuses a refund of 1e20', async () => {
      await expectRefused(
        http(w.t.url, 'POST', `/v1/payments/${paymentId}/refunds`, {
          token: w.admin,
          body: { amount: 1e20, reason: 'requested_by_customer' },
          headers: { 'idempotency-key': randomUUID() },
        }),
        'validation_failed',
        'amount',
      );
    });

    it('refuses an amount filter past the integers JSON and PostgreSQL agree on', async () => {
      for (const q of ['amountMax=99999999999999999999999', 'amountMin=1e300']) {
        const r = await http<ErrorBody>(w.t.url, 'GET', `/v1/payments?${q}`, { token: a.owner });
        expect({ status: r.status, code: r.body.error?.code }).toEqual({
          status: 400,
          code: 'validation_failed',
        });
      }
    });

    it('refuses U+0000 and lone surrogates in any string of a body, keys included', async () => {
      const pay = (description: unknown) =>
        rawPost(
          w.t.url,
          '/v1/payments',
          'POST',
          Buffer.from(`{"amount":100,"currency":"usd","description":${String(description)}}`),
          { authorization: `Bearer ${a.owner}`, 'idempotency-key': randomUUID() },
        );
      await expectRefused(pay('"a\\u0000b"'), 'validation_failed', 'description');
      await expectRefused(pay('"\\ud800"'), 'invalid_encoding', 'description');
      await expectRefused(pay('"x\\udc00y"'), 'invalid_encoding', 'description');
      await expectRefused(
        rawPost(w.t.url, `/v1/accounts/${a.accountId}`, 'PATCH', Buffer.from('{"name":"ok","\\ud83d":"x"}'), {
          authorization: `Bearer ${a.owner}`,
        }),
        'invalid_encoding',
      );
      // A whole surrogate pair is a character like any other.
      const ok = await http<{ name: string }>(w.t.url, 'PATCH', `/v1/accounts/${a.accountId}`, {
        token: a.owner,
        body: { name: 'Acme \ud83d\ude00' },
      });
      expect(ok.status).toBe(200);
      expect(ok.body.name).toBe('Acme \u{1F600}');
    });

    it('refuses U+0000 in the query', async () => {
      const r = await http<ErrorBody>(w.t.url, 'GET', '/v1/payments?orderReference=a%00b', {
        token: a.owner,
      });
      expect({ status: r.status, code: r.body.error.code, param: r.body.error.param }).toEqual({
        status: 400,
        code: 'validation_failed',
        param: 'orderReference',
      });
    });

    it('refuses a 5,000-level nested body with an Idempotency-Key before it is fingerprinted', async () => {
      const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
      await expectRefused(
        rawPost(
          w.t.url,
          '/v1/payments',
          'POST',
          Buffer.from(`{"amount":100,"currency":"usd","metadata":${deep}}`),
          { authorization: `Bearer ${a.owner}`, 'idempotency-key': randomUUID() },
        ),
        'body_too_deep',
      );
      await expectRefused(
        rawPost(
          w.t.url,
          `/v1/accounts/${a.accountId}`,
          'PATCH',
          Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`),
          {
            authorization: `Bearer ${a.owner}`,
            'idempotency-key': randomUUID(),
          },
        ),
        'body_too_deep',
      );
    });
  });

  describe('defect 5: invalid UTF-8', () => {
    it('refuses bytes that are not UTF-8 with invalid_encoding instead of storing U+FFFD', async () => {
      const bad = Buffer.concat([
        Buffer.from('{"name":"'),
        Buffer.from([0xff, 0xfe, 0xfd]),
        Buffer.from('"}'),
      ]);
      await expectRefused(
        rawPost(w.t.url, `/v1/accounts/${a.accountId}`, 'PATCH', bad, { authorization: `Bearer ${a.owner}` }),
        'invalid_encoding',
      );
      // An encoded surrogate (CESU-8) and an overlong encoding are not UTF-8 either.
      for (const bytes of [
        [0xed, 0xa0, 0x80],
        [0xc0, 0xaf],
      ]) {
        const body = Buffer.concat([Buffer.from('{"name":"x'), Buffer.from(bytes), Buffer.from('"}')]);
        await expectRefused(
          rawPost(w.t.url, `/v1/accounts/${a.accountId}`, 'PATCH', body, {
            authorization: `Bearer ${a.owner}`,
          }),
          'invalid_encoding',
        );
      }
      const payment = Buffer.concat([
        Buffer.from('{"amount":100,"currency":"usd","description":"'),
        Buffer.from([0xff]),
        Buffer.from('"}'),
      ]);
      await expectRefused(
        rawPost(w.t.url, '/v1/payments', 'POST', payment, {
          authorization: `Bearer ${a.owner}`,
          'idempotency-key': randomUUID(),
        }),
        'invalid_encoding',
      );
    });
  });

  describe('defect 7: card numbers and personal data never reach a log line', () => {
    it('refuses a card number in the path or in a header, and never takes it as the request id', async () => {
      for (const path of [`/v1/payments/4242424242424242`, `/v1/payments/4242%204242%204242%204242`]) {
        const r = await http<ErrorBody>(w.t.url, 'GET', path, { token: a.owner });
        expect({ status: r.status, code: r.body.error.code }).toEqual({
          status: 400,
          code: 'card_data_forbidden',
        });
        expect(JSON.stringify(r.body)).not.toContain('4242');
      }
      const r = await http<ErrorBody>(w.t.url, 'GET', '/v1/payments', {
        token: a.owner,
        headers: { 'x-request-id': '4242424242424242' },
      });
      expect({ status: r.status, code: r.body.error.code, param: r.body.error.param }).toEqual({
        status: 400,
        code: 'card_data_forbidden',
        param: 'x-request-id',
      });
      expect(r.headers.get('x-request-id')).not.toContain('4242424242424242');
      const other = await http<ErrorBody>(w.t.url, 'GET', '/v1/payments', {
        token: a.owner,
        headers: { 'x-note': 'card 5555 5555 5555 4444' },
      });
      expect(other.body.error.param).toBe('x-note');
    });

    it("logs a database error without PostgreSQL's detail, the statement or its parameters", async () => {
      let failure: unknown;
      try {
        await w.t.db.query(
          `INSERT INTO accounts (id, name, billing_email, locale) VALUES ($1, $2, $3, NULL)`,
          [randomUUID(), 'Leaky Corp', 'private.person@leak.test'],
        );
      } catch (error) {
        failure = error;
      }
      expect(String((failure as { detail?: string }).detail)).toContain('private.person@leak.test');
      const lines: string[] = [];
      const logger = createRootLogger(
        'info',
        new Writable({
          write(chunk: Buffer, _e, done) {
            lines.push(chunk.toString());
            done();
          },
        }),
      );
      logger.error({ err: failure }, 'request failed with an internal error');
      logger.error({ error: failure }, 'job failed');
      const text = lines.join('');
      expect(text).not.toContain('private.person@leak.test');
      expect(text).not.toContain('Leaky Corp');
      expect(text).toContain('23502'); // the SQLSTATE stays, to tell what went wrong
    });
  });

  describe('defect 8: the service as the document says', () => {
    it('takes an empty cursor or date filter as absent', async () => {
      for (const q of ['cursor=', 'createdFrom=&createdTo=', 'cursor=&limit=5']) {
        const r = await http<{ data: unknown[] }>(w.t.url, 'GET', `/v1/payments?${q}`, { token: a.owner });
        expect(r.status).toBe(200);
        expect(r.body.data.length).toBeGreaterThan(0);
      }
    });

    it('answers 405 with Allow and the error shape for a method a known path does not serve', async () => {
      const r = await http<ErrorBody>(w.t.url, 'DELETE', `/v1/accounts/${a.accountId}`, { token: a.owner });
      expect(r.status).toBe(405);
      expect(r.body.error.code).toBe('method_not_allowed');
      expect(r.headers.get('allow')).toBe('GET, HEAD, PATCH');
      const unknown = await http<ErrorBody>(w.t.url, 'DELETE', '/v1/nowhere', { token: a.owner });
      expect({ status: unknown.status, code: unknown.body.error.code }).toEqual({
        status: 404,
        code: 'not_found',
      });
    });
  });
});
