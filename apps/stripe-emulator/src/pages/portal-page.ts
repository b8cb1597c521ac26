/**
 * The hosted customer portal at a billing portal session's `url`: change the default card and
 * cancel (at period end) or renew subscriptions. Each form POST does the change and redirects (303)
 * to the session's `return_url`, as Stripe's portal does after a flow.
 */
import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import type { Account } from '../core/state.js';
import { StripeApiError, invalidRequest, resourceMissing } from '../http/errors.js';
import { optNonEmpty, reqString } from '../http/form.js';
import { type PageRequest, html, redirect } from '../http/router.js';
import { getCustomer, updateCustomer } from '../resources/customers.js';
import { payments } from '../billing/service/payments.js';
import { getSubscription, periodOf, updateSubscription } from '../billing/service/subscriptions.js';
import { cardChoices, escapeHtml, formatDate, page } from './html.js';

function findSession(
  ctx: EmulatorContext,
  req: PageRequest,
): { account: Account; session: Stripe.BillingPortal.Session } {
  const id = req.params.id ?? '';
  const owner = ctx.state.findOwner('billing_portal_sessions', id);
  if (!owner) throw resourceMissing('billing_portal.session', id);
  return { account: owner.account, session: owner.object };
}

function liveSubscriptions(account: Account, customerId: string): Stripe.Subscription[] {
  return [...account.subscriptions.values()].filter(
    (s) => s.customer === customerId && s.status !== 'canceled' && s.status !== 'incomplete_expired',
  );
}

export function renderPortal(
  account: Account,
  session: Stripe.BillingPortal.Session,
  error?: string,
): string {
  const customer = getCustomer(account, session.customer, 'customer');
  const defaultPm = customer.invoice_settings.default_payment_method;
  const defaultId = typeof defaultPm === 'string' ? defaultPm : (defaultPm?.id ?? null);
  const methods = [...account.payment_methods.values()].filter((pm) => pm.customer === customer.id);
  // The default card is marked and selected; a new test card is chosen only when the person picks one.
  const methodRows = methods
    .map((pm) => {
      const isDefault = pm.id === defaultId;
      return `<label${isDefault ? ' class="default-method"' : ''}><input type="radio" name="payment_method" value="${escapeHtml(pm.id)}"${isDefault ? ' checked' : ''}> ${escapeHtml(pm.card?.brand ?? pm.type)} •••• ${escapeHtml(pm.card?.last4 ?? '')} exp. ${escapeHtml(String(pm.card?.exp_month ?? ''))}/${escapeHtml(String(pm.card?.exp_year ?? ''))}${isDefault ? ' <strong class="default-badge">Default</strong>' : ''}</label>`;
    })
    .join('\n');
  const hasDefault = methods.some((pm) => pm.id === defaultId);
  const subs = liveSubscriptions(account, customer.id)
    .map((s) => {
      const names = s.items.data
        .map(
          (i) =>
            account.products.get(typeof i.price.product === 'string' ? i.price.product : i.price.product.id)
              ?.name ?? i.price.id,
        )
        .join(', ');
      const end = formatDate(periodOf(s).end);
      const action = s.cancel_at_period_end
        ? `<button type="submit" name="action" value="renew">Renew subscription</button> <span>Cancels on ${escapeHtml(end)}</span>`
        : `<button type="submit" name="action" value="cancel">Cancel at period end</button> <span>Renews on ${escapeHtml(end)}</span>`;
      return `<form method="post" action="/_emulator/portal/${escapeHtml(session.id)}/subscription">
<input type="hidden" name="subscription" value="${escapeHtml(s.id)}">
<p><strong>${escapeHtml(names)}</strong> · status <span class="sub-status">${escapeHtml(s.status)}</span></p>
${action}
</form>`;
    })
    .join('\n');
  return page(
    'Billing portal',
    `<h1>Billing for ${escapeHtml(customer.email ?? customer.name ?? customer.id)}</h1>
${error ? `<p class="error" id="error">${escapeHtml(error)}</p>` : ''}
<h2>Subscriptions</h2>
${subs || '<p>No active subscriptions.</p>'}
<h2>Payment method</h2>
<form method="post" action="/_emulator/portal/${escapeHtml(session.id)}/payment-method">
<fieldset><legend>Saved cards</legend>${methodRows || '<p>No saved cards.</p>'}</fieldset>
<fieldset><legend>Or add a test card</legend>
${hasDefault ? '<label><input type="radio" name="new_payment_method" value="" checked> No new card (use the selection above)</label>\n' : ''}${cardChoices('new_payment_method', hasDefault ? null : 0)}
</fieldset>
<button type="submit">Set as default</button>
</form>
${session.return_url ? `<p><a href="${escapeHtml(session.return_url)}">Return</a></p>` : ''}`,
  );
}

const registered = new WeakSet<EmulatorContext>();

export function registerPortalPages(ctx: EmulatorContext): void {
  if (registered.has(ctx)) return;
  registered.add(ctx);
  const back = (session: Stripe.BillingPortal.Session): ReturnType<typeof redirect> =>
    redirect(session.return_url ?? `/_emulator/portal/${session.id}`);
  const guard = (
    account: Account,
    session: Stripe.BillingPortal.Session,
    fn: () => void,
  ): ReturnType<typeof html> => {
    try {
      fn();
    } catch (err) {
      if (err instanceof StripeApiError && err.status < 500)
        return html(renderPortal(account, session, err.message), err.status);
      throw err;
    }
    return back(session);
  };
  ctx.pages.get('/_emulator/portal/:id', (req) => {
    const { account, session } = findSession(ctx, req);
    return html(renderPortal(account, session));
  });
  ctx.pages.post('/_emulator/portal/:id/payment-method', (req) => {
    const { account, session } = findSession(ctx, req);
    return guard(account, session, () => {
      // A new test card wins when one is picked; otherwise the saved card selected (the default unless changed).
      const chosen = optNonEmpty(req.body, 'new_payment_method') ?? optNonEmpty(req.body, 'payment_method');
      if (!chosen) throw invalidRequest('Choose a card.');
      const pm = payments().resolvePaymentMethod(account, chosen, session.customer, 'payment_method');
      updateCustomer(account, session.customer, { invoice_settings: { default_payment_method: pm.id } });
    });
  });
  ctx.pages.post('/_emulator/portal/:id/subscription', (req) => {
    const { account, session } = findSession(ctx, req);
    return guard(account, session, () => {
      const sub = getSubscription(account, reqString(req.body, 'subscription'), 'subscription');
      if (sub.customer !== session.customer) throw resourceMissing('subscription', sub.id, 'subscription');
      const action = reqString(req.body, 'action');
      if (action !== 'cancel' && action !== 'renew') throw invalidRequest('Unknown action', 'action');
      updateSubscription(account, sub, { cancel_at_period_end: action === 'cancel' ? 'true' : 'false' });
    });
  });
}
