import { describe, expect, it } from '@jest/globals';
import { applyMetadata, decodeForm, optStringArray, optObjectArray } from './form.js';
import { paginate } from './list.js';

describe('decodeForm', () => {
  it('decodes nested keys, indexed arrays, a[]= arrays and keeps empty values', () => {
    const params = decodeForm(
      'a[b][c]=v&items[0][price]=p1&items[0][quantity]=2&items[1][price]=p2&expand[]=x&expand[]=y&metadata[k]=&name=A%20B',
    );
    expect(params).toEqual({
      a: { b: { c: 'v' } },
      items: [{ price: 'p1', quantity: '2' }, { price: 'p2' }],
      expand: ['x', 'y'],
      metadata: { k: '' },
      name: 'A B',
    });
    expect(optObjectArray(params, 'items')).toHaveLength(2);
    expect(optStringArray(params, 'expand')).toEqual(['x', 'y']);
  });

  it('turns large or sparse indexed arrays back into ordered arrays', () => {
    const body = Array.from({ length: 30 }, (_, i) => `ids[${29 - i}]=id${29 - i}`).join('&');
    const ids = optStringArray(decodeForm(body), 'ids');
    expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => `id${i}`));
  });

  it('applies metadata: set, remove with empty value, clear with metadata=', () => {
    expect(applyMetadata({ a: '1', b: '2' }, decodeForm('metadata[a]=&metadata[c]=3'))).toEqual({
      b: '2',
      c: '3',
    });
    expect(applyMetadata({ a: '1' }, decodeForm('metadata='))).toEqual({});
    expect(applyMetadata({ a: '1' }, decodeForm('name=x'))).toEqual({ a: '1' });
  });
});

describe('paginate', () => {
  const items = Array.from({ length: 5 }, (_, i) => ({ id: `o${i}`, created: 100 + (i % 2) }));

  it('orders newest first by created, then newest insertion, and pages both ways', () => {
    const first = paginate(items, decodeForm('limit=2'), '/v1/x');
    expect(first.data.map((o) => o.id)).toEqual(['o3', 'o1']);
    expect(first.has_more).toBe(true);
    const next = paginate(items, decodeForm('limit=2&starting_after=o1'), '/v1/x');
    expect(next.data.map((o) => o.id)).toEqual(['o4', 'o2']);
    const last = paginate(items, decodeForm('limit=2&starting_after=o2'), '/v1/x');
    expect(last).toMatchObject({ has_more: false, data: [{ id: 'o0' }] });
    const back = paginate(items, decodeForm('limit=2&ending_before=o2'), '/v1/x');
    expect(back.data.map((o) => o.id)).toEqual(['o1', 'o4']);
    expect(back.has_more).toBe(true);
  });

  it('filters by created ranges and rejects bad limits', () => {
    expect(paginate(items, decodeForm('created[gte]=101'), '/v1/x').data).toHaveLength(2);
    expect(() => paginate(items, decodeForm('limit=0'), '/v1/x')).toThrow(/limit/);
  });
});
