import { describe, expect, it } from '@jest/globals';
import { RequestContext } from './request-context.js';

describe('RequestContext Stripe time', () => {
  const run = <T>(fn: () => T): T =>
    RequestContext.run({ correlationId: 'c', actor: { type: 'system', id: null } }, fn);

  it('counts calls made in parallel once: the wall time while at least one waited', () => {
    let t = 0;
    const now = () => t;
    const ms = run(() => {
      const a = RequestContext.startStripeCall(now);
      t = 100;
      const b = RequestContext.startStripeCall(now);
      t = 500;
      a();
      t = 700;
      b();
      b(); // ending twice changes nothing
      t = 1000;
      const c = RequestContext.startStripeCall(now);
      t = 1200;
      c();
      return RequestContext.current()?.stripeMs;
    });
    expect(ms).toBe(700 + 200);
  });

  it('does nothing outside a request or job', () => {
    expect(() => RequestContext.startStripeCall()()).not.toThrow();
  });
});
