import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import { QUEUES } from '../../apps/billing-api/src/platform/queue/queue.registry.js';
import { http, tokenFor, type TestApp } from '../support/test-app.js';
import {
  createAccountWith,
  type PaymentsStack,
  type ReceivedMail,
  type TestSmtpServer,
} from './notifications.support.js';
import { attachMethod } from './payments-support.js';
import { until } from './webhooks.support.js';

/** Helpers of the receipts suite. */

/** A header as written (RFC 2047 encoded-words, `=?UTF-8?Q?…?=` or `=?UTF-8?B?…?=`, decoded). */
export function decodeHeader(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?') // whitespace between two encoded-words is not part of the text
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset: string, encoding: string, text: string) => {
      const bytes =
        encoding.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : Buffer.from(
              text
                .replace(/_/g, ' ')
                .replace(/=([0-9A-Fa-f]{2})/g, (__, hex: string) => String.fromCharCode(parseInt(hex, 16))),
              'latin1',
            );
      return new TextDecoder(charset).decode(bytes);
    });
}

export interface PayingAccount {
  accountId: string;
  owner: string;
  billingEmail: string;
  customerId: string;
  /** The saved `pm_card_visa` (4242) of the account. */
  visa: string;
}

/**
 * An account that pays through the API: its own billing e-mail, locale and time zone, a Stripe customer
 * made by the app's setup-intent endpoint, and a saved Visa card mirrored from its webhook.
 */
export async function payingAccount(
  s: PaymentsStack,
  settings: { locale: string; timeZone: string },
): Promise<PayingAccount> {
  const billingEmail = `billing-${randomUUID().slice(0, 8)}@example.test`;
  const accountId = await createAccountWith(s.t.url, s.admin, { ...settings, billingEmail });
  const owner = await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId });
  const si = await http(s.t.url, 'POST', '/v1/payment-methods/setup-intents', { token: owner });
  if (si.status !== 201) throw new Error(`setup intent answered ${si.status}: ${JSON.stringify(si.body)}`);
  const [row] = await s.t.db.query<{ c: string | null }[]>(
    `SELECT stripe_customer_id AS c FROM accounts WHERE id = $1`,
    [accountId],
  );
  if (!row?.c) throw new Error('no customer linked');
  const customerId = row.c;
  const visa = await attachMethod(s, { accountId, owner, member: owner, customerId }, 'pm_card_visa');
  return { accountId, owner, billingEmail, customerId, visa };
}

/** Resolves with the mails to `to` once there are `count` of them (woken by each arrival, no polling). */
export async function mailsTo(
  smtp: TestSmtpServer,
  to: string,
  count: number,
  timeoutMs = 30_000,
): Promise<ReceivedMail[]> {
  const received = (): ReceivedMail[] => smtp.mails.filter((m) => m.to.includes(to));
  await smtp.waitFor(() => received().length >= count, `${count} mails to ${to}`, timeoutMs);
  return received();
}

/** Waits until the notification outbox has sent everything of these accounts (queue and rows alike). */
export async function outboxSettled(t: TestApp, accountIds: readonly string[]): Promise<void> {
  const queue = t.app.get<Queue>(getQueueToken(QUEUES.notifications), { strict: false });
  await until(async () => {
    const counts = await queue.getJobCounts();
    const pending = await t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM notifications WHERE status = 'pending' AND account_id = ANY($1)`,
      [accountIds],
    );
    return counts.waiting + counts.active + counts.delayed === 0 && pending[0]?.n === 0;
  }, 'the notification outbox drained');
}
