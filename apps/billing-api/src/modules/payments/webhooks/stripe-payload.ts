import { PermanentEventError } from '../../webhooks/contracts/stripe-event-handler.js';

/** Helpers shared by the transform functions: Stripe payload fields, checked, never guessed. */

export { idOf } from '../../../platform/stripe/stripe-ids.js';

/** A unix-seconds timestamp as a Date; null stays null. */
export function dateOf(seconds: number | null | undefined): Date | null {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(seconds * 1000) : null;
}

/** An integer amount of minor units; anything else is a malformed payload that no retry fixes. */
export function minorUnits(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new PermanentEventError(`${field} is not an integer amount of minor units`, 'malformed_payload');
  }
  return value;
}

/** A required string field. */
export function requiredString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new PermanentEventError(`${field} is missing from the Stripe object`, 'malformed_payload');
  }
  return value;
}

/** A lower-case ISO currency code. */
export function currencyOf(value: unknown, field = 'currency'): string {
  const currency = requiredString(value, field).toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) {
    throw new PermanentEventError(`${field} '${currency}' is not an ISO 4217 code`, 'malformed_payload');
  }
  return currency;
}

/** A string metadata value, or null. */
export function metadataValue(metadata: unknown, key: string): string | null {
  if (!metadata || typeof metadata !== 'object') return null;
  const value = (metadata as Record<string, unknown>)[key];
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** String-only metadata (what Stripe stores), copied. */
export function stringMetadata(metadata: unknown): Record<string, string> {
  if (!metadata || typeof metadata !== 'object') return {};
  return Object.fromEntries(
    Object.entries(metadata as Record<string, unknown>).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}
