import { SetMetadata } from '@nestjs/common';

export const SKIP_CARD_DATA_CHECK = 'billing:skip-card-data-check';
/** For routes whose body is not ours to judge (signed Stripe webhooks). */
export const SkipCardDataCheck = (): MethodDecorator & ClassDecorator =>
  SetMetadata(SKIP_CARD_DATA_CHECK, true);
