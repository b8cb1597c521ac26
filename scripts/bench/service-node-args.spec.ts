import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { SERVICE_NODE_ARGS, WORKER_NODE_ARGS } from './service-node-args.js';

/** The flags are written in three places that cannot import one another; they must not drift apart. */
describe('the V8 flags the service runs with', () => {
  it('are the same in the Dockerfile, npm start and the benches', () => {
    expect(SERVICE_NODE_ARGS.length).toBeGreaterThan(0);
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    expect(/^ENV NODE_OPTIONS=(.*)$/mu.exec(dockerfile)?.[1]?.replace(/^"|"$/gu, '')).toBe(
      SERVICE_NODE_ARGS.join(' '),
    );
    const start = readFileSync('scripts/start.mjs', 'utf8');
    const spawned = /spawn\(process\.execPath, \[([^\]]*)'dist\/apps\/billing-api\/src\/main\.js'\]/u.exec(
      start,
    )?.[1];
    expect(spawned?.match(/'[^']+'/gu)?.map((flag) => flag.slice(1, -1))).toEqual(SERVICE_NODE_ARGS);
  });

  it("the worker's are the same in docker-compose.yml and the benches", () => {
    const compose = readFileSync('docker-compose.yml', 'utf8');
    const worker = compose.slice(compose.indexOf('\n  worker:'));
    expect(/^\s+NODE_OPTIONS: (.*)$/mu.exec(worker)?.[1]).toBe(WORKER_NODE_ARGS.join(' '));
  });
});
