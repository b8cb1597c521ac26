import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { IdempotentOutcomeType } from './idempotent-outcome.js';

export const IDEMPOTENT = 'billing:idempotent';

/** What a route that requires an Idempotency-Key may answer about it (for its `@ApiErrors`). */
export const IDEMPOTENCY_ERRORS = [
  'idempotency_key_required',
  'idempotency_key_invalid',
  'idempotency_key_reused',
  'idempotency_request_in_progress',
  'idempotency_key_in_use',
] as const;
export interface IdempotentOptions {
  /** Refuse the request (400 `idempotency_key_required`) when the header is missing. */
  required: boolean;
  /**
   * The route links what it writes to the key (`linkKeySql`) and this provider tells the outcome from it
   * when the answer was lost (issue 16). Without it, a key whose request did not finish is answered 409
   * `idempotency_key_in_use` until it expires.
   */
  outcome?: IdempotentOutcomeType;
}

/**
 * Marks a mutating route as taking `Idempotency-Key` (R-API-5). Every POST/PUT/PATCH/DELETE honours the
 * header when sent; routes that move money require it.
 */
export const Idempotent = (options: IdempotentOptions = { required: false }): MethodDecorator =>
  applyDecorators(
    SetMetadata(IDEMPOTENT, options),
    ApiHeader({
      name: 'Idempotency-Key',
      required: options.required,
      description:
        'A unique key per logical operation (1-255 printable characters). Retrying with the same key and body replays the first response; the same key with another body is a 409 idempotency_key_reused. A request refused before executing (a 4xx other than 402) keeps no key: correct it and retry with the same key. A 409 idempotency_key_in_use says the first request with this key did not finish and is never run again: retry later with the same key (payments and refunds then answer with their outcome). Keys are kept for 24 hours.',
    }),
  );
