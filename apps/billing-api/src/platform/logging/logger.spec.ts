import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { RequestContext } from '../context/request-context.js';
import { createRootLogger, PinoNestLogger } from './logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('logger (R-OPS-2)', () => {
  it('writes JSON lines carrying the correlation id of the current request', () => {
    const out = capture();
    const logger = createRootLogger('info', out.stream);
    RequestContext.run({ correlationId: 'corr-123', actor: { type: 'system', id: null } }, () =>
      logger.info('inside'),
    );
    logger.info('outside');
    const [inside, outside] = out.lines();
    expect(inside).toMatchObject({ msg: 'inside', correlationId: 'corr-123', level: 30 });
    expect(outside?.correlationId).toBeUndefined();
  });

  it('redacts authorization, signatures, idempotency keys, secrets and e-mail addresses', () => {
    const out = capture();
    const logger = createRootLogger('info', out.stream);
    logger.info(
      {
        req: {
          id: 1,
          method: 'POST',
          url: '/v1/x?email=a@b.test',
          headers: {
            authorization: 'Bearer abc.def',
            'stripe-signature': 't=1,v1=ff',
            'idempotency-key': 'k',
          },
        },
        account: { billingEmail: 'billing@acme.test', secret: 'whsec_123' },
      },
      'request',
    );
    const text = JSON.stringify(out.lines());
    for (const secret of ['abc.def', 'v1=ff', 'billing@acme.test', 'whsec_123', 'a@b.test'])
      expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });

  it('adapts Nest log calls, keeping their context and error stacks', () => {
    const out = capture();
    const nest = new PinoNestLogger(createRootLogger('trace', out.stream));
    nest.log('started', 'Bootstrap');
    nest.error(new Error('boom'), 'Worker');
    nest.warn({ msg: 'slow', ms: 1200 }, 'Queue');
    const [log, error, warn] = out.lines();
    expect(log).toMatchObject({ msg: 'started', context: 'Bootstrap', level: 30 });
    expect(error).toMatchObject({ msg: 'boom', context: 'Worker', level: 50 });
    expect((error?.err as { stack?: string }).stack).toContain('boom');
    expect(warn).toMatchObject({ msg: 'slow', ms: 1200, context: 'Queue', level: 40 });
  });

  it('never writes a card number of the request path (issue 16)', () => {
    const out = capture();
    const logger = createRootLogger('info', out.stream);
    logger.info(
      { req: { id: 1, method: 'GET', url: '/v1/payments/4242424242424242?x=1' } },
      'incoming request',
    );
    const text = JSON.stringify(out.lines());
    expect(text).not.toContain('4242424242424242');
    expect(text).toContain('/v1/payments/[card]');
  });
});
