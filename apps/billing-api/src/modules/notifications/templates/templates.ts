import { formatMoney, money } from '@billing/domain';
import { formatDateTime } from '../../../platform/text/format-date-time.js';
import { signUnsubscribeToken } from '../unsubscribe/unsubscribe-token.js';
import {
  actions,
  facts,
  line,
  paragraph,
  renderHtml,
  renderText,
  subjectText,
  type Line,
  type MailAction,
  type MailContent,
} from './mail-layout.js';

/**
 * E-mail templates as data (R-NOT-2): each has a kind (transactional mails are always sent and carry no
 * unsubscribe header; reminders carry `List-Unsubscribe`, R-NOT-3) and a small pure render function of
 * its payload and the recipient's locale, time zone and links, which describes the mail as data
 * (mail-layout.ts); the plain-text and the HTML versions are both written from that description. The
 * sentences are English (left to right); the values put into them (`line\`…${value}…\``) are kept
 * apart, so that each rendering isolates the right-to-left ones in its own way.
 *
 * Adding a template (the example to follow: `ownership_transfer`): its payload interface, its entry in
 * `TemplatePayloads` and in `TEMPLATES` (kind `transactional` unless the account may unsubscribe from
 * it), then a caller that enqueues it through `NotificationsFacade.enqueue` with a dedupe key naming
 * the template and its cause (`<template>:<cause id>`), and a line in docs/notifications.md.
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
  /**
   * The integrator's billing page (BILLING_APP_URL): where the account's people manage their plan and
   * cards; it opens Stripe's Customer Portal through `POST /v1/billing-portal`, whose sessions are too
   * short-lived to be put in an e-mail themselves.
   */
  billingUrl: string;
  /** A reminder's one-click unsubscribe link, shown in its footer (R-NOT-3); none on transactional mails. */
  unsubscribeUrl?: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  /** The same mail as an HTML document; sent beside the text as multipart/alternative. */
  html: string;
}

export interface TemplateDefinition<P> {
  kind: TemplateKind;
  render(payload: P, ctx: RenderContext): MailContent;
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
  /** The renewal the card would not last until (absent from mails enqueued before it was kept). */
  renewalAt?: string;
}

/** A trial: which subscription, which plan (its catalogue name), and when it ends. */
export interface TrialPayload {
  subscriptionId: string;
  planId: string;
  planName: string;
  trialEnd: string;
}

/** The unpaid invoice a dunning e-mail is about: its case, what is owed and where to pay it. */
export interface DunningInvoice {
  caseId: string;
  stripeInvoiceId: string;
  amountDue: number;
  currency: string;
  /** Stripe's hosted invoice page: the pay-now action. */
  hostedInvoiceUrl: string | null;
}

/** A dunning notice (R-DUN): the unpaid invoice and what comes next. */
export interface DunningNoticePayload extends DunningInvoice {
  /** When the next step runs (the next attempt); null after the last one. */
  nextStepAt: string | null;
  /** When access becomes read-only if nothing is paid. */
  suspendAt: string;
}

export interface AccountSuspendedPayload extends DunningInvoice {
  suspendedAt: string;
}

export interface AccountReactivatedPayload {
  caseId: string;
  stripeInvoiceId: string;
  amountPaid: number;
  currency: string;
  /** Whether access had been cut (read-only) before the payment. */
  wasSuspended: boolean;
  reactivatedAt: string;
}

export interface PlanChangedPayload {
  subscriptionId: string;
  fromPlanName: string;
  toPlanName: string;
  direction: 'upgrade' | 'downgrade';
  effectiveAt: string;
}

export interface SubscriptionCanceledPayload {
  subscriptionId: string;
  planName: string;
  canceledAt: string;
}

/** Ownership of the account passed from one member to another (the seats module enqueues it). */
export interface OwnershipTransferPayload {
  previousOwnerEmail: string;
  newOwnerEmail: string;
  transferredAt: string;
}

/**
 * To the member named as the new billing owner (R-SUB-9): the one-time link that confirms the transfer
 * (single use, until `expiresAt`). Sent to that member, not to the billing e-mail.
 */
export interface OwnershipTransferRequestedPayload {
  transferId: string;
  fromUserId: string;
  confirmUrl: string;
  expiresAt: string;
}

