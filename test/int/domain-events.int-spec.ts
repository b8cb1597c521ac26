import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EntityManager } from 'typeorm';
import {
  OnDomainEvent,
  type DomainEvent,
  type DomainEventType,
} from '../../apps/billing-api/src/platform/events/domain-event.js';
import { DomainEvents } from '../../apps/billing-api/src/platform/events/domain-events.js';
import { refundStatusChanged } from '../../apps/billing-api/src/modules/refunds/contracts/refund.events.js';
import { startTestApp, tokenFor, type TestApp } from '../support/test-app.js';
import { createAccount } from './webhooks.support.js';

/** A listener of a type nobody declares (a typo, or a publisher that was removed). */
@Injectable()
class TypoListener {
  @OnDomainEvent('refund.status_chnaged' as DomainEventType)
  heard(): void {}
}

/** A second listener of refund.status_changed that writes through the publishing transaction. */
@Injectable()
class WritingListener {
  @OnDomainEvent('refund.status_changed')
  async heard(event: DomainEvent<'refund.status_changed'>, manager: EntityManager): Promise<void> {
    await manager.query(`INSERT INTO test_listener_writes (refund_id) VALUES ($1)`, [event.payload.refundId]);
  }
}

describe('domain events', () => {
  it('refuse to start an app with a listener of an undeclared event type, naming it', async () => {
    await expect(startTestApp({ role: 'api', providers: [TypoListener] })).rejects.toThrow(
      /TypoListener\.heard listens to "refund\.status_chnaged", which no module declares/,
    );
  });

  describe('with listeners', () => {
    let t: TestApp;
    let accountId: string;

    beforeAll(async () => {
      t = await startTestApp({ role: 'api', providers: [WritingListener] });
      await t.db.query(`CREATE TABLE IF NOT EXISTS test_listener_writes (refund_id uuid NOT NULL)`);
      accountId = await createAccount(t.url, await tokenFor({ sub: 'admin-1', role: 'admin' }));
    });
    afterAll(async () => {
      await t.close();
    });

    const event = (refundId: string) =>
      refundStatusChanged({
        refundId,
        paymentId: randomUUID(),
        accountId,
        from: 'pending',
        to: 'succeeded',
        amount: 1250,
        currency: 'usd',
        reason: 'requested_by_customer',
        failureReason: null,
        stripeRefundId: `re_${refundId.slice(0, 8)}`,
        occurredAt: new Date().toISOString(),
      });

    /** What every listener of refund.status_changed wrote for this refund. */
    async function written(refundId: string) {
      const [row] = await t.db.query<{ mine: number; integration: number; email: number }[]>(
        `SELECT (SELECT count(*)::int FROM test_listener_writes WHERE refund_id = $1::uuid) AS mine,
                (SELECT count(*)::int FROM integration_events WHERE subject_id = $2) AS integration,
                (SELECT count(*)::int FROM notifications WHERE dedupe_key = $3) AS email`,
        [refundId, refundId, `refund:${refundId}`],
      );
      return row;
    }

    it('run every listener inside the publishing transaction: all commit with it', async () => {
      const refundId = randomUUID();
      await t.db.transaction((manager) => t.app.get(DomainEvents).publish(manager, [event(refundId)]));
      expect(await written(refundId)).toEqual({ mine: 1, integration: 1, email: 1 });
    });

    it('and none of their writes survive when the publishing transaction rolls back', async () => {
      const refundId = randomUUID();
      await expect(
        t.db.transaction(async (manager) => {
          await t.app.get(DomainEvents).publish(manager, [event(refundId)]);
          throw new Error('the change fails after its event was published');
        }),
      ).rejects.toThrow('the change fails');
      expect(await written(refundId)).toEqual({ mine: 0, integration: 0, email: 0 });
    });

    it('are catalogued in docs/architecture.md as the code has them', () => {
      const names = (list: string[]) =>
        list
          .filter((n) => !n.startsWith('WritingListener.'))
          .map((n) => `\`${n}\``)
          .join(', ');
      const rows = t.app
        .get(DomainEvents)
        .catalogue()
        .map(
          (l) =>
            `| \`${l.type}\` | ${l.publisher} | ${names(l.listeners)} | ${names(l.statementListeners)} |`,
        );
      const doc = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
      const block = /<!-- event-catalogue:start -->([^]*?)<!-- event-catalogue:end -->/.exec(doc)?.[1] ?? '';
      const documented = block.split('\n').filter((line) => line.startsWith('| `'));
      const spaced = (r: string) => r.replace(/ +\|/g, ' |');
      expect(documented.map(spaced)).toEqual(rows.map(spaced));
    });

    it('list every declared type with its publisher and listeners', () => {
      const line = t.app
        .get(DomainEvents)
        .catalogue()
        .find((l) => l.type === 'refund.status_changed');
      expect(line).toEqual({
        type: 'refund.status_changed',
        publisher: 'refunds',
        listeners: [
          'AnnounceStatusChangesListener.refundStatusChanged',
          'CountRefundStatusListener.count',
          'RefundIssuedEmailListener.refundStatusChanged',
          'WritingListener.heard',
        ],
        statementListeners: [],
      });
    });
  });
});
