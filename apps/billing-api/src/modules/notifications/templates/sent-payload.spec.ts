import { describe, expect, it } from '@jest/globals';
import { payloadAfterSent } from './sent-payload.js';

describe('payloadAfterSent', () => {
  const requested = {
    transferId: 't1',
    fromUserId: 'alice',
    confirmUrl: 'https://app.example.test/ownership/confirm?token=secret-token#x',
    expiresAt: '2026-12-09T10:00:00.000Z',
  };

  it('keeps the ownership transfer link without its token, and the rest as it was', () => {
    const kept = payloadAfterSent('ownership_transfer_requested', requested);
    expect(kept).toEqual({ ...requested, confirmUrl: 'https://app.example.test/ownership/confirm' });
    expect(JSON.stringify(kept)).not.toContain('secret-token');
  });

  it('drops a link it cannot parse rather than keep it', () => {
    expect(
      payloadAfterSent('ownership_transfer_requested', { ...requested, confirmUrl: 'token=abc' }),
    ).toEqual({
      ...requested,
      confirmUrl: '',
    });
  });

  it('leaves the payloads of other templates alone', () => {
    expect(payloadAfterSent('ownership_transfer', { previousOwnerEmail: 'a@example.test' })).toBeNull();
  });
});