/** Templates and the payload each one takes. */
export interface TemplatePayloads {
  payment_succeeded: PaymentSucceededPayload;
  invoice_paid: InvoicePaidPayload;
  refund_issued: RefundIssuedPayload;
  card_expiring: CardExpiringPayload;
  trial_started: TrialPayload;
  trial_ending: TrialPayload;
  payment_failed_1: DunningNoticePayload;
  payment_failed_2: DunningNoticePayload;
  payment_failed_3: DunningNoticePayload;
  account_suspended: AccountSuspendedPayload;
  account_reactivated: AccountReactivatedPayload;
  plan_changed: PlanChangedPayload;
  subscription_canceled: SubscriptionCanceledPayload;
  ownership_transfer: OwnershipTransferPayload;
  ownership_transfer_requested: OwnershipTransferRequestedPayload;
}
export type TemplateName = keyof TemplatePayloads;

function method(brand: string | null, last4: string | null): string | null {
  if (!brand && !last4) return null;
  return `${brand ?? 'card'} •••• ${last4 ?? '????'}`;
}

const amountOf = (amount: number, currency: string, ctx: RenderContext): string =>
  formatMoney(money(amount, currency), ctx.locale);
const when = (iso: string, ctx: RenderContext): string => formatDateTime(iso, ctx.locale, ctx.timeZone);

const manageBilling = (ctx: RenderContext, label = 'Manage billing'): MailAction => ({
  label,
  url: ctx.billingUrl,
});
/** The invoice's pay-now page, or the billing page when Stripe gave none. */
const payNow = (hostedInvoiceUrl: string | null, ctx: RenderContext): MailAction => ({
  label: 'Pay now',
  url: hostedInvoiceUrl ?? ctx.billingUrl,
});

/** The three escalating payment-failed notices differ only in their words. */
function paymentFailed(level: 1 | 2 | 3): TemplateDefinition<DunningNoticePayload> {
  return {
    kind: 'transactional',
    render(p, ctx) {
      const amount = amountOf(p.amountDue, p.currency, ctx);
      const suspend = when(p.suspendAt, ctx);
      const next = p.nextStepAt ? when(p.nextStepAt, ctx) : null;
      const subject: Line =
        level === 1
          ? line`Payment of ${amount} failed`
          : level === 2
            ? line`Reminder: payment of ${amount} is still due`
            : line`Urgent: ${ctx.accountName} becomes read-only on ${suspend}`;
      const opening: Line =
        level === 1
          ? line`We could not collect the payment of ${amount} for ${ctx.accountName}.`
          : level === 2
            ? line`We tried again to collect ${amount} for ${ctx.accountName}, and the payment failed again.`
            : line`Our last attempt to collect ${amount} for ${ctx.accountName} failed.`;
      const consequence: Line =
        level === 3
          ? line`Unless the invoice is paid, the account becomes read-only on ${suspend}: you will still see your data, but not change it.`
          : next
            ? line`We will try again on ${next}. Pay now or update your card to keep full access.`
            : line`Pay now or update your card to keep full access.`;
      return {
        subject,
        blocks: [
          paragraph(opening),
          paragraph(consequence),
          facts(['Amount due', line`${amount}`], ['Invoice', line`${p.stripeInvoiceId}`]),
          actions(payNow(p.hostedInvoiceUrl, ctx), manageBilling(ctx, 'Update payment method')),
        ],
      };
    },
  };
}

