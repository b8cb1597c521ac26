import { expect } from '@jest/globals';
import type { JsonResponse } from './test-app.js';

/** One page of a list endpoint (R-API-4). */
export interface ListPage<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/**
 * Every page of a list, following `next_cursor` from `list(query)`: the ids in the order served and the
 * number of pages. Each page must answer 200 and say `has_more` exactly when it gives a cursor.
 */
export async function allPages<T extends { id: string }>(
  list: (query: string) => Promise<JsonResponse<ListPage<T>>>,
  query: string,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res: JsonResponse<ListPage<T>> = await list(`${query}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    pages += 1;
    ids.push(...res.body.data.map((item) => item.id));
    expect(res.body.next_cursor === null).toBe(!res.body.has_more);
    cursor = res.body.next_cursor;
    if (pages > 20) throw new Error('pagination does not end');
  } while (cursor !== null);
  return { ids, pages };
}
