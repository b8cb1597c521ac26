import {
  balanceDrifts,
  invoiceDrifts,
  isCaptured,
  paymentDrifts,
  subscriptionDrifts,
  type BalanceFacts,
  type Drift,
  type DriftObject,
  type PaymentStatus,
} from '@billing/domain';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type Stripe from 'stripe';
import { DataSource, type InsertQueryBuilder } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { AppConfig } from '../../../../platform/config/app-config.js';
import type { Actor } from '../../../../platform/context/request-context.js';
import { balanceValuesOf } from '../../../../platform/stripe/balance-transaction.js';
import { StripeCallError } from '../../../../platform/stripe/stripe-errors.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { InvoicesFacade } from '../../../invoices/invoices.facade.js';
import { PaymentsFacade, type MirroredPaymentFacts } from '../../../payments/payments.facade.js';
import { RefundsFacade } from '../../../refunds/refunds.facade.js';
import { SubscriptionsFacade } from '../../../subscriptions/subscriptions.facade.js';
import { WebhooksFacade } from '../../../webhooks/webhooks.facade.js';
import {
  type FindingStatus,
  ReconciliationFindingOrmEntity,
} from '../../persistence/reconciliation-finding.orm-entity.js';
import {
  EMPTY_STATS,
  ReconciliationRunOrmEntity,
  RUN_PHASES,
  type RunCursor,
  type RunPhase,
  type RunStats,
  type RunTrigger,
} from '../../persistence/reconciliation-run.orm-entity.js';
import { ReconciliationMetrics } from '../../reconciliation.metrics.js';
import { paymentIntentEventType, STRIPE_PAGE, stripePages } from './stripe-objects.js';

/** App-side keyset page size. */
const APP_PAGE = 500;

export interface RunWindow {
  start: Date;
  end: Date;
}

/** One object's comparison: its drifts and how to bring the app to Stripe's object. */
interface Compared {
  objectType: DriftObject;
  stripeId: string;
  accountId: string | null;
  drifts: Drift[];
  /** Applies Stripe's object through the webhook handlers; 'applied' when it changed the app. */
  repair: ((actor: Actor) => Promise<string>) | null;
}

/** One page of a pass done: how far it got, how many objects it compared, whether the pass is over. */
interface PageDone {
  after: string | null;
  compared: number;
  done: boolean;
}

/** Another worker holds the run (its lease was taken over): this worker stops without finishing it. */
class LeaseLost extends Error {
  constructor(runId: string) {
    super(`reconciliation run ${runId} is held by another worker`);
    this.name = 'LeaseLost';
  }
}

const COMPARED_KEY: Record<RunPhase, keyof RunStats['compared']> = {
  'subscription.stripe': 'subscription',
  'subscription.app': 'subscription',
  'invoice.stripe': 'invoice',
  'invoice.app': 'invoice',
  'payment.stripe': 'payment',
  'payment.app': 'payment',
  'refund.stripe': 'refund',
};

/**
 * One reconciliation run (R-REC-1..3): pages through Stripe's subscriptions (all of them), and the
 * invoices, PaymentIntents (with their charge's balance transaction) and refunds (with theirs) created in
 * the window, one page at a time; reads the app's mirrors of each page by Stripe id; then pages through
 * the app's mirrors by keyset to find those Stripe did not list. Neither side is held in memory beyond a
 * page: the ids seen at Stripe go to `reconciliation_seen`.
 *
 * After every page the run stores its cursor (pass and last id) and counts, and renews its lease. A page
 * that fails (after the SDK's own retries) is retried from the stored cursor, a bounded number of times;
 * a run whose worker died is resumed from its cursor by the next worker once the lease has run out. A
 * page done twice records nothing twice: an object that already has findings in the run is skipped, and
 * the run's finding counts are read from its findings.
 *
 * Each object's drifts are classified by the domain (`subscriptionDrifts`, ...). When all of an object's
 * drifts are safe, Stripe's object is applied through the same handler a webhook would reach (the
 * machine decides; audited as `reconciliation`); otherwise every finding of the object waits for an
 * admin, with an alert (metric and log).
 */
