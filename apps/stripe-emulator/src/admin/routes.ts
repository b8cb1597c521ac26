import type { EmulatorContext } from '../core/context.js';
import { type ChaosSettings, NO_CHAOS } from '../core/chaos.js';
import { StripeApiError, invalidRequest, resourceMissing } from '../http/errors.js';
import type { FormValue } from '../http/form.js';
import type { PageRequest, Router } from '../http/router.js';
import { registerDashboard } from './dashboard.js';
import { registerThreeDSecure } from './three-d-secure.js';

function str(value: FormValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Admin endpoints outside `/v1`: health, reset, chaos switches, webhook deliveries and redelivery.
 * `key=sk_test_...` (query or body) narrows reset / deliveries to one account.
 */
export function registerAdmin(pages: Router<PageRequest>, ctx: EmulatorContext, resetAll: () => void): void {
  const started = Date.now();
  registerThreeDSecure(pages, ctx);
  registerDashboard(pages, ctx);

  pages.get('/_emulator/health', () => ({
    status: 'ok',
    uptime_ms: Date.now() - started,
    accounts: ctx.state.accounts.size,
  }));

  pages.post('/_emulator/reset', (req) => {
    const key = str(req.body.key) ?? str(req.query.key);
    if (key) {
      ctx.state.accounts.get(key)?.clear();
      return { reset: 'account', key };
    }
    resetAll();
    return { reset: 'all' };
  });

  const chaosState = () => ({
    ...ctx.chaos.settings,
    failNext: ctx.chaos.pendingFailures,
    loseNext: ctx.chaos.pendingLosses,
    dropNextWebhooks: ctx.chaos.pendingDrops,
  });

  pages.get('/_emulator/chaos', chaosState);

  pages.post('/_emulator/chaos', (req) => {
    const patch: Partial<Record<keyof ChaosSettings, unknown>> = {};
    const input = { ...req.query, ...req.body } as Record<string, unknown>;
    if (input.reset === 'true' || input.reset === true) ctx.chaos.reset();
    for (const name of Object.keys(NO_CHAOS) as (keyof ChaosSettings)[]) {
      if (input[name] !== undefined) patch[name] = input[name];
    }
    try {
      ctx.chaos.update(patch);
      if (input.failNext !== undefined && input.failNext !== '') ctx.chaos.failNext(Number(input.failNext));
      if (input.loseNext !== undefined && input.loseNext !== '') ctx.chaos.loseNext(Number(input.loseNext));
      if (input.dropNextWebhooks !== undefined && input.dropNextWebhooks !== '') {
        ctx.chaos.dropNextWebhooks(Number(input.dropNextWebhooks));
      }
    } catch (err) {
      throw invalidRequest((err as Error).message);
    }
    return chaosState();
  });

  pages.get('/_emulator/deliveries', (req) => {
    const key = str(req.query.key);
    const filter: { accountId?: string; eventId?: string; status?: string } = {};
    if (key) {
      const account = ctx.state.accounts.get(key);
      if (!account) return { object: 'list', data: [] };
      filter.accountId = account.id;
    }
    const event = str(req.query.event);
    if (event) filter.eventId = event;
    const status = str(req.query.status);
    if (status) filter.status = status;
    return { object: 'list', data: ctx.delivery.list(filter) };
  });

  pages.post('/_emulator/events/:id/redeliver', (req) => {
    const id = req.params.id ?? '';
    const owner = ctx.state.findOwner('events', id);
    if (!owner) throw resourceMissing('event', id);
    const records = ctx.delivery.redeliver(owner.account, owner.object);
    if (records.length === 0) {
      throw new StripeApiError({
        status: 400,
        type: 'invalid_request_error',
        message: 'No enabled webhook endpoint listens to this event.',
      });
    }
    return { object: 'list', data: records };
  });
}
