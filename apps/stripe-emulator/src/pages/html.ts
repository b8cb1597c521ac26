/** Tiny helpers for the emulator's hosted pages: plain server-rendered HTML, no scripts. */

export function escapeHtml(value: string | number | boolean | null | undefined): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function formatAmount(amount: number, currency: string): string {
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${currency.toUpperCase()}`;
}

export function formatDate(unix: number): string {
  return new Date(unix * 1000).toISOString().slice(0, 10);
}

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#1a1f36}
h1{font-size:1.4rem}table{width:100%;border-collapse:collapse}td,th{padding:.4rem;border-bottom:1px solid #e3e8ee;text-align:left}
.amount{text-align:right}.error{background:#fde8e8;color:#8a1c1c;padding:.6rem;border-radius:4px}
.notice{color:#697386;font-size:.85rem}button{padding:.6rem 1.2rem;font-size:1rem}fieldset{border:1px solid #e3e8ee;margin:1rem 0}
label{display:block;margin:.3rem 0}
</style>
</head>
<body>
<p class="notice">Stripe emulator (test mode, offline)</p>
${body}
</body>
</html>`;
}

/** Test cards the hosted pages offer (shortcut, label). */
export const TEST_CARD_CHOICES: readonly (readonly [string, string])[] = [
  ['pm_card_visa', 'Visa 4242 4242 4242 4242 (succeeds)'],
  ['pm_card_visa_debit', 'Visa debit 4000 0566 5566 5556 (succeeds)'],
  ['pm_card_mastercard', 'Mastercard 5555 5555 5555 4444 (succeeds)'],
  ['pm_card_amex', 'American Express 3782 822463 10005 (succeeds)'],
  ['pm_card_chargeDeclined', 'Visa 4000 0000 0000 0002 (generic decline)'],
  ['pm_card_chargeDeclinedInsufficientFunds', 'Visa 4000 0000 0000 9995 (insufficient funds)'],
  ['pm_card_chargeDeclinedExpiredCard', 'Visa 4000 0000 0000 0069 (expired card)'],
  ['pm_card_chargeCustomerFail', 'Visa 4000 0000 0000 0341 (attaches, later charges fail)'],
];

/** Radio buttons of the test cards; `checked` is the index selected up front (null: none). */
export function cardChoices(name = 'payment_method', checked: number | null = 0): string {
  return TEST_CARD_CHOICES.map(
    ([value, label], i) =>
      `<label><input type="radio" name="${name}" value="${escapeHtml(value)}"${i === checked ? ' checked' : ''}> ${escapeHtml(label)}</label>`,
  ).join('\n');
}
