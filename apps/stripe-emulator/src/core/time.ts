import type { Account } from './state.js';

/** Real time in unix seconds. */
export function realNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** The frozen time of a test clock, or real time when the clock is unknown or absent. */
export function nowForClock(account: Account, clockId: string | null | undefined): number {
  if (clockId) {
    const clock = account.test_clocks.get(clockId);
    if (clock) return clock.frozen_time;
  }
  return realNow();
}

/** The test clock id a customer lives on, if any. */
export function clockOfCustomer(account: Account, customerId: string | null | undefined): string | null {
  if (!customerId) return null;
  const customer = account.customers.get(customerId);
  const clock = customer?.test_clock;
  if (!clock) return null;
  return typeof clock === 'string' ? clock : clock.id;
}

/**
 * "Now" as seen by a customer: the frozen time of the customer's test clock when the customer is on
 * one, real time otherwise. Every `created` field uses it.
 */
export function nowFor(account: Account, customerId?: string | null): number {
  return nowForClock(account, clockOfCustomer(account, customerId));
}
