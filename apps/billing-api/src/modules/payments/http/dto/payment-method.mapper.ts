import type { AccountPaymentMethodView } from '../../contracts/payment.view.js';
import type { PaymentMethodDto } from './payment-method.dto.js';

/** The API's shape of a saved method: brand, last 4 and expiry only (R-CORE-6). */
export function toPaymentMethodDto(method: AccountPaymentMethodView): PaymentMethodDto {
  return {
    id: method.id,
    stripePaymentMethodId: method.stripePaymentMethodId,
    type: method.type,
    brand: method.brand,
    last4: method.last4,
    expMonth: method.expMonth,
    expYear: method.expYear,
    funding: method.funding,
    isDefault: method.isDefault,
    status: method.status,
  };
}
