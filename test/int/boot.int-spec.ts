import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http, startTestApp, type TestApp } from '../support/test-app.js';

describe('boot', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers liveness and readiness', async () => {
    expect((await http(t.url, 'GET', '/health')).body).toEqual({ status: 'ok' });
    const ready = await http<{ status: string }>(t.url, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
  });
});
