import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { CHAOS_ENV, Chaos, chaosFromEnv } from './chaos.js';

/** A random source that returns the given draws in turn. */
const draws = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe('Chaos: API latency', () => {
  it('adds latencyMs as it is when there is no spread', () => {
    const chaos = new Chaos({ latencyMs: 300 }, draws(0, 0.5, 0.999));
    expect([chaos.apiLatency(), chaos.apiLatency(), chaos.apiLatency()]).toEqual([300, 300, 300]);
  });

  it('draws each call evenly from latencyMs ± latencySpreadMs', () => {
    const chaos = new Chaos({ latencyMs: 300, latencySpreadMs: 150 }, draws(0, 0.5, 0.9999));
    expect([chaos.apiLatency(), chaos.apiLatency(), chaos.apiLatency()]).toEqual([150, 300, 450]);
  });

  it('never goes below zero when the spread is wider than the mean', () => {
    const chaos = new Chaos({ latencyMs: 50, latencySpreadMs: 100 }, draws(0, 0.9999));
    expect([chaos.apiLatency(), chaos.apiLatency()]).toEqual([0, 150]);
  });

  it('reads the spread from STRIPE_EMULATOR_LATENCY_SPREAD_MS and refuses a negative one', () => {
    expect(
      chaosFromEnv({ STRIPE_EMULATOR_LATENCY_MS: '300', STRIPE_EMULATOR_LATENCY_SPREAD_MS: '100' }),
    ).toMatchObject({ latencyMs: 300, latencySpreadMs: 100 });
    expect(() => chaosFromEnv({ STRIPE_EMULATOR_LATENCY_SPREAD_MS: '-1' })).toThrow(
      'latencySpreadMs must be a non-negative number',
    );
    expect(() => new Chaos().update({ latencySpreadMs: 'soon' })).toThrow('latencySpreadMs');
  });
});

describe('Chaos: environment', () => {
  it('documents every switch it reads from the environment in .env.example', () => {
    const documented = readFileSync('.env.example', 'utf8');
    const missing = Object.values(CHAOS_ENV).filter(
      (name) => !new RegExp(`^#?\\s*${name}=`, 'm').test(documented),
    );
    expect(Object.keys(CHAOS_ENV)).toHaveLength(9);
    expect(missing).toEqual([]);
  });
});
