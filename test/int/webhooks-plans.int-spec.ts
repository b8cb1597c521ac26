import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import pg from 'pg';
import {
  HandlesStripeEvents,
  type StripeEventPayload,
} from '../../apps/billing-api/src/modules/webhooks/contracts/stripe-event-handler.js';
import { InboxSweeper } from '../../apps/billing-api/src/modules/webhooks/processing/inbox-sweeper.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { queueAsOneBatch, SECRET, statusIs, stripeEvent, until } from './webhooks.support.js';

@Injectable()
class PlanTestHandlers {
  @HandlesStripeEvents('test.plan_step')
  step(_event: StripeEventPayload): Promise<'applied'> {
    return Promise.resolve('applied');
  }
}

interface PlanNode {
  'Node Type'?: string;
  'Index Name'?: string;
  'Parent Relationship'?: string;
  Plans?: PlanNode[];
}

/** The indexes a plan reads, those of its subplans apart, and whether it scans a table whole. */
function scans(plan: PlanNode): { main: string[]; subplans: string[]; seqScan: boolean } {
  const found = { main: [] as string[], subplans: [] as string[], seqScan: false };
  const walk = (node: PlanNode, inSubPlan: boolean): void => {
    const sub = inSubPlan || node['Parent Relationship'] === 'SubPlan';
    if (node['Index Name']) (sub ? found.subplans : found.main).push(node['Index Name']);
    if (node['Node Type'] === 'Seq Scan') found.seqScan = true;
    for (const child of node.Plans ?? []) walk(child, sub);
  };
  walk(plan, false);
  return found;
}

interface Sent {
  sql: string;
  parameters: unknown[];
}

/**
 * The statements matching `pattern` that the app sends while `run` runs, with their parameters: every
 * statement goes through a node-postgres client (the pool's or a transaction's), prepared by name or not.
 */
async function capturing(pattern: RegExp, run: () => Promise<void>): Promise<Sent[]> {
  const sent: Sent[] = [];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const [config, values] = args as [string | { text?: string; values?: unknown[] }, unknown];
    const text = typeof config === 'string' ? config : config?.text;
    if (text && pattern.test(text)) {
      const parameters = Array.isArray(values) ? values : typeof config === 'object' ? config.values : [];
      sent.push({ sql: text, parameters: parameters ?? [] });
    }
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  try {
    await run();
  } finally {
    pg.Client.prototype.query = query;
  }
  return sent;
}

// The worker's claim and mark find a batch's rows among every row of the inbox. Both once named
// `processing` in a condition that partial indexes' predicates matched (the sweeper's, the customer
// index's): with those indexes full of entries of rows finished since the last vacuum, the plan read them
// all (2.7 ms per claim in bench:payments, 3.3 ms per mark in bench:peers), and the claim's order check
// read the sweeper's index, every unfinished row of every customer. Each must look its rows up by primary
// key, and the order check the customer's entries, whatever the partial indexes hold.
describe('webhook batches claim and mark their rows by primary key; the sweeper reads its own indexes', () => {
  let t: TestApp;
  let sent: Sent[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      role: 'all',
      env: { STRIPE_WEBHOOK_SECRETS: SECRET },
      providers: [PlanTestHandlers],
    });
    // The statements the app sends for one batch of two events.
    const events = [1, 2].map((n) => stripeEvent('test.plan_step', { id: `obj_plan_${n}` }));
    sent = await capturing(/UPDATE webhook_events w/, async () => {
      await queueAsOneBatch(t, events);
      for (const event of events)
        await until(statusIs(t.db, event.id, ['processed']), `${event.id} processed`);
    });
    // 20,000 finished rows whose passage through `pending` and `processing` is still in the partial
    // indexes (no vacuum since), and statistics that know them finished: as in a busy inbox.
    await t.db.query(`ALTER TABLE webhook_events SET (autovacuum_enabled = false)`);
    await t.db.query(
      `INSERT INTO webhook_events (id, type, livemode, event_created, received_at, payload, status, attempts, updated_at)
       SELECT 'evt_plan_' || n, 'test.plan_step', false, now(), now(),
              jsonb_build_object('data', jsonb_build_object('object',
                jsonb_build_object('id', 'obj_' || n, 'customer', 'cus_' || (n % 500)))),
              'pending', 0, now()
         FROM generate_series(1, 20000) AS n`,
    );
    await t.db.query(
      `UPDATE webhook_events SET status = 'processing', attempts = 1 WHERE id LIKE 'evt_plan_%'`,
    );
    await t.db.query(`UPDATE webhook_events SET status = 'processed' WHERE id LIKE 'evt_plan_%'`);
    await t.db.query(`ANALYZE webhook_events`);
  }, 60_000);

  afterAll(async () => {
    await t?.db.query(`ALTER TABLE webhook_events RESET (autovacuum_enabled)`).catch(() => undefined);
    await t?.close();
  });

  /** The plan of the statement the app sent, for eleven rows in `status`. */
  async function planFor(pattern: RegExp, status: string, parameters: (ids: string[]) => unknown[]) {
    const statement = sent.find((statement) => pattern.test(statement.sql));
    if (!statement) throw new Error(`the app sent no statement matching ${pattern}`);
    const ids = Array.from({ length: 11 }, (_, i) => `evt_plan_${1000 + i * 997}`);
    await t.db.query(`UPDATE webhook_events SET status = $2 WHERE id = ANY($1)`, [ids, status]);
    return explain(statement.sql, parameters(ids));
  }

  /** What PostgreSQL's plan for this statement reads (EXPLAIN only: nothing runs). */
  async function explain(sql: string, parameters: unknown[]): Promise<ReturnType<typeof scans>> {
    const rows = await t.db.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }[]>(
      `EXPLAIN (FORMAT JSON) ${sql}`,
      parameters,
    );
    const plan = rows[0]?.['QUERY PLAN'][0]?.Plan;
    if (!plan) throw new Error('no plan');
    return scans(plan);
  }

  it("the claim reads the batch by primary key, and its order check only the customer's entries", async () => {
    const claim = await planFor(/SET status = 'processing'/, 'pending', (ids) => [ids, new Date(), true]);
    expect(claim).toEqual({
      main: ['webhook_events_pkey'],
      subplans: ['webhook_events_open_customer_idx'],
      seqScan: false,
    });
  });

  it('the mark reads the batch by primary key', async () => {
    const mark = await planFor(/SET status = v.status/, 'processing', (ids) => [
      new Date(),
      ids,
      ids.map(() => 1),
      ids.map(() => 'processed'),
      ids.map(() => 'applied'),
    ]);
    expect(mark).toEqual({ main: ['webhook_events_pkey'], subplans: [], seqScan: false });
  });

  it('the sweeper reads only the unfinished rows, through its two indexes', async () => {
    await t.db.query(`UPDATE webhook_events SET status = 'processed' WHERE status <> 'processed'`);
    const sweeps = await capturing(/FROM webhook_events\s+WHERE status/, async () => {
      await t.app.get(InboxSweeper, { strict: false }).sweep();
    });
    expect(sweeps).toHaveLength(2);
    const plans = [];
    for (const sweep of sweeps) plans.push(await explain(sweep.sql, sweep.parameters));
    expect(plans).toEqual([
      { main: ['webhook_events_waiting_idx'], subplans: [], seqScan: false },
      { main: ['webhook_events_running_idx'], subplans: [], seqScan: false },
    ]);
  });
});
