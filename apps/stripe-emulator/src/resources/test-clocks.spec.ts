import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { expectStripeShape } from '../../test-support/stripe-shapes.js';
import type { TestEmulator } from '../core/test-kit.js';
import { DAY, T0, advanceTo, customerOnClock, makeWorld, startKit, timeline } from '../billing/testing.js';

let kit: TestEmulator;
beforeAll(async () => {
  kit = await startKit();
});
afterAll(async () => {
  await kit.close();
});

describe('test clocks', () => {
  it('creates, retrieves, lists and deletes', async () => {
    const w = await makeWorld(kit);
    expectStripeShape('TestHelpers.TestClock', w.clock);
    expect(w.clock).toMatchObject({
      object: 'test_helpers.test_clock',
      frozen_time: T0,
      status: 'ready',
      name: 'spec',
    });
    expect(await w.stripe.testHelpers.testClocks.retrieve(w.clock.id)).toMatchObject({ id: w.clock.id });
    const list = await w.stripe.testHelpers.testClocks.list();
    expect(list.data.map((c) => c.id)).toEqual([w.clock.id]);
    const deleted = await w.stripe.testHelpers.testClocks.del(w.clock.id);
    expect(deleted).toMatchObject({ id: w.clock.id, deleted: true });
    await expect(w.stripe.testHelpers.testClocks.retrieve(w.clock.id)).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it('advances forward only, emitting advancing then ready at clock time', async () => {
    const w = await makeWorld(kit);
    const clock = await advanceTo(w, T0 + DAY);
    expectStripeShape('TestHelpers.TestClock', clock);
    expect(clock).toMatchObject({ status: 'ready', frozen_time: T0 + DAY });
    await expect(advanceTo(w, T0)).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      param: 'frozen_time',
    });
    await expect(advanceTo(w, T0 + DAY)).rejects.toMatchObject({ param: 'frozen_time' });
    expect(await timeline(w, ['test_helpers.test_clock.advancing', 'test_helpers.test_clock.ready'])).toEqual(
      [
        ['test_helpers.test_clock.advancing', T0],
        ['test_helpers.test_clock.ready', T0 + DAY],
      ],
    );
  });

  it('refuses to advance more than two intervals of the shortest subscription', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    await w.stripe.subscriptions.create({ customer: c.id, items: [{ price: w.basic.id }] });
    const twoMonths = Date.UTC(2026, 2, 31, 12) / 1000; // Jan 31 + 2 months
    await expect(advanceTo(w, twoMonths + 1)).rejects.toMatchObject({ param: 'frozen_time' });
    expect(await advanceTo(w, twoMonths)).toMatchObject({ frozen_time: twoMonths });
  });

  it("puts the customer's objects on clock time", async () => {
    const w = await makeWorld(kit);
    await advanceTo(w, T0 + 3 * DAY);
    const c = await customerOnClock(w, 'pm_card_visa');
    expect(c.created).toBe(T0 + 3 * DAY);
    const sub = await w.stripe.subscriptions.create({ customer: c.id, items: [{ price: w.basic.id }] });
    expect(sub).toMatchObject({ created: T0 + 3 * DAY, start_date: T0 + 3 * DAY, test_clock: w.clock.id });
    const invoices = await w.stripe.invoices.list({ customer: c.id });
    expect(invoices.data[0]).toMatchObject({ created: T0 + 3 * DAY, test_clock: w.clock.id });
  });
});
