import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { findTextProblem, jsonDepthExceeds, MAX_JSON_DEPTH, textProblem } from './request-screen.js';
import { RouteTable } from './route-table.js';

describe('request screens (issue 16)', () => {
  it('measures JSON nesting in one pass, strings and escapes skipped', () => {
    expect(jsonDepthExceeds('{"a":[1,{"b":2}]}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":[1,{"b":[]}]}', 3)).toBe(true);
    expect(jsonDepthExceeds(`{"a":"${'['.repeat(100)}"}`, 2)).toBe(false);
    expect(jsonDepthExceeds(`{"a":"\\"${'{'.repeat(100)}"}`, 2)).toBe(false);
    expect(jsonDepthExceeds(`${'['.repeat(5000)}${']'.repeat(5000)}`, MAX_JSON_DEPTH)).toBe(true);
  });

  it('agrees with the depth of the parsed value on generated JSON', () => {
    const depth = (v: unknown): number =>
      Array.isArray(v)
        ? 1 + Math.max(0, ...v.map(depth))
        : v !== null && typeof v === 'object'
          ? 1 + Math.max(0, ...Object.values(v).map(depth))
          : 0;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 0, max: 6 }), (value, limit) => {
        expect(jsonDepthExceeds(JSON.stringify(value), limit)).toBe(depth(value) > limit);
      }),
      { numRuns: 500 },
    );
  });

  it('finds U+0000 and lone surrogates in strings and keys, never in whole characters', () => {
    expect(textProblem('a\u0000b')).toBe('nul');
    expect(textProblem('\ud800')).toBe('surrogate');
    expect(textProblem('x\udc00')).toBe('surrogate');
    expect(textProblem('\ud83d\ude00')).toBeNull();
    expect(textProblem('plain é')).toBeNull();
    expect(findTextProblem({ a: 'ok', b: [{ c: 'x\u0000' }] })).toEqual({ path: 'b[0].c', problem: 'nul' });
    expect(findTextProblem({ ['k\ud800']: 1 })).toEqual({ path: '(key)', problem: 'surrogate' });
    expect(findTextProblem({ a: 1, b: [true, null, '\u{1F600}'] })).toBeNull();
  });
});

describe('route table (405 instead of 404)', () => {
  it('names the methods a concrete path is served with, parameters matching one segment', () => {
    const table = new RouteTable();
    const hooks: ((route: { url: string; method: string | string[] }) => void)[] = [];
    table.watch({ addHook: (_name: string, fn: (typeof hooks)[number]) => hooks.push(fn) } as never);
    const add = (method: string | string[], url: string): void => hooks.forEach((h) => h({ method, url }));
    add(['GET', 'HEAD'], '/v1/accounts/:accountId');
    add('PATCH', '/v1/accounts/:accountId');
    add('GET', '/v1/payments/:paymentId/receipt.pdf');
    add('OPTIONS', '*');
    expect(table.allowedMethods('/v1/accounts/abc?x=1')).toEqual(['GET', 'HEAD', 'PATCH']);
    expect(table.allowedMethods('/v1/accounts/abc/')).toEqual([]);
    expect(table.allowedMethods('/v1/accounts/')).toEqual([]);
    expect(table.allowedMethods('/v1/payments/p1/receipt.pdf')).toEqual(['GET']);
    expect(table.allowedMethods('/v1/payments/p1/receiptxpdf')).toEqual([]);
  });
});
