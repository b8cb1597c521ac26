import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { emitEvent } from '../core/events.js';
import { newId } from '../core/ids.js';
import { realNow } from '../core/time.js';
import { resourceMissing } from '../http/errors.js';
import { optNonEmpty, reqInt } from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';
import { advance } from '../billing/service/clock.js';
import { installBilling } from '../billing/service/install.js';

function getClock(req: ApiRequest): Stripe.TestHelpers.TestClock {
  const id = req.params.id ?? '';
  const clock = req.account.test_clocks.get(id);
  if (!clock) throw resourceMissing('test_helpers.test_clock', id);
  return clock;
}

/** Stripe deletes test clocks (and everything on them) 30 days after creation. */
const DELETES_AFTER_SECONDS = 30 * 86_400;

export function register(router: Router<ApiRequest>, ctx: EmulatorContext): void {
  installBilling(ctx);
  router.post('/v1/test_helpers/test_clocks', (req) => {
    const frozen = reqInt(req.body, 'frozen_time');
    const created = realNow();
    const clock: Stripe.TestHelpers.TestClock = {
      id: newId('clock'),
      object: 'test_helpers.test_clock',
      created,
      deletes_after: created + DELETES_AFTER_SECONDS,
      frozen_time: frozen,
      livemode: false,
      name: optNonEmpty(req.body, 'name') ?? null,
      status: 'ready',
      status_details: {},
    };
    req.account.test_clocks.set(clock.id, clock);
    emitEvent(req.account, { type: 'test_helpers.test_clock.created', object: clock, testClockId: clock.id });
    return clock;
  });
  router.get('/v1/test_helpers/test_clocks', (req) =>
    paginate(req.account.test_clocks.values(), req.query, '/v1/test_helpers/test_clocks'),
  );
  router.get('/v1/test_helpers/test_clocks/:id', (req) => getClock(req));
  router.delete('/v1/test_helpers/test_clocks/:id', (req) => {
    const clock = getClock(req);
    emitEvent(req.account, { type: 'test_helpers.test_clock.deleted', object: clock, testClockId: clock.id });
    req.account.test_clocks.delete(clock.id);
    req.account.deleted.set(clock.id, 'test_helpers.test_clock');
    const deleted: Stripe.TestHelpers.DeletedTestClock = {
      id: clock.id,
      object: 'test_helpers.test_clock',
      deleted: true,
    };
    return deleted;
  });
  router.post('/v1/test_helpers/test_clocks/:id/advance', (req) =>
    advance(req.account, getClock(req), reqInt(req.body, 'frozen_time')),
  );
}
