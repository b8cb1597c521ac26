import { formatMoney, money } from '@billing/domain';
import { formatDateTime } from '../../../platform/text/format-date-time.js';
import { isolateRightToLeft as v } from '../../../platform/text/bidi-isolation.js';
import { signUnsubscribeToken } from '../unsubscribe/unsubscribe-token.js';

/**
 * E-mail templates as data (R-NOT-2): each has a kind (transactional mails are always sent and carry no
 * unsubscribe header; reminders carry `List-Unsubscribe`, R-NOT-3) and a small pure render function of
 * its payload and the recipient's locale and time zone. A later issue adds its templates here.
 * The sentences are English (left to right); every value put into them that holds right-to-left text
 * (a Hebrew merchant or description, an amount or a date formatted for he or ar) is isolated (`v`), so
 * that the reader's mail client lays it out on its own instead of pulling the punctuation and numbers
 * around it into its direction.
 */
export type TemplateKind = 'transactional' | 'reminder';

export interface RenderContext {
  locale: string;
  timeZone: string;
  accountName: string;
  /**
   * The business the mail is from (MERCHANT_NAME now): refunds name it, not the account; a receipt names
   * the merchant of its payload (the receipt's) and this one only when its payload has none.
   */
  merchant: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
}

export interface TemplateDefinition<P> {
  kind: TemplateKind;
  render(payload: P, ctx: RenderContext): RenderedMail;
}

export interface PaymentSucceededPayload {
  paymentId: string;
  receiptNumber: number;
  amount: number;
  currency: string;
  issuedAt: string;
  methodBrand: string | null;
  methodLast4: string | null;
  description: string | null;
  /**
   * The merchant on the receipt (name and address lines), filled in by the statement that issues it;
   * absent from e-mails put in the outbox before receipts kept their merchant.
   */
  merchant?: { name: string; address: string[] };
}

/** The receipt of a paid subscription invoice (R-PAY-4): numbered in the account's receipt sequence. */
export interface InvoicePaidPayload {
  invoiceId: string;
  /** Stripe's invoice number (e.g. `1A2B3C4D-0001`); null when Stripe gave none. */
  invoiceNumber: string | null;
  receiptNumber: number;
  amount: number;
  currency: string;
  paidAt: string;
  periodStart: string | null;
  periodEnd: string | null;
  merchant: { name: string; address: string[] };
}

export interface RefundIssuedPayload {
  paymentId: string;
  refundId: string;
  amount: number;
  currency: string;
  refundedAt: string;
  reason: string | null;
}

export interface CardExpiringPayload {
  brand: string | null;
  last4: string;
  expMonth: number;
  expYear: number;
}

/** Templates and the payload each one takes. */
export interface TemplatePayloads {
  payment_succeeded: PaymentSucceededPayload;
  invoice_paid: InvoicePaidPayload;
  refund_issued: RefundIssuedPayload;
  card_expiring: CardExpiringPayload;
}
export type TemplateName = keyof TemplatePayloads;

function method(brand: string | null, last4: string | null): string | null {
  if (!brand && !last4) return null;
  return `${brand ?? 'card'} •••• ${last4 ?? '????'}`;
}

