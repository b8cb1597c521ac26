import type { EmulatorContext } from '../core/context.js';
import { resourceMissing } from '../http/errors.js';
import { optNonEmpty, optStringArray } from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';

/** Matches `type` with Stripe's wildcard form (`customer.*`). */
function typeMatches(pattern: string, type: string): boolean {
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

export function register(router: Router<ApiRequest>, _ctx: EmulatorContext): void {
  router.get('/v1/events/:id', (req) => {
    const id = req.params.id ?? '';
    const event = req.account.events.get(id);
    if (!event) throw resourceMissing('event', id);
    return event;
  });

  router.get('/v1/events', (req) => {
    const type = optNonEmpty(req.query, 'type');
    const types = optStringArray(req.query, 'types');
    return paginate(req.account.events.values(), req.query, '/v1/events', {
      filter: (e) =>
        (type === undefined || typeMatches(type, e.type)) &&
        (types === undefined || types.length === 0 || types.some((t) => typeMatches(t, e.type))),
    });
  });
}
