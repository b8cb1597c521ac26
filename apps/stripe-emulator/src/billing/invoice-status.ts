/**
 * The invoice status machine (docs: /invoicing/integration/workflow-transitions), as data:
 * draft -> open (finalize) -> paid | void | uncollectible; a failed payment keeps it open;
 * an uncollectible invoice can still be paid or voided; paid and void are final.
 */

export type InvoiceStatus = 'draft' | 'open' | 'paid' | 'void' | 'uncollectible';
export type InvoiceAction = 'finalize' | 'pay' | 'payment_failed' | 'void' | 'mark_uncollectible' | 'delete';

export type InvoiceTransition =
  | { readonly ok: true; readonly status: InvoiceStatus | 'deleted' }
  | { readonly ok: false; readonly reason: string };

export const INVOICE_TRANSITIONS = {
  draft: { finalize: 'open', delete: 'deleted' },
  open: { pay: 'paid', payment_failed: 'open', void: 'void', mark_uncollectible: 'uncollectible' },
  uncollectible: { pay: 'paid', payment_failed: 'uncollectible', void: 'void' },
  paid: {},
  void: {},
} as const satisfies Record<InvoiceStatus, Partial<Record<InvoiceAction, InvoiceStatus | 'deleted'>>>;

export const INVOICE_STATUSES: readonly InvoiceStatus[] = ['draft', 'open', 'paid', 'void', 'uncollectible'];
export const INVOICE_ACTIONS: readonly InvoiceAction[] = [
  'finalize',
  'pay',
  'payment_failed',
  'void',
  'mark_uncollectible',
  'delete',
];

/** Stripe's own wording for each refusal, so error messages read like the real API's. */
function refusal(status: InvoiceStatus, action: InvoiceAction): string {
  switch (action) {
    case 'finalize':
      return `This invoice is already finalized, you can't re-finalize a non-draft invoice.`;
    case 'pay':
      return status === 'draft'
        ? 'This invoice is in draft status; finalize it before paying.'
        : `Invoice is already ${status === 'paid' ? 'paid' : status}.`;
    case 'payment_failed':
      return `Invoice in status ${status} cannot be attempted.`;
    case 'void':
      return status === 'draft'
        ? 'You can only void open or uncollectible invoices; delete a draft instead.'
        : `You can only pass in open or uncollectible invoices. This invoice is ${status}.`;
    case 'mark_uncollectible':
      return `You can only mark an open invoice as uncollectible. This invoice is ${status}.`;
    case 'delete':
      return 'You can only delete draft invoices.';
  }
}

export function transitionInvoice(status: InvoiceStatus, action: InvoiceAction): InvoiceTransition {
  const row: Partial<Record<InvoiceAction, InvoiceStatus | 'deleted'>> = INVOICE_TRANSITIONS[status];
  const next = row[action];
  return next === undefined ? { ok: false, reason: refusal(status, action) } : { ok: true, status: next };
}

export interface InvoiceAmounts {
  readonly subtotal: number;
  readonly total: number;
  readonly startingBalance: number;
  readonly amountDue: number;
  readonly endingBalance: number;
}

/**
 * Totals with the customer balance applied (negative balance = credit the customer holds, positive =
 * what the customer owes). amount_due = max(0, total + starting balance); whatever is not consumed
 * (or a negative total) remains on, or is added to, the customer's credit.
 */
export function invoiceAmounts(lineAmounts: readonly number[], customerBalance: number): InvoiceAmounts {
  const subtotal = lineAmounts.reduce((sum, a) => sum + a, 0);
  const total = subtotal;
  const net = total + customerBalance;
  return {
    subtotal,
    total,
    startingBalance: customerBalance,
    amountDue: Math.max(0, net),
    endingBalance: Math.min(0, net),
  };
}
