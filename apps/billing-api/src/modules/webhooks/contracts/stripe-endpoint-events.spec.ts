import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { OPTIONAL_STRIPE_EVENTS, STRIPE_ENDPOINT_EVENTS } from './stripe-endpoint-events.js';

const readme = readFileSync(new URL('../../../../../../README.md', import.meta.url), 'utf8');

describe('STRIPE_ENDPOINT_EVENTS', () => {
  it('is the list the README tells operators to enable, in the same order', () => {
    const section = readme.split('## The Stripe webhook endpoint')[1] ?? '';
    const listed = /```text\n([\s\S]*?)```/.exec(section)?.[1]?.trim().split('\n');
    expect(listed).toEqual([...STRIPE_ENDPOINT_EVENTS]);
  });

  it('has no duplicates and shares no type with the optional ones', () => {
    expect(new Set(STRIPE_ENDPOINT_EVENTS).size).toBe(STRIPE_ENDPOINT_EVENTS.length);
    expect(Object.keys(OPTIONAL_STRIPE_EVENTS).filter((t) => STRIPE_ENDPOINT_EVENTS.includes(t))).toEqual([]);
  });
});
