import { invalidRequest, resourceMissing } from './errors.js';
import { type FormParams, matchesRange, optInt, optNonEmpty } from './form.js';

export interface ListObject<T> {
  object: 'list';
  url: string;
  has_more: boolean;
  data: T[];
}

interface Listable {
  id: string;
  created?: number;
}

export interface ListOptions<T> {
  /** Keep only the objects for which this returns true (applied before pagination). */
  filter?: (item: T) => boolean;
  /** Default true: sort newest first by `created`, ties broken newest insertion first. */
  sortNewestFirst?: boolean;
  /** Apply the generic `created[gt|gte|lt|lte]` filter (default true). */
  createdFilter?: boolean;
}

/**
 * Stripe pagination over any iterable in insertion order: `limit` 1..100 (default 10),
 * `starting_after` / `ending_before` by id, newest first, `{ object: 'list', url, has_more, data }`.
 */
export function paginate<T extends Listable>(
  items: Iterable<T>,
  params: FormParams,
  url: string,
  options: ListOptions<T> = {},
): ListObject<T> {
  const limit = optInt(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) {
    throw invalidRequest('Invalid limit: must be between 1 and 100', 'limit');
  }
  const startingAfter = optNonEmpty(params, 'starting_after');
  const endingBefore = optNonEmpty(params, 'ending_before');
  if (startingAfter && endingBefore) {
    throw invalidRequest('You may only specify one of these parameters: ending_before, starting_after.');
  }
  const filter = options.filter;
  const useCreated = options.createdFilter !== false && params.created !== undefined;
  const all: T[] = [];
  for (const item of items) {
    if (filter && !filter(item)) continue;
    if (useCreated && !matchesRange(item.created ?? 0, params, 'created')) continue;
    all.push(item);
  }
  all.reverse();
  if (options.sortNewestFirst !== false) {
    // Array.prototype.sort is stable, so equal `created` keeps newest insertion first.
    all.sort((a, b) => (b.created ?? 0) - (a.created ?? 0));
  }

  let data: T[];
  let hasMore: boolean;
  if (startingAfter) {
    const index = all.findIndex((item) => item.id === startingAfter);
    if (index < 0) throw resourceMissing('object', startingAfter, 'starting_after');
    data = all.slice(index + 1, index + 1 + limit);
    hasMore = index + 1 + limit < all.length;
  } else if (endingBefore) {
    const index = all.findIndex((item) => item.id === endingBefore);
    if (index < 0) throw resourceMissing('object', endingBefore, 'ending_before');
    const start = Math.max(0, index - limit);
    data = all.slice(start, index);
    hasMore = start > 0;
  } else {
    data = all.slice(0, limit);
    hasMore = limit < all.length;
  }
  return { object: 'list', url, has_more: hasMore, data };
}

/** Newest-first order of a large map, kept while the map only grows (see {@link paginateMap}). */
const orders = new WeakMap<Map<string, Listable>, { order: Listable[]; index: Map<string, number> }>();

/**
 * {@link paginate} over a map whose entries are never removed and whose `created` never changes (the
 * same order, the same pages), without sorting the whole map again for every `starting_after` page: the
 * newest-first order is kept per map and rebuilt when the map's size changes, and a page walks on from
 * the cursor. Paging through 100,000 subscriptions is then linear, not quadratic.
 */
export function paginateMap<T extends Listable>(
  map: Map<string, T>,
  params: FormParams,
  url: string,
  options: ListOptions<T> = {},
): ListObject<T> {
  const startingAfter = optNonEmpty(params, 'starting_after');
  if (!startingAfter || optNonEmpty(params, 'ending_before') || options.sortNewestFirst === false) {
    return paginate(map.values(), params, url, options);
  }
  const limit = optInt(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) {
    throw invalidRequest('Invalid limit: must be between 1 and 100', 'limit');
  }
  let cached = orders.get(map);
  if (!cached || cached.order.length !== map.size) {
    const order: T[] = [...map.values()].reverse();
    order.sort((a, b) => (b.created ?? 0) - (a.created ?? 0));
    cached = { order, index: new Map(order.map((item, i) => [item.id, i])) };
    orders.set(map, cached);
  }
  const at = cached.index.get(startingAfter);
  if (at === undefined) throw resourceMissing('object', startingAfter, 'starting_after');
  const useCreated = options.createdFilter !== false && params.created !== undefined;
  const data: T[] = [];
  let hasMore = false;
  for (let i = at + 1; i < cached.order.length; i++) {
    const item = cached.order[i] as T;
    if (options.filter && !options.filter(item)) continue;
    if (useCreated && !matchesRange(item.created ?? 0, params, 'created')) continue;
    if (data.length === limit) {
      hasMore = true;
      break;
    }
    data.push(item);
  }
  return { object: 'list', url, has_more: hasMore, data };
}

/** A list object for a fixed array (e.g. embedded `items` or `refunds`); not paginated further. */
export function listOf<T>(url: string, data: T[], hasMore = false): ListObject<T> {
  return { object: 'list', url, has_more: hasMore, data };
}
