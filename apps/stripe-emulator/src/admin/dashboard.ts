import type Stripe from 'stripe';
import { forgetCatchUp } from '../billing/service/clock.js';
import type { EmulatorContext } from '../core/context.js';
import { diffAttributes, emitEvent } from '../core/events.js';
import type { Account, ResourceType } from '../core/state.js';
import { invalidRequest, resourceMissing } from '../http/errors.js';
import type { PageRequest, Router } from '../http/router.js';

/** The fields an operator may change on each type, and the event Stripe sends for such a change. */
const EDITABLE = {
  subscriptions: {
    event: 'customer.subscription.updated',
    fields: ['status', 'cancel_at_period_end', 'cancel_at', 'canceled_at', 'ended_at', 'metadata'],
  },
  invoices: {
    event: 'invoice.updated',
    fields: ['status', 'amount_due', 'amount_paid', 'amount_remaining', 'total', 'subtotal'],
  },
  payment_intents: {
    event: 'payment_intent.updated',
    fields: ['status', 'amount', 'amount_received'],
  },
  charges: { event: 'charge.updated', fields: ['amount_refunded', 'refunded'] },
  // A fee Stripe adjusted (or a mistake in the books): Stripe sends no event for a balance transaction.
  balance_transactions: { event: null, fields: ['amount', 'fee', 'net'] },
} as const satisfies Partial<Record<ResourceType, { event: string | null; fields: readonly string[] }>>;

type EditableType = keyof typeof EDITABLE;

/** What an item edit may carry (subscriptions: `items[i]`, matched by position). */
interface ItemEdit {
  price?: string;
  quantity?: number;
  current_period_end?: number;
}

/**
 * `POST /_emulator/dashboard/:type/:id` (JSON): changes an object as someone in Stripe's dashboard
 * would, for drift tests. Allowed fields per type are in {@link EDITABLE}; subscriptions also take
 * `items: [{ price, quantity, current_period_end }]` by position; balance transactions take `amount`, `fee`
 * and `net` (no event: Stripe has none for them). `webhooks: "suppress"` (the default)
 * changes the object without an event, as if the webhook were lost; `"send"` emits the `*.updated`
 * event with its `previous_attributes`. Answers the changed object.
 */
export function registerDashboard(pages: Router<PageRequest>, ctx: EmulatorContext): void {
  pages.post('/_emulator/dashboard/:type/:id', (req) => {
    const type = req.params.type ?? '';
    if (!(type in EDITABLE)) {
      throw invalidRequest(`type must be one of ${Object.keys(EDITABLE).join(', ')}`, 'type');
    }
    const editable = EDITABLE[type as EditableType];
    const id = req.params.id ?? '';
    const owner = ctx.state.findOwner(type as EditableType, id);
    if (!owner) throw resourceMissing(type.replace(/s$/, ''), id);
    const body = req.body as Record<string, unknown>;
    const webhooks = body.webhooks ?? 'suppress';
    if (webhooks !== 'send' && webhooks !== 'suppress') {
      throw invalidRequest('webhooks must be "send" or "suppress"', 'webhooks');
    }
    if (webhooks === 'send' && editable.event === null) {
      throw invalidRequest(`Stripe sends no event for a change of ${type}`, 'webhooks');
    }
    const object = owner.object as unknown as Record<string, unknown>;
    const before = structuredClone(object);
    for (const [field, value] of Object.entries(body)) {
      if (field === 'webhooks') continue;
      if (field === 'items' && type === 'subscriptions') {
        editItems(owner.account, owner.object as Stripe.Subscription, value);
        continue;
      }
      if (!(editable.fields as readonly string[]).includes(field)) {
        throw invalidRequest(`${field} cannot be changed on ${type} here`, field);
      }
      object[field] = value;
      // A balance transaction's fee is itemized: the Stripe fee line follows the fee.
      if (type === 'balance_transactions' && field === 'fee' && typeof value === 'number') {
        const details = (object.fee_details ?? []) as { amount: number; type: string }[];
        const stripeFee = details.find((d) => d.type === 'stripe_fee');
        if (stripeFee) stripeFee.amount = value;
      }
    }
    forgetCatchUp(owner.account);
    if (webhooks === 'send' && editable.event !== null) {
      const previousAttributes = diffAttributes(before, object);
      emitEvent(owner.account, {
        type: editable.event,
        object: owner.object,
        ...(previousAttributes ? { previousAttributes } : {}),
      });
    }
    return object;
  });
}

function editItems(account: Account, sub: Stripe.Subscription, value: unknown): void {
  if (!Array.isArray(value)) throw invalidRequest('items must be an array', 'items');
  (value as ItemEdit[]).forEach((edit, index) => {
    const item = sub.items.data[index];
    if (!item) throw invalidRequest(`the subscription has no item ${index}`, `items[${index}]`);
    if (edit.price !== undefined) {
      const price = account.prices.get(edit.price);
      if (!price) throw resourceMissing('price', edit.price, `items[${index}][price]`);
      item.price = price;
      item.plan = { ...item.plan, id: price.id, amount: price.unit_amount, currency: price.currency };
    }
    if (edit.quantity !== undefined) item.quantity = edit.quantity;
    if (edit.current_period_end !== undefined) item.current_period_end = edit.current_period_end;
  });
}
