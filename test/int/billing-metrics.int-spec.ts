import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { load } from 'js-yaml';
import { readFileSync } from 'node:fs';
import { startPaymentsStack, type PaymentsStack } from './notifications.support.js';
import {
  accountWithCustomer,
  attachMethod,
  http,
  paySucceeded,
  randomUUID,
  savedDeclineCard,
  type TestAccount,
} from './payments-support.js';
import { tokenFor } from '../support/test-app.js';
import { metricValue, until } from './webhooks.support.js';

interface AlertRule {
  alert: string;
  expr: string;
  labels?: { severity?: string };
  annotations?: { summary?: string; runbook?: string };
}

/** GitHub's anchor of a Markdown heading. */
const anchorOf = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');

describe('metrics of payments, refunds and e-mails (R-OPS-3), and the alert rules that read them', () => {
  let s: PaymentsStack;
  let a: TestAccount;
  let visa: string;

  const value = (name: string, labels: string) => metricValue(s.t.url, name, labels);
  const payments = (status: string) => value('billing_payment_status_changes_total', `status="${status}"`);

  beforeAll(async () => {
    s = await startPaymentsStack();
    a = await accountWithCustomer(s);
    visa = await attachMethod(s, a, 'pm_card_visa');
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  it('counts each committed payment status change once, by the status reached, on the API path and the webhook path', async () => {
    const succeeded = await payments('succeeded');
    const failed = await payments('failed');
    const receiptsSent = await value('billing_emails_total', 'template="payment_succeeded",outcome="sent"');

    // API path: the status moves in the statement that applies Stripe's answer; the webhook that
    // confirms it changes nothing and counts nothing.
    await paySucceeded(s, a, visa, 1200);
    expect(await payments('succeeded')).toBe(succeeded + 1);

    const declining = await savedDeclineCard(s, a, '4000000000000002');
    const declined = await http<{ status: string }>(s.t.url, 'POST', '/v1/payments', {
      token: a.owner,
      body: { amount: 700, currency: 'usd', paymentMethodId: declining },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(declined.status).toBe(402);
    expect(await payments('failed')).toBe(failed + 1);

    // Webhook path: a payment made in Stripe directly, mirrored from its events.
    await s.stripe.paymentIntents.create({
      amount: 900,
      currency: 'usd',
      customer: a.customerId,
      payment_method: 'pm_card_visa',
      confirm: true,
      metadata: { account_id: a.accountId },
    });
    await until(async () => (await payments('succeeded')) === succeeded + 2, 'the mirrored payment counted');

    // Each receipt e-mail counts as sent once the SMTP server took it.
    await until(
      async () =>
        (await value('billing_emails_total', 'template="payment_succeeded",outcome="sent"')) ===
        receiptsSent + 2,
      'both receipts counted as sent',
    );
    expect(await payments('succeeded')).toBe(succeeded + 2);
  }, 60_000);

  it('counts refunds by outcome, and an e-mail attempt the SMTP server refused as retrying', async () => {
    const paid = await paySucceeded(s, a, visa, 5000);
    const refunded = await value('billing_refund_status_changes_total', 'status="succeeded"');
    const partially = await payments('partially_refunded');
    const retrying = await value('billing_emails_total', 'template="refund_issued",outcome="retrying"');
    const sent = await value('billing_emails_total', 'template="refund_issued",outcome="sent"');

    await until(async () => s.smtp.mails.length > 0, 'the receipt mailed first');
    s.smtp.refuseNext = 1;
    const res = await http<{ status: string }>(s.t.url, 'POST', `/v1/payments/${paid.id}/refunds`, {
      token: await tokenFor({ sub: `finance-${randomUUID()}`, role: 'finance' }),
      body: { amount: 2000, reason: 'requested_by_customer' },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(res.status).toBe(201);
    await until(
      async () => (await value('billing_refund_status_changes_total', 'status="succeeded"')) === refunded + 1,
      'the refund counted as succeeded',
    );
    await until(async () => (await payments('partially_refunded')) === partially + 1, 'the payment counted');
    await until(
      async () =>
        (await value('billing_emails_total', 'template="refund_issued",outcome="sent"')) === sent + 1,
      'the refund e-mail sent after its retry',
      30_000,
    );
    expect(await value('billing_emails_total', 'template="refund_issued",outcome="retrying"')).toBe(
      retrying + 1,
    );
  }, 60_000);

  it('ships alert rules that read only metrics the service exposes, each with a severity and a runbook that exists', async () => {
    const exposition = await (await fetch(`${s.t.url}/metrics`)).text();
    const exposed = new Set([...exposition.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => m[1]));
    const file = load(readFileSync('docs/prometheus/billing-alerts.yml', 'utf8')) as {
      groups: { name: string; rules: AlertRule[] }[];
    };
    const rules = file.groups.flatMap((g) => g.rules);
    const headings = new Set(
      [...readFileSync('docs/operations.md', 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) =>
        anchorOf(m[1] ?? ''),
      ),
    );

    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'BillingFailedPaymentSpike',
        'BillingWebhookLag',
        'BillingWebhookDeadLetters',
        'BillingWebhookSignatureFailures',
      ]),
    );
    for (const rule of rules) {
      const metrics = [...rule.expr.matchAll(/\bbilling_[a-z_]+/g)].map((m) => m[0].replace(/_bucket$/, ''));
      expect({ alert: rule.alert, missing: metrics.filter((m) => !exposed.has(m)) }).toEqual({
        alert: rule.alert,
        missing: [],
      });
      expect(metrics.length).toBeGreaterThan(0);
      expect(['page', 'warning']).toContain(rule.labels?.severity);
      const anchor = /^docs\/operations\.md#(.+)$/.exec(rule.annotations?.runbook ?? '')?.[1];
      expect({ alert: rule.alert, anchor, found: anchor !== undefined && headings.has(anchor) }).toEqual({
        alert: rule.alert,
        anchor,
        found: true,
      });
    }
  });
});
