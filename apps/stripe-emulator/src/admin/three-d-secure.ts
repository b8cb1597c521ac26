import type { EmulatorContext } from '../core/context.js';
import type { Account } from '../core/state.js';
import { invalidRequest, resourceMissing } from '../http/errors.js';
import { type PageRequest, type Router, html, redirect } from '../http/router.js';
import { completePaymentIntentAction } from '../resources/payment-intents.js';
import { completeSetupIntentAction } from '../resources/setup-intents.js';

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Found {
  account: Account;
  kind: 'payment_intent' | 'setup_intent';
  id: string;
  clientSecret: string | null;
  amount: string;
  status: string;
  paypal: boolean;
}

function find(ctx: EmulatorContext, id: string): Found {
  if (id.startsWith('pi_')) {
    const owner = ctx.state.findOwner('payment_intents', id);
    if (owner) {
      const pm =
        typeof owner.object.payment_method === 'string'
          ? owner.account.payment_methods.get(owner.object.payment_method)
          : undefined;
      return {
        account: owner.account,
        kind: 'payment_intent',
        id,
        clientSecret: owner.object.client_secret,
        amount: `${owner.object.amount} ${owner.object.currency.toUpperCase()} (minor units)`,
        status: owner.object.status,
        paypal: pm?.type === 'paypal',
      };
    }
  } else if (id.startsWith('seti_')) {
    const owner = ctx.state.findOwner('setup_intents', id);
    if (owner) {
      const pm =
        typeof owner.object.payment_method === 'string'
          ? owner.account.payment_methods.get(owner.object.payment_method)
          : undefined;
      return {
        account: owner.account,
        kind: 'setup_intent',
        id,
        clientSecret: owner.object.client_secret,
        amount: 'saving a payment method',
        status: owner.object.status,
        paypal: pm?.type === 'paypal',
      };
    }
  }
  throw resourceMissing(id.startsWith('seti_') ? 'setup_intent' : 'payment_intent', id);
}

function returnUrlOf(found: Found): string | null {
  const internal = found.account.internal.get(found.id);
  const url = internal?.returnUrl;
  return typeof url === 'string' && url !== '' ? url : null;
}

function complete(ctx: EmulatorContext, req: PageRequest, result: string): unknown {
  const found = find(ctx, req.params.id ?? '');
  if (result !== 'succeed' && result !== 'fail')
    throw invalidRequest('result must be succeed or fail', 'result');
  const ok = result === 'succeed';
  const object =
    found.kind === 'payment_intent'
      ? completePaymentIntentAction(found.account, found.account.payment_intents.get(found.id)!, ok)
      : completeSetupIntentAction(found.account, found.account.setup_intents.get(found.id)!, ok);
  const returnUrl = returnUrlOf(found);
  if (returnUrl) {
    const url = new URL(returnUrl);
    url.searchParams.set(found.kind, found.id);
    if (found.clientSecret) url.searchParams.set(`${found.kind}_client_secret`, found.clientSecret);
    url.searchParams.set('redirect_status', ok ? 'succeeded' : 'failed');
    return redirect(url.toString());
  }
  const accept = String(req.headers.accept ?? '');
  if (accept.includes('text/html')) {
    return html(
      `<!doctype html><html><head><meta charset="utf-8"><title>Authentication ${ok ? 'complete' : 'failed'}</title></head>` +
        `<body><h1>Authentication ${ok ? 'complete' : 'failed'}</h1><p>${escapeHtml(found.id)}: ${escapeHtml(object.status)}</p></body></html>`,
    );
  }
  return object;
}

/**
 * The emulator's 3-D Secure challenge (and PayPal approval) page: `GET /_emulator/3ds/:id` shows it;
 * `POST` (form or query `result=succeed|fail`), or `GET ?result=...`, completes or fails it and
 * redirects to the intent's `return_url` when it has one (JSON of the intent otherwise).
 */
export function registerThreeDSecure(pages: Router<PageRequest>, ctx: EmulatorContext): void {
  pages.get('/_emulator/3ds/:id', (req) => {
    const result = req.query.result;
    if (typeof result === 'string' && result !== '') return complete(ctx, req, result);
    const found = find(ctx, req.params.id ?? '');
    const title = found.paypal ? 'Approve the PayPal payment (emulator)' : '3-D Secure challenge (emulator)';
    const id = escapeHtml(found.id);
    return html(`<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.6rem 1.2rem;margin-right:1rem}</style>
</head><body>
<h1>${title}</h1>
<p>${escapeHtml(found.kind === 'payment_intent' ? 'Payment' : 'Setup')} <code>${id}</code>: ${escapeHtml(found.amount)}</p>
<p>Status: <strong>${escapeHtml(found.status)}</strong></p>
<form method="post" action="/_emulator/3ds/${id}"><input type="hidden" name="result" value="succeed">
<button type="submit" id="complete">${found.paypal ? 'Approve' : 'Complete authentication'}</button></form>
<form method="post" action="/_emulator/3ds/${id}"><input type="hidden" name="result" value="fail">
<button type="submit" id="fail">${found.paypal ? 'Cancel' : 'Fail authentication'}</button></form>
</body></html>`);
  });

  pages.post('/_emulator/3ds/:id', (req) => {
    const result = req.body.result ?? req.query.result;
    return complete(ctx, req, typeof result === 'string' ? result : 'succeed');
  });
}
