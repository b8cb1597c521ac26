/**
 * The hosted Checkout page at a session's `url`: a plain HTML form where a person or a browser test
 * picks a test card (or types a test card number) and pays. The POST completes the session and
 * redirects (303) to `success_url`; a decline re-renders the form with the card error.
 */
import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { cardForNumber } from '../core/test-cards.js';
import type { Account } from '../core/state.js';
import { StripeApiError, resourceMissing } from '../http/errors.js';
import { optNonEmpty } from '../http/form.js';
import { type PageRequest, html, redirect } from '../http/router.js';
import { createCardPaymentMethod } from '../resources/payment-methods.js';
import { completeSession, lineItemsOf, successRedirect } from '../billing/service/checkout.js';
import { cardChoices, escapeHtml, formatAmount, page } from './html.js';

function findSession(
  ctx: EmulatorContext,
  req: PageRequest,
): { account: Account; session: Stripe.Checkout.Session } {
  const id = req.params.id ?? '';
  const owner = ctx.state.findOwner('checkout_sessions', id);
  if (!owner) throw resourceMissing('checkout.session', id);
  return { account: owner.account, session: owner.object };
}

/** `month`, `year`, `3 months`: how often a recurring price bills. */
export function intervalOf(price: Stripe.Price): string | null {
  const r = price.recurring;
  if (!r) return null;
  return r.interval_count === 1 ? r.interval : `${r.interval_count} ${r.interval}s`;
}

export function renderCheckout(account: Account, session: Stripe.Checkout.Session, error?: string): string {
  const lines = lineItemsOf(account, session);
  const items = lines
    .map((l) => {
      const interval = l.price ? intervalOf(l.price) : null;
      const per = interval ? ` <span class="interval">per ${escapeHtml(interval)}</span>` : '';
      return `<tr><td>${escapeHtml(l.description)} × ${escapeHtml(l.quantity)}</td><td class="amount">${escapeHtml(formatAmount(l.amount_total, l.currency))}${per}</td></tr>`;
    })
    .join('\n');
  const total =
    session.amount_total === null
      ? ''
      : `<p>Total due today: <strong id="total">${escapeHtml(formatAmount(session.amount_total, session.currency ?? 'usd'))}</strong></p>`;
  // Subscription mode: what the subscription bills and how often (one interval per subscription).
  const recurring = lines.filter((l) => l.price?.recurring);
  const interval = recurring[0]?.price ? intervalOf(recurring[0].price) : null;
  const billed =
    session.mode === 'subscription' && interval
      ? `<p id="recurring">Then <strong>${escapeHtml(
          formatAmount(
            recurring.reduce((sum, l) => sum + l.amount_total, 0),
            session.currency ?? 'usd',
          ),
        )}</strong> per <span id="interval">${escapeHtml(interval)}</span>, billed ${escapeHtml(
          interval === 'month' ? 'monthly' : interval === 'year' ? 'yearly' : `every ${interval}`,
        )}.</p>`
      : '';
  if (session.status !== 'open') {
    return page(
      'Checkout',
      `<h1>Checkout</h1><p id="status">This Checkout Session is ${escapeHtml(session.status)}.</p>`,
    );
  }
  const emailField = session.customer
    ? ''
    : `<label>Email <input type="email" name="email" value="${escapeHtml(session.customer_email ?? '')}"></label>
<label>Name <input type="text" name="name"></label>`;
  const verb = session.mode === 'setup' ? 'Save card' : session.mode === 'subscription' ? 'Subscribe' : 'Pay';
  return page(
    'Checkout',
    `<h1>Checkout (${escapeHtml(session.mode)})</h1>
${error ? `<p class="error" id="error">${escapeHtml(error)}</p>` : ''}
<table><tbody>${items}</tbody></table>
${total}
${billed}
<form method="post" action="/_emulator/checkout/${escapeHtml(session.id)}">
${emailField}
<fieldset><legend>Test card</legend>
${cardChoices('payment_method')}
<label>Or a test card number <input type="text" name="card_number" inputmode="numeric" autocomplete="off"></label>
</fieldset>
<button type="submit">${verb}</button>
</form>
${session.cancel_url ? `<p><a href="${escapeHtml(session.cancel_url)}">Cancel and go back</a></p>` : ''}`,
  );
}

function paymentMethodFrom(account: Account, req: PageRequest): string {
  const number = optNonEmpty(req.body, 'card_number');
  if (number) {
    const card = cardForNumber(number);
    if (!card)
      throw new StripeApiError({
        status: 402,
        type: 'card_error',
        code: 'incorrect_number',
        message: 'Your card number is incorrect.',
      });
    return createCardPaymentMethod(account, card, { cvc: true }).id;
  }
  return optNonEmpty(req.body, 'payment_method') ?? 'pm_card_visa';
}

const registered = new WeakSet<EmulatorContext>();

export function registerCheckoutPages(ctx: EmulatorContext): void {
  if (registered.has(ctx)) return;
  registered.add(ctx);
  ctx.pages.get('/_emulator/checkout/:id', (req) => {
    const { account, session } = findSession(ctx, req);
    return html(renderCheckout(account, session));
  });
  ctx.pages.post('/_emulator/checkout/:id', (req) => {
    const { account, session } = findSession(ctx, req);
    try {
      completeSession(account, session, {
        paymentMethod: paymentMethodFrom(account, req),
        email: optNonEmpty(req.body, 'email'),
        name: optNonEmpty(req.body, 'name'),
      });
    } catch (err) {
      if (err instanceof StripeApiError && err.status < 500)
        return html(renderCheckout(account, session, err.message), err.status);
      throw err;
    }
    return redirect(successRedirect(session));
  });
  // Programmatic completion for tests: JSON in, the completed session out (card errors as 402 JSON).
  ctx.pages.post('/_emulator/checkout/:id/complete', (req) => {
    const { account, session } = findSession(ctx, req);
    return completeSession(account, session, {
      paymentMethod: paymentMethodFrom(account, req),
      email: optNonEmpty(req.body, 'email'),
      name: optNonEmpty(req.body, 'name'),
    });
  });
}