export const TEMPLATES: { [N in TemplateName]: TemplateDefinition<TemplatePayloads[N]> } = {
  payment_succeeded: {
    kind: 'transactional',
    render(p, ctx) {
      const amount = amountOf(p.amount, p.currency, ctx);
      const paidWith = method(p.methodBrand, p.methodLast4);
      const merchant = p.merchant?.name ?? ctx.merchant;
      return {
        subject: line`Receipt #${p.receiptNumber} from ${merchant}: ${amount}`,
        blocks: [
          paragraph(line`Thank you for your payment of ${amount} to ${merchant}.`),
          facts(
            ['Receipt number', line`${p.receiptNumber}`],
            ['Date', line`${when(p.issuedAt, ctx)}`],
            paidWith !== null && ['Paid with', line`${paidWith}`],
            p.description !== null && ['For', line`${p.description}`],
            ['Payment', line`${p.paymentId}`],
          ),
          actions(manageBilling(ctx, 'View your billing')),
        ],
      };
    },
  },
  invoice_paid: {
    kind: 'transactional',
    render(p, ctx) {
      const amount = amountOf(p.amount, p.currency, ctx);
      const merchant = p.merchant.name;
      return {
        subject: line`Receipt #${p.receiptNumber} from ${merchant}: ${amount}`,
        blocks: [
          paragraph(line`Thank you for your payment of ${amount} to ${merchant}.`),
          facts(
            ['Receipt number', line`${p.receiptNumber}`],
            ['Date', line`${when(p.paidAt, ctx)}`],
            ['Invoice', line`${p.invoiceNumber ?? p.invoiceId}`],
            p.periodStart !== null &&
              p.periodEnd !== null && [
                'Period',
                line`${when(p.periodStart, ctx)} – ${when(p.periodEnd, ctx)}`,
              ],
          ),
          actions(manageBilling(ctx, 'View your invoices')),
        ],
      };
    },
  },
  refund_issued: {
    kind: 'transactional',
    render(p, ctx) {
      const amount = amountOf(p.amount, p.currency, ctx);
      return {
        subject: line`Refund of ${amount} from ${ctx.merchant}`,
        blocks: [
          paragraph(line`We have refunded ${amount} to your original payment method.`),
          facts(
            ['Date', line`${when(p.refundedAt, ctx)}`],
            ['Payment', line`${p.paymentId}`],
            ['Refund', line`${p.refundId}`],
          ),
          paragraph(line`It may take 5-10 business days to appear on your statement.`),
          actions(manageBilling(ctx, 'View your billing')),
        ],
      };
    },
  },
  card_expiring: {
    kind: 'reminder',
    render(p, ctx) {
      const expiry = new Intl.DateTimeFormat(ctx.locale, {
        month: 'long',
        year: 'numeric',
        timeZone: 'UTC',
      }).format(new Date(Date.UTC(p.expYear, p.expMonth - 1, 1)));
      const brand = p.brand ?? 'card';
      return {
        subject: line`Your ${brand} ending in ${p.last4} expires soon`,
        blocks: [
          paragraph(
            p.renewalAt
              ? line`The ${brand} ending in ${p.last4} that pays ${ctx.accountName} expires in ${expiry}, before the next renewal on ${when(p.renewalAt, ctx)}.`
              : line`The ${brand} ending in ${p.last4} that pays ${ctx.accountName} expires in ${expiry}.`,
          ),
          paragraph(line`Please add a new payment method to avoid an interruption.`),
          actions(manageBilling(ctx, 'Update payment method')),
        ],
      };
    },
  },
  trial_started: {
    kind: 'transactional',
    render(p, ctx) {
      const end = when(p.trialEnd, ctx);
      return {
        subject: line`Your ${p.planName} trial has started`,
        blocks: [
          paragraph(
            line`Your trial of the ${p.planName} plan for ${ctx.accountName} has started. It ends on ${end}.`,
          ),
          paragraph(
            line`To keep ${p.planName} after that, add a payment method before the trial ends. Without one, the account returns to the Free plan; nothing is deleted.`,
          ),
          actions(manageBilling(ctx, 'Add a payment method')),
        ],
      };
    },
  },
  trial_ending: {
    kind: 'reminder',
    render(p, ctx) {
      const end = when(p.trialEnd, ctx);
      return {
        subject: line`Your ${p.planName} trial ends on ${end}`,
        blocks: [
          paragraph(line`The trial of the ${p.planName} plan for ${ctx.accountName} ends on ${end}.`),
          paragraph(
            line`Add a payment method to keep ${p.planName}. Without one, the account returns to the Free plan when the trial ends; nothing is deleted.`,
          ),
          actions(manageBilling(ctx, 'Add a payment method')),
        ],
      };
    },
  },
  payment_failed_1: paymentFailed(1),
  payment_failed_2: paymentFailed(2),
  payment_failed_3: paymentFailed(3),
  account_suspended: {
    kind: 'transactional',
    render(p, ctx) {
      const amount = amountOf(p.amountDue, p.currency, ctx);
      return {
        subject: line`${ctx.accountName} is read-only until ${amount} is paid`,
        blocks: [
          paragraph(
            line`We could not collect ${amount} for ${ctx.accountName}, so since ${when(p.suspendedAt, ctx)} the account is read-only: you can still see and export your data, but not change it.`,
          ),
          paragraph(line`Full access returns as soon as the invoice is paid.`),
          facts(['Amount due', line`${amount}`], ['Invoice', line`${p.stripeInvoiceId}`]),
          actions(payNow(p.hostedInvoiceUrl, ctx), manageBilling(ctx, 'Update payment method')),
        ],
      };
    },
  },
  account_reactivated: {
    kind: 'transactional',
    render(p, ctx) {
      const amount = amountOf(p.amountPaid, p.currency, ctx);
      return {
        subject: p.wasSuspended
          ? line`${ctx.accountName} is active again`
          : line`Payment of ${amount} received: ${ctx.accountName} is in good standing`,
        blocks: [
          paragraph(line`Thank you: we received the payment of ${amount} for ${ctx.accountName}.`),
          paragraph(
            p.wasSuspended
              ? line`Full access was restored on ${when(p.reactivatedAt, ctx)}.`
              : line`No further attempts or reminders will follow.`,
          ),
          facts(['Invoice', line`${p.stripeInvoiceId}`]),
          actions(manageBilling(ctx, 'View your billing')),
        ],
      };
    },
  },
  plan_changed: {
    kind: 'transactional',
    render(p, ctx) {
      const at = when(p.effectiveAt, ctx);
      return {
        subject: line`Your plan is now ${p.toPlanName}`,
        blocks: [
          paragraph(
            p.direction === 'downgrade'
              ? line`The downgrade of ${ctx.accountName} from ${p.fromPlanName} to ${p.toPlanName} took effect on ${at}.`
              : line`${ctx.accountName} moved from ${p.fromPlanName} to ${p.toPlanName} on ${at}; the new features are available now.`,
          ),
          actions(manageBilling(ctx)),
        ],
      };
    },
  },
  subscription_canceled: {
    kind: 'transactional',
    render(p, ctx) {
      return {
        subject: line`Your ${p.planName} subscription has ended`,
        blocks: [
          paragraph(
            line`The ${p.planName} subscription of ${ctx.accountName} ended on ${when(p.canceledAt, ctx)}. The account is on the Free plan now; nothing was deleted.`,
          ),
          paragraph(line`You can subscribe again at any time.`),
          actions(manageBilling(ctx, 'Choose a plan')),
        ],
      };
    },
  },
  ownership_transfer: {
    kind: 'transactional',
    render(p, ctx) {
      return {
        subject: line`Ownership of ${ctx.accountName} was transferred`,
        blocks: [
          paragraph(
            line`On ${when(p.transferredAt, ctx)}, ownership of ${ctx.accountName} passed from ${p.previousOwnerEmail} to ${p.newOwnerEmail}.`,
          ),
          paragraph(line`The new owner now manages the plan, the payment methods and the members.`),
          actions(manageBilling(ctx)),
        ],
      };
    },
  },
  ownership_transfer_requested: {
    kind: 'transactional',
    render(p, ctx) {
      return {
        subject: line`Confirm: become the billing owner of ${ctx.accountName}`,
        blocks: [
          paragraph(line`${p.fromUserId} asks you to become the billing owner of ${ctx.accountName}.`),
          paragraph(line`Open the link below while signed in to accept. It works once.`),
          actions({ label: 'Accept billing ownership', url: p.confirmUrl }, manageBilling(ctx)),
          facts(['Link expires', line`${when(p.expiresAt, ctx)}`]),
          paragraph(line`If you did not expect this, ignore this e-mail: nothing changes.`),
        ],
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

/** Renders a stored notification, as text and HTML; the payload was type-checked when it was enqueued. */
export function renderTemplate(name: TemplateName, payload: unknown, ctx: RenderContext): RenderedMail {
  const template = TEMPLATES[name] as TemplateDefinition<unknown>;
  const content = template.render(payload, ctx);
  const footer = isReminder(name) && ctx.unsubscribeUrl ? { unsubscribeUrl: ctx.unsubscribeUrl } : {};
  return {
    subject: subjectText(content),
    text: renderText(content, footer),
    html: renderHtml(content, footer),
  };
}
