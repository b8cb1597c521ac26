import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { fingerprintOf, newId } from '../core/ids.js';
import { realNow } from '../core/time.js';
import { missingParam, resourceMissing } from '../http/errors.js';
import { optObject } from '../http/form.js';
import type { ApiRequest, Router } from '../http/router.js';
import { readCardParams } from './payment-methods.js';

export function register(router: Router<ApiRequest>, _ctx: EmulatorContext): void {
  router.post('/v1/tokens', (req) => {
    const params = optObject(req.body, 'card');
    if (!params) throw missingParam('card');
    const read = readCardParams(req.account, params);
    const card: Stripe.Card = {
      id: newId('card'),
      object: 'card',
      address_city: null,
      address_country: null,
      address_line1: null,
      address_line1_check: null,
      address_line2: null,
      address_state: null,
      address_zip: null,
      address_zip_check: null,
      brand:
        read.card.brand === 'amex'
          ? 'American Express'
          : read.card.brand === 'visa'
            ? 'Visa'
            : read.card.brand === 'mastercard'
              ? 'MasterCard'
              : read.card.brand,
      country: read.card.country,
      cvc_check: read.cvc ? 'pass' : null,
      dynamic_last4: null,
      exp_month: read.expMonth,
      exp_year: read.expYear,
      fingerprint: fingerprintOf(read.card.number),
      funding: read.card.funding,
      last4: read.card.number.slice(-4),
      metadata: {},
      name: null,
      regulated_status: 'unregulated',
      tokenization_method: null,
    };
    const token: Stripe.Token = {
      id: newId('tok'),
      object: 'token',
      card,
      client_ip: req.headers['x-forwarded-for']?.toString() ?? '127.0.0.1',
      created: realNow(),
      livemode: false,
      type: 'card',
      used: false,
    };
    req.account.tokens.set(token.id, token);
    req.account.internalOf(token.id).card = read.card;
    return token;
  });

  router.get('/v1/tokens/:id', (req) => {
    const id = req.params.id ?? '';
    const token = req.account.tokens.get(id);
    if (!token) throw resourceMissing('token', id);
    return token;
  });
}
