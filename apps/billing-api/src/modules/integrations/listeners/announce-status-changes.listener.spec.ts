import { describe, expect, it } from '@jest/globals';
import { PAYMENT_STATUSES, REFUND_TRANSITIONS, type RefundStatus } from '@billing/domain';
import { INTEGRATION_EVENT_TYPES } from '../contracts/integration-event.js';
import { integrationDedupeKey } from '../integrations.facade.js';
import { PAYMENT_EVENT_TYPES, REFUND_EVENT_TYPES } from './announce-status-changes.listener.js';

describe('the integration event of a payment status', () => {
  it('is the status under payment.*, except pending and unknown (internal)', () => {
    const expected = (status: string) =>
      status === 'pending' || status === 'unknown' ? null : `payment.${status}`;
    for (const status of PAYMENT_STATUSES) expect(PAYMENT_EVENT_TYPES[status]).toBe(expected(status));
  });

  it('covers every payment.* type of the contract, and nothing outside it', () => {
    const produced = Object.values(PAYMENT_EVENT_TYPES).filter((t) => t !== null);
    const listed = INTEGRATION_EVENT_TYPES.filter((t) => t.startsWith('payment.'));
    expect([...produced].sort()).toEqual([...listed].sort());
  });

  it('is keyed by payment and status when there is no cause, else also by cause', () => {
    const base = { type: 'payment.failed', subjectId: 'p1' } as const;
    expect(integrationDedupeKey({ ...base, causeId: null })).toBe('payment.failed:p1');
    expect(integrationDedupeKey({ ...base, causeId: 'evt_1' })).toBe('payment.failed:p1:evt_1');
    expect(integrationDedupeKey({ ...base, causeId: null })).not.toBe(
      integrationDedupeKey({ ...base, type: 'payment.succeeded', causeId: null }),
    );
  });
});

describe('the integration event of a refund status', () => {
  it('is the status under refund.*, except pending (where a refund starts)', () => {
    for (const status of Object.keys(REFUND_TRANSITIONS) as RefundStatus[]) {
      expect(REFUND_EVENT_TYPES[status]).toBe(status === 'pending' ? null : `refund.${status}`);
    }
  });

  it('covers every refund.* type of the contract, and nothing outside it', () => {
    const produced = Object.values(REFUND_EVENT_TYPES).filter((t) => t !== null);
    const listed = INTEGRATION_EVENT_TYPES.filter((t) => t.startsWith('refund.'));
    expect([...produced].sort()).toEqual([...listed].sort());
  });
});
