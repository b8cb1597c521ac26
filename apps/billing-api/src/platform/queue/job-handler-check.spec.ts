import { describe, expect, it } from '@jest/globals';
import { checkJobHandlers } from './job-handler-check.js';

describe('checkJobHandlers', () => {
  const declared = ['a.one', 'a.two'];

  it('accepts exactly one handler per declared job', () => {
    expect(checkJobHandlers(['a.one', 'a.two'], declared)).toEqual([]);
  });

  it('names a job without a handler, one with two, and a handler for an undeclared job', () => {
    expect(checkJobHandlers(['a.one', 'a.one', 'b.three'], declared)).toEqual([
      'job "a.one" has 2 handlers',
      'job "a.two" has no handler',
      'handler for undeclared job "b.three"',
    ]);
  });
});