@Injectable()
export class RunReconciliationHandler {
  private readonly logger = new Logger('Reconciliation');
  /** This process, as a lease owner. */
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Runs this process is running now (Bull may hand a stalled job back to the worker that runs it). */
  private readonly running = new Set<string>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly gateway: StripeGateway,
    private readonly subscriptions: SubscriptionsFacade,
    private readonly invoices: InvoicesFacade,
    private readonly payments: PaymentsFacade,
    private readonly refunds: RefundsFacade,
    private readonly webhooks: WebhooksFacade,
    private readonly audit: AuditFacade,
    private readonly metrics: ReconciliationMetrics,
  ) {}

  private get stripePage(): number {
    return this.config.reconciliation.pageSize;
  }

  /**
   * Claims the window (one run per window: a second claim, by another worker or a repeated request,
   * finds the first run and returns it without running) and runs it. `created` says which happened. A
   * window whose run was abandoned by a worker that died (its lease ran out) is resumed here.
   */
  async execute(
    window: RunWindow,
    trigger: RunTrigger,
    requestedBy: string | null = null,
  ): Promise<{ run: ReconciliationRunOrmEntity; created: boolean }> {
    const claimed = await this.claim(window, trigger, requestedBy, { lease: true });
    if (!claimed.created) {
      if (claimed.run.status !== 'running') return claimed;
      return { run: await this.runClaimed(claimed.run), created: false };
    }
    return { run: await this.runClaimed(claimed.run), created: true };
  }

  /**
   * Inserts the run of this window unless one exists; returns the window's run. With `lease`, this
   * process holds the new run (it runs it now); without, the worker that takes the job takes the lease.
   */
  async claim(
    window: RunWindow,
    trigger: RunTrigger,
    requestedBy: string | null,
    options: { lease: boolean } = { lease: false },
  ): Promise<{ run: ReconciliationRunOrmEntity; created: boolean }> {
    const repo = this.db.getRepository(ReconciliationRunOrmEntity);
    const now = this.clock.now();
    const run: ReconciliationRunOrmEntity = {
      id: randomUUID(),
      windowStart: window.start,
      windowEnd: window.end,
      trigger,
      status: 'running',
      stats: structuredClone(EMPTY_STATS),
      error: null,
      requestedBy,
      startedAt: now,
      finishedAt: null,
      cursor: null,
      leaseOwner: null,
      leaseExpiresAt: null,
    };
    const inserted = await this.db
      .createQueryBuilder()
      .insert()
      .into(ReconciliationRunOrmEntity)
      .values(run)
      .orIgnore()
      .returning('id')
      .execute();
    if ((inserted.raw as unknown[]).length > 0) {
      if (options.lease) await this.acquire(run);
      return { run, created: true };
    }
    const existing = await repo.findOneOrFail({
      where: { windowStart: window.start, windowEnd: window.end },
    });
    return { run: existing, created: false };
  }

  /**
   * Resumes the oldest run whose worker stopped without finishing it (its lease ran out, or a run
   * nobody took within a lease), from its stored cursor. Null when there is none (or another worker
   * took it first).
   */
  async resumeAbandoned(): Promise<ReconciliationRunOrmEntity | null> {
    const [row] = await this.db.query<{ id: string }[]>(
      `SELECT id FROM reconciliation_runs
        WHERE status = 'running'
          AND (lease_expires_at < now()
               OR (lease_owner IS NULL AND started_at < now() - make_interval(secs => $1)))
        ORDER BY started_at LIMIT 1`,
      [this.config.reconciliation.leaseSeconds],
    );
    if (!row) return null;
    const run = await this.db.getRepository(ReconciliationRunOrmEntity).findOneBy({ id: row.id });
    if (!run) return null;
    const done = await this.runClaimed(run);
    return done.leaseOwner === null || done.status !== 'running' ? done : null;
  }

  /**
   * Runs a claimed run to its end (completed or failed), from its stored cursor, recording stats and
   * duration. When another worker holds the run (its lease is live), returns it as it is, unrun.
   */
  async runClaimed(run: ReconciliationRunOrmEntity): Promise<ReconciliationRunOrmEntity> {
    if (this.running.has(run.id)) return run;
    this.running.add(run.id);
    try {
      return await this.runHeld(run);
    } finally {
      this.running.delete(run.id);
    }
  }

  private async runHeld(run: ReconciliationRunOrmEntity): Promise<ReconciliationRunOrmEntity> {
    const resumed = run.cursor !== null;
    if (!(await this.acquire(run))) {
      this.logger.log({ msg: 'reconciliation run held by another worker', runId: run.id });
      return run;
    }
    const started = performance.now();
    const stats: RunStats = { ...structuredClone(EMPTY_STATS), ...run.stats };
    stats.compared = { ...EMPTY_STATS.compared, ...run.stats.compared };
    const elapsedBefore = stats.durationMs ?? 0;
    if (resumed) {
      stats.resumed = (stats.resumed ?? 0) + 1;
      this.metrics.runResumed();
      this.logger.warn({
        msg: 'reconciliation run resumed from its cursor',
        runId: run.id,
        cursor: run.cursor,
      });
    }
    const actor: Actor = { type: 'reconciliation', id: run.id };
    try {
      const from = run.cursor ? RUN_PHASES.indexOf(run.cursor.phase) : 0;
      for (const phase of RUN_PHASES.slice(from)) {
        let after = run.cursor?.phase === phase ? run.cursor.after : null;
        for (;;) {
          const page = await this.pageWithRetries(run, stats, phase, after, actor);
          stats.compared[COMPARED_KEY[phase]] = (stats.compared[COMPARED_KEY[phase]] ?? 0) + page.compared;
          const next = RUN_PHASES[RUN_PHASES.indexOf(phase) + 1];
          const cursor: RunCursor | null = !page.done
            ? { phase, after: page.after }
            : next
              ? { phase: next, after: null }
              : null;
          stats.durationMs = elapsedBefore + Math.round(performance.now() - started);
          await this.saveProgress(run, cursor, stats);
          if (page.done) break;
          after = page.after;
        }
      }
      run.status = 'completed';
    } catch (error) {
      if (error instanceof LeaseLost) {
        this.logger.warn({ msg: 'reconciliation run taken over by another worker', runId: run.id });
        return run;
      }
      run.status = 'failed';
      run.error = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 2000) : String(error);
      this.logger.error({ msg: 'reconciliation run failed', runId: run.id, err: error });
    }
    await this.db.query(`DELETE FROM reconciliation_seen WHERE run_id = $1`, [run.id]);
    Object.assign(stats, await this.findingCounts(run.id));
    stats.durationMs = elapsedBefore + Math.round(performance.now() - started);
    run.stats = stats;
    run.finishedAt = this.clock.now();
    run.cursor = null;
    const finished = await this.db
      .createQueryBuilder()
      .update(ReconciliationRunOrmEntity)
      .set({
        status: run.status,
        error: run.error,
        stats,
        finishedAt: run.finishedAt,
        cursor: null,
        leaseOwner: null,
        leaseExpiresAt: null,
      })
      .where('id = :id AND lease_owner = :owner', { id: run.id, owner: this.owner })
      .execute();
    run.leaseOwner = null;
    run.leaseExpiresAt = null;
    if (!finished.affected) {
      this.logger.warn({ msg: 'reconciliation run finished by another worker', runId: run.id });
      return run;
    }
    this.metrics.runFinished(run.status === 'completed' ? 'completed' : 'failed', stats.durationMs / 1000);
    this.logger.log({ msg: 'reconciliation run finished', runId: run.id, status: run.status, stats });
    return run;
  }

  /**
   * The end of a lease taken or renewed now, in SQL: leases are shared by every worker, so they are
   * read and written on the database's clock, never a process's.
   */
  private leaseUntil(): () => string {
    return () => `now() + make_interval(secs => ${this.config.reconciliation.leaseSeconds})`;
  }

  /**
   * Takes the run's lease when nobody holds it, this process does, or the holder's lease ran out; and
   * only while no other run is held (a live lease): runs go one at a time. Every run compares every
   * subscription whatever its window, so two at once (the hourly run and an admin's) found the same drift
   * and repaired it twice. A run left waiting stays `running` without a holder, and the resume check
   * (`reconciliation.resume-abandoned`) takes it once the other one is done. The transaction's advisory
   * lock makes the check and the take one step for every worker.
   */
  private async acquire(run: ReconciliationRunOrmEntity): Promise<boolean> {
    const taken = await this.db.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('reconciliation_runs.lease'))`);
      return manager
        .createQueryBuilder()
        .update(ReconciliationRunOrmEntity)
        .set({ leaseOwner: this.owner, leaseExpiresAt: this.leaseUntil() })
        .where(
          `id = :id AND status = 'running'
           AND (lease_owner IS NULL OR lease_owner = :owner OR lease_expires_at < now())
           AND NOT EXISTS (SELECT 1 FROM reconciliation_runs other
                            WHERE other.id <> :id AND other.status = 'running'
                              AND other.lease_owner IS NOT NULL AND other.lease_expires_at >= now())`,
          { id: run.id, owner: this.owner },
        )
        .execute();
    });
    if (!taken.affected) return false;
    const fresh = await this.db.getRepository(ReconciliationRunOrmEntity).findOneByOrFail({ id: run.id });
    Object.assign(run, fresh);
    return true;
  }

  /** Stores the cursor and counts after a page, and renews the lease; LeaseLost when another worker holds it. */
  private async saveProgress(run: ReconciliationRunOrmEntity, cursor: RunCursor | null, stats: RunStats) {
    const saved = await this.db
      .createQueryBuilder()
      .update(ReconciliationRunOrmEntity)
      .set({ cursor, stats, leaseExpiresAt: this.leaseUntil() })
      .where('id = :id AND lease_owner = :owner', { id: run.id, owner: this.owner })
      .execute();
    if (!saved.affected) throw new LeaseLost(run.id);
    run.cursor = cursor;
  }

  /**
   * One page of a pass, from `after`. A failure (Stripe still failing after the SDK's own retries, a
   * network error, the database) is retried from the same cursor after a doubling delay, up to
   * RECONCILIATION_PAGE_ATTEMPTS attempts; the last failure fails the run.
   */
  private async pageWithRetries(
    run: ReconciliationRunOrmEntity,
    stats: RunStats,
    phase: RunPhase,
    after: string | null,
    actor: Actor,
  ): Promise<PageDone> {
    const { pageAttempts, pageRetryDelayMs } = this.config.reconciliation;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.page(run, phase, after, actor);
      } catch (error) {
        if (error instanceof LeaseLost || attempt >= pageAttempts) throw error;
        stats.pageRetries = (stats.pageRetries ?? 0) + 1;
        this.metrics.pageRetried(phase);
        this.logger.warn({
          msg: 'reconciliation page failed: retrying it from the stored cursor',
          runId: run.id,
          phase,
          after,
          attempt,
          err: error,
        });
        await this.saveProgress(run, run.cursor, stats);
        await new Promise((resolve) => setTimeout(resolve, pageRetryDelayMs * 2 ** (attempt - 1)));
      }
    }
  }

  private page(run: ReconciliationRunOrmEntity, phase: RunPhase, after: string | null, actor: Actor) {
    switch (phase) {
      case 'subscription.stripe':
        return this.stripeSubscriptions(run, after, actor);
      case 'subscription.app':
        return this.appSubscriptions(run, after, actor);
      case 'invoice.stripe':
        return this.stripeInvoices(run, after, actor);
      case 'invoice.app':
        return this.appInvoices(run, after, actor);
      case 'payment.stripe':
        return this.stripePayments(run, after, actor);
      case 'payment.app':
        return this.appPayments(run, after, actor);
      case 'refund.stripe':
        return this.stripeRefunds(run, after, actor);
    }
  }

  private async stripeSubscriptions(
    run: ReconciliationRunOrmEntity,
    after: string | null,
    actor: Actor,
  ): Promise<PageDone> {
    const list = await this.gateway.call('subscription.list', (stripe) =>
      stripe.subscriptions.list({
        status: 'all',
        limit: this.stripePage,
        ...(after ? { starting_after: after } : {}),
      }),
    );
    const page = list.data;
    const ids = page.map((s) => s.id);
    const mirrors = new Map((await this.subscriptions.mirroredFacts(ids)).map((m) => [m.stripeId, m]));
    await this.markSeen(run.id, 'subscription', ids);
    for (const sub of page) {
      const app = mirrors.get(sub.id) ?? null;
      await this.settle(run, actor, {
        objectType: 'subscription',
        stripeId: sub.id,
        accountId: app?.accountId ?? null,
        drifts: subscriptionDrifts(this.subscriptions.factsFromStripe(sub), app),
        repair: (by) => this.applySubscription(sub, by),
      });
    }
    return stripePageDone(list);
  }

  private async appSubscriptions(
    run: ReconciliationRunOrmEntity,
    after: string | null,
    actor: Actor,
  ): Promise<PageDone> {
    const page = await this.subscriptions.mirroredFactsPage(after, APP_PAGE, run.id);
    for (const app of page) {
      // Listed after the Stripe pass began? Then Stripe has it: compare it now.
      const sub = await this.retrieve(() =>
        this.gateway.call('subscription.retrieve', (s) => s.subscriptions.retrieve(app.stripeId)),
      );
      await this.settle(run, actor, {
        objectType: 'subscription',
        stripeId: app.stripeId,
        accountId: app.accountId,
        drifts: subscriptionDrifts(sub ? this.subscriptions.factsFromStripe(sub) : null, app),
        repair: sub ? (by) => this.applySubscription(sub, by) : null,
      });
    }
    return appPageDone(page, after);
  }

  private async stripeInvoices(
    run: ReconciliationRunOrmEntity,
    after: string | null,
    actor: Actor,
  ): Promise<PageDone> {
    const list = await this.gateway.call('invoice.list', (stripe) =>
      stripe.invoices.list({
        created: this.created(run),
        limit: this.stripePage,
        ...(after ? { starting_after: after } : {}),
      }),
    );
    const page = list.data;
    const ids = page.map((i) => i.id).filter((id): id is string => typeof id === 'string');
    const mirrors = new Map((await this.invoices.mirroredFacts(ids)).map((m) => [m.stripeId, m]));
    await this.markSeen(run.id, 'invoice', ids);
    for (const invoice of page) {
      const facts = this.invoices.factsFromStripe(invoice);
      if (!facts) continue;
      await this.settle(run, actor, {
        objectType: 'invoice',
        stripeId: facts.stripeId,
        accountId: null,
        drifts: invoiceDrifts(facts, mirrors.get(facts.stripeId) ?? null),
        repair: (by) => this.applyInvoice(invoice, by),
      });
    }
    return stripePageDone(list);
  }

  private async appInvoices(
    run: ReconciliationRunOrmEntity,
    after: string | null,
    actor: Actor,
  ): Promise<PageDone> {
    const window = { from: run.windowStart, to: run.windowEnd };
    const page = await this.invoices.mirroredFactsPage(window, after, APP_PAGE, run.id);
    for (const app of page) {
      const invoice = await this.retrieve(() =>
        this.gateway.call('invoice.retrieve', (s) => s.invoices.retrieve(app.stripeId)),
      );
      const facts = invoice ? this.invoices.factsFromStripe(invoice) : null;
      await this.settle(run, actor, {
        objectType: 'invoice',
        stripeId: app.stripeId,
        accountId: null,
        drifts: invoiceDrifts(facts, app),
        repair: invoice ? (by) => this.applyInvoice(invoice, by) : null,
      });
    }
    return appPageDone(page, after);
  }

  /**
   * PaymentIntents of the window with their latest charge and its balance transaction expanded in the
   * same list call (`data.latest_charge.balance_transaction`): the fee and net of each charge are
   * compared with no call of their own, beside the payment they belong to.
   */
  private async stripePayments(
    run: ReconciliationRunOrmEntity,
    after: string | null,
    actor: Actor,
  ): Promise<PageDone> {
    const list = await this.gateway.call('payment_intent.list', (stripe) =>
      stripe.paymentIntents.list({
        created: this.created(run),
        limit: this.stripePage,
        expand: ['data.latest_charge.balance_transaction'],
        ...(after ? { starting_after: after } : {}),
      }),
    );
    const page = list.data;
    const ids = page.map((p) => p.id);
    const mirrors = new Map((await this.payments.mirroredFacts(ids)).map((m) => [m.stripeId, m]));
    await this.markSeen(run.id, 'payment', ids);
    for (const pi of page) {
      const app = mirrors.get(pi.id) ?? null;
      if (!app && (await this.alreadyFound(run.id, 'payment', pi.id))) continue;
      if (!app && !(await this.belongsToAnAccount(pi, actor))) continue;
      await this.settle(run, actor, {
        objectType: 'payment',
        stripeId: pi.id,
        accountId: app?.accountId ?? null,
        drifts: this.paymentAndBalanceDrifts(pi, app),
        repair: (by) => this.applyPayment(pi, by),
      });
    }
    return stripePageDone(list);
  }

  private async appPayments(
    run: ReconciliationRunOrmEntity,
    after: string | null,
    actor: Actor,
  ): Promise<PageDone> {
    const window = { from: run.windowStart, to: run.windowEnd };
    const page = await this.payments.mirroredFactsPage(window, after, APP_PAGE, run.id);
    for (const app of page) {
      const pi = await this.retrieve(() =>
        this.gateway.call('payment_intent.retrieve', (s) =>
          s.paymentIntents.retrieve(app.stripeId, { expand: ['latest_charge.balance_transaction'] }),
        ),
      );
      await this.settle(run, actor, {
        objectType: 'payment',
        stripeId: app.stripeId,
        accountId: app.accountId,
        drifts: pi ? this.paymentAndBalanceDrifts(pi, app) : paymentDrifts(null, app),
        repair: pi ? (by) => this.applyPayment(pi, by) : null,
      });
    }
    return appPageDone(page, after);
  }

  /**
   * A payment's drifts, then its charge's money (amount, fee, net) against what the app records, once
   * both sides have it captured (a payment the app has not seen captured is a `payment_status` drift,
   * whose repair records the money with the status).
   */
  private paymentAndBalanceDrifts(pi: Stripe.PaymentIntent, app: MirroredPaymentFacts | null): Drift[] {
    const drifts = paymentDrifts(this.payments.factsFromStripe(pi), app);
    if (!app || pi.status !== 'succeeded' || !isCaptured(app.status as PaymentStatus)) return drifts;
    return [...drifts, ...balanceDrifts(this.payments.balanceFromStripe(pi), app.recorded)];
  }

  /**
   * Refunds created in the window, their balance transactions expanded in the same list call: each
   * succeeded refund the app mirrors is compared by amount, fee and net (a refund the app does not
   * mirror is its payment's `amount_refunded` drift, or not a payment's refund at all).
   */
  private async stripeRefunds(
    run: ReconciliationRunOrmEntity,
    after: string | null,
    actor: Actor,
  ): Promise<PageDone> {
    const list = await this.gateway.call('refund.list', (stripe) =>
      stripe.refunds.list({
        created: this.created(run),
        limit: this.stripePage,
        expand: ['data.balance_transaction'],
        ...(after ? { starting_after: after } : {}),
      }),
    );
    const page = list.data.filter((r) => r.status === 'succeeded');
    const mirrors = new Map(
      (await this.refunds.recordedBalances(page.map((r) => r.id))).map((m) => [m.stripeRefundId, m]),
    );
    let compared = 0;
    for (const refund of page) {
      const app = mirrors.get(refund.id);
      if (!app) continue;
      compared += 1;
      await this.settle(run, actor, {
        objectType: 'refund',
        stripeId: refund.id,
        accountId: app.accountId,
        drifts: balanceDrifts(refundBalance(refund), app.recorded),
        repair: (by) => this.applyRefund(refund, by),
      });
    }
    return { ...stripePageDone(list), compared };
  }

  private created(run: ReconciliationRunOrmEntity): { gte: number; lt: number } {
    return { gte: seconds(run.windowStart), lt: seconds(run.windowEnd) };
  }

  /**
   * A PaymentIntent the app has no payment for is a drift only when the payment mirror would file it
   * (an account's payment); one that pays an invoice, or of no account, is not the payments' to mirror.
   * Asking the mirror is the repair itself, so a PaymentIntent it files is recorded as repaired here.
   */
  private async belongsToAnAccount(pi: Stripe.PaymentIntent, actor: Actor): Promise<boolean> {
    const reportId = `recon:${actor.id ?? 'run'}:${pi.id}`;
    const outcome = await this.webhooks.applyAsEvent(paymentIntentEventType(pi.status), asObject(pi), {
      actor,
      reportId,
    });
    return outcome !== 'ignored';
  }

  /**
   * Records the object's findings. All safe: Stripe's object is applied (once for all of them) and the
   * findings are `repaired` (or `repair_failed` when the handler did not apply it). Any unsafe: every
   * finding of the object is `open` for an admin, and each unsafe one raises the alert.
   */
  private async settle(run: ReconciliationRunOrmEntity, actor: Actor, compared: Compared): Promise<void> {
    const { drifts } = compared;
    if (drifts.length === 0) return;
    // A page done again (retried, or resumed by another worker) finds, repairs and alerts nothing twice.
    if (await this.alreadyFound(run.id, compared.objectType, compared.stripeId)) return;
    const allSafe = drifts.every((d) => d.safe);
    let status: FindingStatus = 'open';
    let failure: string | null = null;
    if (allSafe && compared.repair) {
      try {
        const outcome = await compared.repair(actor);
        if (outcome === 'applied') status = 'repaired';
        else {
          status = 'repair_failed';
          failure = `the handler answered ${outcome}`;
        }
      } catch (error) {
        status = 'repair_failed';
        failure = error instanceof Error ? error.message : String(error);
      }
    } else if (allSafe) {
      status = 'repair_failed';
      failure = 'nothing at Stripe to apply';
    }
    const now = this.clock.now();
    const findings: ReconciliationFindingOrmEntity[] = drifts.map((drift) => ({
      id: randomUUID(),
      runId: run.id,
      objectType: compared.objectType,
      stripeId: compared.stripeId,
      accountId: compared.accountId,
      kind: drift.kind,
      safe: drift.safe,
      status,
      appValue: drift.app,
      stripeValue: drift.stripe,
      reason: failure ? `${drift.reason} Repair did not apply: ${failure}.` : drift.reason,
      resolutionNote: null,
      resolvedBy: null,
      resolvedAt: null,
      createdAt: now,
    }));
    await this.db.transaction(async (manager) => {
      await manager
        .createQueryBuilder()
        .insert()
        .into(ReconciliationFindingOrmEntity)
        .values(findings as Parameters<InsertQueryBuilder<ReconciliationFindingOrmEntity>['values']>[0])
        .orIgnore()
        .execute();
      if (status === 'repaired') {
        await this.audit.record(
          {
            accountId: compared.accountId,
            action: 'reconciliation.drift_repaired',
            entityType: compared.objectType,
            entityId: compared.stripeId,
            before: Object.fromEntries(drifts.map((d) => [d.kind, d.app])),
            after: Object.fromEntries(drifts.map((d) => [d.kind, d.stripe])),
            reason: `reconciliation run ${run.id}`,
            actor,
          },
          manager,
        );
      }
    });
    for (const finding of findings.filter((f) => !f.safe)) {
      this.metrics.unsafeFound(finding.kind);
      this.logger.warn({
        msg: 'unsafe billing drift: waiting for an admin',
        alert: 'BillingDriftUnsafe',
        runId: run.id,
        findingId: finding.id,
        objectType: finding.objectType,
        stripeId: finding.stripeId,
        kind: finding.kind,
      });
    }
  }

  /** Applies a subscription through the subscription mirror's webhook handler. */
  applySubscription(sub: Stripe.Subscription, actor: Actor): Promise<string> {
    const type =
      sub.status === 'canceled' ? 'customer.subscription.deleted' : 'customer.subscription.updated';
    return this.apply(type, sub, actor);
  }

  /** Applies an invoice through the invoice mirror's webhook handler. */
  applyInvoice(invoice: Stripe.Invoice, actor: Actor): Promise<string> {
    return this.apply('invoice.updated', invoice, actor);
  }

  /**
   * Applies a PaymentIntent (with its charge's balance transaction when expanded: the fee and net are
   * recorded as Stripe has them), then its refunds (through the refund handler, with theirs) when Stripe
   * counts refunds.
   */
  async applyPayment(pi: Stripe.PaymentIntent, actor: Actor): Promise<string> {
    const outcome = await this.apply(paymentIntentEventType(pi.status), pi, actor);
    const charge = typeof pi.latest_charge === 'object' ? pi.latest_charge : null;
    if (outcome === 'ignored' || !charge || charge.amount_refunded === 0) return outcome;
    let applied = outcome === 'applied';
    for await (const refunds of stripePages<Stripe.Refund>(this.gateway, 'refund.list', (s, after) =>
      s.refunds.list({
        payment_intent: pi.id,
        limit: STRIPE_PAGE,
        expand: ['data.balance_transaction'],
        ...(after ? { starting_after: after } : {}),
      }),
    )) {
      for (const refund of refunds) {
        if ((await this.apply('refund.updated', refund, actor)) === 'applied') applied = true;
      }
    }
    return applied ? 'applied' : outcome;
  }

  /** Applies a refund (its balance transaction expanded) through the refund mirror's webhook handler. */
  applyRefund(refund: Stripe.Refund, actor: Actor): Promise<string> {
    return this.apply('refund.updated', refund, actor);
  }

  private apply(type: string, object: { id?: string | null }, actor: Actor): Promise<string> {
    return this.webhooks.applyAsEvent(type, asObject(object), {
      actor,
      reportId: `recon:${actor.id ?? 'admin'}:${object.id ?? 'object'}:${randomUUID()}`,
    });
  }

  /** Whether the run has recorded findings about this object already (a page done twice). */
  private async alreadyFound(runId: string, objectType: DriftObject, stripeId: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `SELECT 1 FROM reconciliation_findings WHERE run_id = $1 AND object_type = $2 AND stripe_id = $3 LIMIT 1`,
      [runId, objectType, stripeId],
    );
    return rows.length > 0;
  }

  /** The run's finding counts, from its findings (a retried or resumed page cannot count one twice). */
  private async findingCounts(
    runId: string,
  ): Promise<Pick<RunStats, 'findings' | 'repaired' | 'awaitingAdmin'>> {
    const [row] = await this.db.query<{ findings: number; repaired: number }[]>(
      `SELECT count(*)::int AS findings, (count(*) FILTER (WHERE status = 'repaired'))::int AS repaired
         FROM reconciliation_findings WHERE run_id = $1`,
      [runId],
    );
    const findings = row?.findings ?? 0;
    const repaired = row?.repaired ?? 0;
    return { findings, repaired, awaitingAdmin: findings - repaired };
  }

  private async markSeen(runId: string, objectType: DriftObject, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      `INSERT INTO reconciliation_seen (run_id, object_type, stripe_id)
       SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING`,
      [runId, objectType, ids],
    );
  }

  /** One Stripe object, or null when Stripe has no such object. */
  private async retrieve<T>(read: () => Promise<T>): Promise<T | null> {
    try {
      const found = await read();
      return (found as { deleted?: boolean }).deleted === true ? null : found;
    } catch (error) {
      if (error instanceof StripeCallError && error.kind === 'not_found') return null;
      throw error;
    }
  }
}

/** How far a Stripe list page got: its last id, and whether Stripe has more. */
function stripePageDone(list: Stripe.ApiList<{ id?: string }>): PageDone {
  const last = list.data.at(-1)?.id ?? null;
  return { after: last, compared: list.data.length, done: !list.has_more || last === null };
}

/** How far an app keyset page (of mirrors Stripe did not list) got; the pass is over with a short page. */
function appPageDone(page: readonly { stripeId: string }[], after: string | null): PageDone {
  return { after: page.at(-1)?.stripeId ?? after, compared: page.length, done: page.length < APP_PAGE };
}

/** A refund's balance transaction, when expanded. */
function refundBalance(refund: Stripe.Refund): BalanceFacts | null {
  return balanceValuesOf(refund.balance_transaction);
}

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function asObject(object: object): Record<string, unknown> {
  return object as Record<string, unknown>;
}
