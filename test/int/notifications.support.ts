import { randomUUID } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type Stripe from 'stripe';
export { pdfText } from '../support/pdf-text.js';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { http } from '../support/test-app.js';
import { SECRET, until } from './webhooks.support.js';

/** Helpers of the notifications, receipts and integrations suites. */

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** Header names in lower case, values unfolded (as sent, encoded words left as they are). */
  headers: Record<string, string>;
  /** The decoded subject (encoded words undone). */
  subject: string;
  /** The decoded text body (of the text/plain part of a multipart mail). */
  text: string;
  /** The decoded HTML part; null when the mail has none. */
  html: string | null;
  /** The SMTP connection (session) it came over. */
  connection: string;
}

/** Headers, text and HTML of a raw message, decoded by mailparser (multipart, quoted-printable, base64). */
export async function parseMail(
  raw: string,
): Promise<{ headers: Record<string, string>; subject: string; text: string; html: string | null }> {
  const parsed = await simpleParser(raw);
  const headers: Record<string, string> = {};
  for (const { key, line } of parsed.headerLines) {
    headers[key] = line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
  }
  return {
    headers,
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : null,
  };
}

/** An in-process SMTP server (smtp-server) that keeps every message it accepts. */
export class TestSmtpServer {
  readonly mails: ReceivedMail[] = [];
  private server: SMTPServer;
  private waiters: (() => void)[] = [];
  port = 0;
  /** When set, the next n messages are refused with a transient error. */
  refuseNext = 0;
  /** When set, the next n messages get no answer until `release()`. */
  holdNext = 0;
  /** The answers held back by `holdNext`. */
  readonly held: (() => void)[] = [];
  /** SMTP connections open now, and the most that were ever open at once. */
  open = 0;
  maxOpen = 0;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onConnect: (_session, callback) => {
        this.open += 1;
        this.maxOpen = Math.max(this.maxOpen, this.open);
        callback();
      },
      onClose: () => {
        this.open -= 1;
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (this.holdNext > 0) {
            this.holdNext -= 1;
            this.held.push(() => answer());
            for (const wake of this.waiters.splice(0)) wake();
            return;
          }
          answer();
        });
        const answer = (): void => {
          if (this.refuseNext > 0) {
            this.refuseNext -= 1;
            const error = new Error('try again later') as Error & { responseCode: number };
            error.responseCode = 451;
            callback(error);
            return;
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
          parseMail(raw).then(
            (parsed) => {
              this.mails.push({
                from,
                to: session.envelope.rcptTo.map((r) => r.address),
                raw,
                connection: session.id,
                ...parsed,
              });
              for (const wake of this.waiters.splice(0)) wake();
              callback();
            },
            (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
          );
        };
      },
    });
  }

  /** Answers the messages held back by `holdNext`. */
  release(): void {
    for (const answer of this.held.splice(0)) answer();
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as { port: number }).port;
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Resolves once a mail matching `match` has arrived (or rejects after the timeout). */
  async waitFor(
    match: (m: ReceivedMail) => boolean,
    what: string,
    timeoutMs = 20_000,
  ): Promise<ReceivedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.mails.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no mail: ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Creates an account through the admin API with the given locale and time zone; returns its id. */
export async function createAccountWith(
  url: string,
  adminToken: string,
  settings: { locale: string; timeZone: string; billingEmail: string },
): Promise<string> {
  const response = await http<{ id: string }>(url, 'POST', '/v1/admin/accounts', {
    token: adminToken,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      name: `Receipts account ${randomUUID().slice(0, 8)}`,
      ...settings,
      owner: { userId: `owner-${randomUUID()}`, email: 'owner@example.test' },
    },
  });
  if (response.status !== 201) throw new Error(`account creation answered ${response.status}`);
  return response.body.id;
}

/** Spaces of any width as plain spaces (Intl puts no-break spaces in amounts and dates). */
export const plain = (s: string): string => s.replace(/[\u00a0\u202f]/gu, ' ');

/** The app (role all) fed by an in-process emulator's signed webhooks, with an SMTP test server. */
export interface PaymentsStack extends StripeWorld {
  smtp: TestSmtpServer;
}

export async function startPaymentsStack(env: Record<string, string> = {}): Promise<PaymentsStack> {
  const smtp = new TestSmtpServer();
  const smtpUrl = await smtp.start();
  const world = await startStripeWorld({ env: { SMTP_URL: smtpUrl, ...env }, secret: SECRET });
  return {
    ...world,
    smtp,
    close: async () => {
      await world.close();
      await smtp.close();
    },
  };
}

/** An account (admin API) with a Stripe customer linked by metadata. */
export async function accountWithCustomer(
  s: PaymentsStack,
  locale: string,
  timeZone: string,
): Promise<{ accountId: string; customer: string; billingEmail: string }> {
  const billingEmail = `billing-${randomUUID().slice(0, 8)}@example.test`;
  const accountId = await createAccountWith(s.t.url, s.admin, { locale, timeZone, billingEmail });
  const customer = await s.stripe.customers.create({
    email: billingEmail,
    metadata: { account_id: accountId },
  });
  return { accountId, customer: customer.id, billingEmail };
}

/** A confirmed card payment made directly through the emulator (metadata links the account). */
export function payByCard(
  s: PaymentsStack,
  a: { accountId: string; customer: string },
  amount: number,
  currency: string,
  card = 'pm_card_visa',
): Promise<Stripe.PaymentIntent> {
  return s.stripe.paymentIntents.create({
    amount,
    currency,
    customer: a.customer,
    payment_method: card,
    confirm: true,
    metadata: { account_id: a.accountId },
  });
}

/** The outbox rows of an account (template, dedupe key), once every one of them is marked sent. */
export function notificationsSent(
  s: PaymentsStack,
  accountId: string,
  what = 'every e-mail of the account sent',
): Promise<{ template: string; dedupe_key: string; status: string }[]> {
  return until(async () => {
    const found = await s.t.db.query<{ template: string; dedupe_key: string; status: string }[]>(
      `SELECT template, dedupe_key, status FROM notifications WHERE account_id = $1 ORDER BY dedupe_key`,
      [accountId],
    );
    return found.every((r) => r.status === 'sent') ? found : null;
  }, what);
}