export const TEMPLATES: { [N in TemplateName]: TemplateDefinition<TemplatePayloads[N]> } = {
  payment_succeeded: {
    kind: 'transactional',
    render(p, ctx) {
      const amount = v(formatMoney(money(p.amount, p.currency), ctx.locale));
      const paidWith = method(p.methodBrand, p.methodLast4);
      const merchant = v(p.merchant?.name ?? ctx.merchant);
      return {
        subject: `Receipt #${p.receiptNumber} from ${merchant}: ${amount}`,
        text: [
          `Thank you for your payment of ${amount} to ${merchant}.`,
          '',
          `Receipt number: ${p.receiptNumber}`,
          `Date: ${v(formatDateTime(p.issuedAt, ctx.locale, ctx.timeZone))}`,
          ...(paidWith ? [`Paid with: ${v(paidWith)}`] : []),
          ...(p.description ? [`For: ${v(p.description)}`] : []),
          `Payment: ${p.paymentId}`,
        ].join('\n'),
      };
    },
  },
  invoice_paid: {
    kind: 'transactional',
    render(p, ctx) {
      const amount = v(formatMoney(money(p.amount, p.currency), ctx.locale));
      const merchant = v(p.merchant.name);
      const date = (iso: string): string => v(formatDateTime(iso, ctx.locale, ctx.timeZone));
      return {
        subject: `Receipt #${p.receiptNumber} from ${merchant}: ${amount}`,
        text: [
          `Thank you for your payment of ${amount} to ${merchant}.`,
          '',
          `Receipt number: ${p.receiptNumber}`,
          `Date: ${date(p.paidAt)}`,
          `Invoice: ${p.invoiceNumber ?? p.invoiceId}`,
          ...(p.periodStart && p.periodEnd ? [`Period: ${date(p.periodStart)} – ${date(p.periodEnd)}`] : []),
        ].join('\n'),
      };
    },
  },
  refund_issued: {
    kind: 'transactional',
    render(p, ctx) {
      const amount = v(formatMoney(money(p.amount, p.currency), ctx.locale));
      return {
        subject: `Refund of ${amount} from ${v(ctx.merchant)}`,
        text: [
          `We have refunded ${amount} to your original payment method.`,
          '',
          `Date: ${v(formatDateTime(p.refundedAt, ctx.locale, ctx.timeZone))}`,
          `Payment: ${p.paymentId}`,
          `Refund: ${p.refundId}`,
          'It may take 5-10 business days to appear on your statement.',
        ].join('\n'),
      };
    },
  },
  card_expiring: {
    kind: 'reminder',
    render(p, ctx) {
      const expiry = v(
        new Intl.DateTimeFormat(ctx.locale, {
          month: 'long',
          year: 'numeric',
          timeZone: 'UTC',
        }).format(new Date(Date.UTC(p.expYear, p.expMonth - 1, 1))),
      );
      const brand = v(p.brand ?? 'card');
      return {
        subject: `Your ${brand} ending in ${p.last4} expires soon`,
        text: [
          `The ${brand} ending in ${p.last4} that pays ${v(ctx.accountName)} expires in ${expiry}.`,
          'Please add a new payment method to avoid an interruption.',
        ].join('\n'),
      };
    },
  },
};

/** The reminders: the templates an account may unsubscribe from (R-NOT-3), in a stable order. */
export const REMINDER_TEMPLATES: readonly TemplateName[] = (Object.keys(TEMPLATES) as TemplateName[])
  .filter((name) => TEMPLATES[name].kind === 'reminder')
  .sort();

export function isReminder(name: TemplateName): boolean {
  return TEMPLATES[name].kind === 'reminder';
}

export interface UnsubscribeLink {
  /** PUBLIC_BASE_URL: where the service answers on the internet. */
  publicBaseUrl: string;
  /** NOTIFICATIONS_UNSUBSCRIBE_SECRET. */
  secret: string;
  accountId: string;
}

/** The public one-click unsubscribe URL of (account, template), with its signed token. */
export function unsubscribeUrl(name: TemplateName, link: UnsubscribeLink): string {
  const token = signUnsubscribeToken(link.secret, { accountId: link.accountId, template: name });
  return `${link.publicBaseUrl.replace(/\/+$/, '')}/v1/notifications/unsubscribe?token=${token}`;
}

/**
 * The unsubscribe headers of a reminder (R-NOT-3): RFC 8058 one-click, i.e. `List-Unsubscribe` with the
 * signed HTTPS link and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, so that mail clients
 * unsubscribe with one POST. There is deliberately no `mailto:` alternative: nothing reads or processes
 * that mailbox, so such a request would be silently lost. Transactional mails (receipts, refunds,
 * dunning) carry none: they are always sent.
 */
export function unsubscribeHeaders(name: TemplateName, link: UnsubscribeLink): Record<string, string> {
  if (!isReminder(name)) return {};
  return {
    'List-Unsubscribe': `<${unsubscribeUrl(name, link)}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}

export function isTemplateName(value: string): value is TemplateName {
  return Object.hasOwn(TEMPLATES, value);
}

/** Renders a stored notification; the payload was type-checked when it was enqueued. */
export function renderTemplate(name: TemplateName, payload: unknown, ctx: RenderContext): RenderedMail {
  const template = TEMPLATES[name] as TemplateDefinition<unknown>;
  return template.render(payload, ctx);
}
