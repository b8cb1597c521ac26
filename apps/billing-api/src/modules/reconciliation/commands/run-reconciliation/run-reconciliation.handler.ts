import {
  invoiceDrifts,
  paymentDrifts,
  subscriptionDrifts,
  type Drift,
  type DriftObject,
} from '@billing/domain';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import type { Actor } from '../../../../platform/context/request-context.js';
import { StripeCallError } from '../../../../platform/stripe/stripe-errors.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { InvoicesFacade } from '../../../invoices/invoices.facade.js';
import { PaymentsFacade } from '../../../payments/payments.facade.js';
import { SubscriptionsFacade } from '../../../subscriptions/subscriptions.facade.js';
import { WebhooksFacade } from '../../../webhooks/webhooks.facade.js';
import {
  type FindingStatus,
  ReconciliationFindingOrmEntity,
} from '../../persistence/reconciliation-finding.orm-entity.js';
import {
  EMPTY_STATS,
  ReconciliationRunOrmEntity,
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

/**
 * One reconciliation run (R-REC-1..3): pages through Stripe's subscriptions (all of them), and the
 * invoices and PaymentIntents created in the window, one page at a time; reads the app's mirrors of each
 * page by Stripe id; then pages through the app's mirrors by keyset to find those Stripe did not list.
 * Neither side is held in memory beyond a page: the ids seen at Stripe go to `reconciliation_seen`.
 *
 * Each object's drifts are classified by the domain (`subscriptionDrifts`, ...). When all of an object's
 * drifts are safe, Stripe's object is applied through the same handler a webhook would reach (the
 * machine decides; audited as `reconciliation`); otherwise every finding of the object waits for an
 * admin, with an alert (metric and log).
 */
@Injectable()
export class RunReconciliationHandler {
  private readonly logger = new Logger('Reconciliation');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly gateway: StripeGateway,
    private readonly subscriptions: SubscriptionsFacade,
    private readonly invoices: InvoicesFacade,
    private readonly payments: PaymentsFacade,
    private readonly webhooks: WebhooksFacade,
    private readonly audit: AuditFacade,
    private readonly metrics: ReconciliationMetrics,
  ) {}

  /**
   * Claims the window (one run per window: a second claim, by another worker or a repeated request,
   * finds the first run and returns it without running) and runs it. `created` says which happened.
   */
  async execute(
    window: RunWindow,
    trigger: RunTrigger,
    requestedBy: string | null = null,
  ): Promise<{ run: ReconciliationRunOrmEntity; created: boolean }> {
    const run = await this.claim(window, trigger, requestedBy);
    if (!run.created) return run;
    return { run: await this.runClaimed(run.run), created: true };
  }

  /** Inserts the run of this window unless one exists; returns the window's run. */
  async claim(
    window: RunWindow,
    trigger: RunTrigger,
    requestedBy: string | null,
  ): Promise<{ run: ReconciliationRunOrmEntity; created: boolean }> {
    const repo = this.db.getRepository(ReconciliationRunOrmEntity);
    const run: ReconciliationRunOrmEntity = {
      id: randomUUID(),
      windowStart: window.start,
      windowEnd: window.end,
      trigger,
      status: 'running',
      stats: structuredClone(EMPTY_STATS),
      error: null,
      requestedBy,
      startedAt: this.clock.now(),
      finishedAt: null,
    };
    const inserted = await this.db
      .createQueryBuilder()
      .insert()
      .into(ReconciliationRunOrmEntity)
      .values(run)
      .orIgnore()
      .returning('id')
      .execute();
    if ((inserted.raw as unknown[]).length > 0) return { run, created: true };
    const existing = await repo.findOneOrFail({
      where: { windowStart: window.start, windowEnd: window.end },
    });
    return { run: existing, created: false };
  }

  /** Runs a claimed run to its end (completed or failed), recording stats and duration. */
  async runClaimed(run: ReconciliationRunOrmEntity): Promise<ReconciliationRunOrmEntity> {
    const started = performance.now();
    const stats: RunStats = structuredClone(EMPTY_STATS);
    const actor: Actor = { type: 'reconciliation', id: run.id };
    try {
      await this.compareSubscriptions(run, stats, actor);
      await this.compareInvoices(run, stats, actor);
      await this.comparePayments(run, stats, actor);
      run.status = 'completed';
    } catch (error) {
      run.status = 'failed';
      run.error = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 2000) : String(error);
      this.logger.error({ msg: 'reconciliation run failed', runId: run.id, err: error });
    } finally {
      await this.db.query(`DELETE FROM reconciliation_seen WHERE run_id = $1`, [run.id]);
    }
    stats.durationMs = Math.round(performance.now() - started);
    run.stats = stats;
    run.finishedAt = this.clock.now();
    await this.db.getRepository(ReconciliationRunOrmEntity).save(run);
    this.metrics.runFinished(run.status === 'completed' ? 'completed' : 'failed', stats.durationMs / 1000);
    this.logger.log({ msg: 'reconciliation run finished', runId: run.id, status: run.status, stats });
    return run;
  }

  private async compareSubscriptions(run: ReconciliationRunOrmEntity, stats: RunStats, actor: Actor) {
    const pages = stripePages<Stripe.Subscription>(this.gateway, 'subscription.list', (stripe, after) =>
      stripe.subscriptions.list({
        status: 'all',
        limit: STRIPE_PAGE,
        ...(after ? { starting_after: after } : {}),
      }),
    );
    for await (const page of pages) {
      const mirrors = new Map(
        (await this.subscriptions.mirroredFacts(page.map((s) => s.id))).map((m) => [m.stripeId, m]),
      );
      await this.markSeen(
        run.id,
        'subscription',
        page.map((s) => s.id),
      );
      for (const sub of page) {
        const app = mirrors.get(sub.id) ?? null;
        await this.settle(run, stats, actor, {
          objectType: 'subscription',
          stripeId: sub.id,
          accountId: app?.accountId ?? null,
          drifts: subscriptionDrifts(this.subscriptions.factsFromStripe(sub), app),
          repair: (by) => this.applySubscription(sub, by),
        });
      }
      stats.compared.subscription += page.length;
    }
    let after: string | null = null;
    for (;;) {
      const page = await this.subscriptions.mirroredFactsPage(after, APP_PAGE);
      if (page.length === 0) break;
      after = page[page.length - 1]?.stripeId ?? null;
      for (const app of await this.unseen(run.id, 'subscription', page)) {
        // Listed after the Stripe pass began? Then Stripe has it: compare it now.
        const sub = await this.retrieve(() =>
          this.gateway.call('subscription.retrieve', (s) => s.subscriptions.retrieve(app.stripeId)),
        );
        stats.compared.subscription += 1;
        await this.settle(run, stats, actor, {
          objectType: 'subscription',
          stripeId: app.stripeId,
          accountId: app.accountId,
          drifts: subscriptionDrifts(sub ? this.subscriptions.factsFromStripe(sub) : null, app),
          repair: sub ? (by) => this.applySubscription(sub, by) : null,
        });
      }
    }
  }

  private async compareInvoices(run: ReconciliationRunOrmEntity, stats: RunStats, actor: Actor) {
    const created = { gte: seconds(run.windowStart), lt: seconds(run.windowEnd) };
    const pages = stripePages<Stripe.Invoice>(this.gateway, 'invoice.list', (stripe, after) =>
      stripe.invoices.list({ created, limit: STRIPE_PAGE, ...(after ? { starting_after: after } : {}) }),
    );
    for await (const page of pages) {
      const ids = page.map((i) => i.id).filter((id): id is string => typeof id === 'string');
      const mirrors = new Map((await this.invoices.mirroredFacts(ids)).map((m) => [m.stripeId, m]));
      await this.markSeen(run.id, 'invoice', ids);
      for (const invoice of page) {
        const facts = this.invoices.factsFromStripe(invoice);
        if (!facts) continue;
        await this.settle(run, stats, actor, {
          objectType: 'invoice',
          stripeId: facts.stripeId,
          accountId: null,
          drifts: invoiceDrifts(facts, mirrors.get(facts.stripeId) ?? null),
          repair: (by) => this.applyInvoice(invoice, by),
        });
      }
      stats.compared.invoice += page.length;
    }
    let after: string | null = null;
    const window = { from: run.windowStart, to: run.windowEnd };
    for (;;) {
      const page = await this.invoices.mirroredFactsPage(window, after, APP_PAGE);
      if (page.length === 0) break;
      after = page[page.length - 1]?.stripeId ?? null;
      for (const app of await this.unseen(run.id, 'invoice', page)) {
        const invoice = await this.retrieve(() =>
          this.gateway.call('invoice.retrieve', (s) => s.invoices.retrieve(app.stripeId)),
        );
        const facts = invoice ? this.invoices.factsFromStripe(invoice) : null;
        stats.compared.invoice += 1;
        await this.settle(run, stats, actor, {
          objectType: 'invoice',
          stripeId: app.stripeId,
          accountId: null,
          drifts: invoiceDrifts(facts, app),
          repair: invoice ? (by) => this.applyInvoice(invoice, by) : null,
        });
      }
    }
  }

  private async comparePayments(run: ReconciliationRunOrmEntity, stats: RunStats, actor: Actor) {
    const created = { gte: seconds(run.windowStart), lt: seconds(run.windowEnd) };
    const pages = stripePages<Stripe.PaymentIntent>(this.gateway, 'payment_intent.list', (stripe, after) =>
      stripe.paymentIntents.list({
        created,
        limit: STRIPE_PAGE,
        expand: ['data.latest_charge'],
        ...(after ? { starting_after: after } : {}),
      }),
    );
    for await (const page of pages) {
      const mirrors = new Map(
        (await this.payments.mirroredFacts(page.map((p) => p.id))).map((m) => [m.stripeId, m]),
      );
      await this.markSeen(
        run.id,
        'payment',
        page.map((p) => p.id),
      );
      for (const pi of page) {
        const app = mirrors.get(pi.id) ?? null;
        const stripeFacts = this.payments.factsFromStripe(pi);
        if (!app && !(await this.belongsToAnAccount(pi, actor))) continue;
        await this.settle(run, stats, actor, {
          objectType: 'payment',
          stripeId: pi.id,
          accountId: null,
          drifts: paymentDrifts(stripeFacts, app),
          repair: (by) => this.applyPayment(pi, by),
        });
      }
      stats.compared.payment += page.length;
    }
    let after: string | null = null;
    const window = { from: run.windowStart, to: run.windowEnd };
    for (;;) {
      const page = await this.payments.mirroredFactsPage(window, after, APP_PAGE);
      if (page.length === 0) break;
      after = page[page.length - 1]?.stripeId ?? null;
      for (const app of await this.unseen(run.id, 'payment', page)) {
        const pi = await this.retrieve(() =>
          this.gateway.call('payment_intent.retrieve', (s) =>
            s.paymentIntents.retrieve(app.stripeId, { expand: ['latest_charge'] }),
          ),
        );
        stats.compared.payment += 1;
        await this.settle(run, stats, actor, {
          objectType: 'payment',
          stripeId: app.stripeId,
          accountId: null,
          drifts: paymentDrifts(pi ? this.payments.factsFromStripe(pi) : null, app),
          repair: pi ? (by) => this.applyPayment(pi, by) : null,
        });
      }
    }
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
  private async settle(
    run: ReconciliationRunOrmEntity,
    stats: RunStats,
    actor: Actor,
    compared: Compared,
  ): Promise<void> {
    const { drifts } = compared;
    if (drifts.length === 0) return;
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
      await manager.getRepository(ReconciliationFindingOrmEntity).save(findings);
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
    stats.findings += findings.length;
    if (status === 'repaired') stats.repaired += findings.length;
    else stats.awaitingAdmin += findings.length;
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

  /** Applies a PaymentIntent, then its refunds (through the refund handler) when Stripe counts refunds. */
  async applyPayment(pi: Stripe.PaymentIntent, actor: Actor): Promise<string> {
    const outcome = await this.apply(paymentIntentEventType(pi.status), pi, actor);
    const charge = typeof pi.latest_charge === 'object' ? pi.latest_charge : null;
    if (outcome === 'ignored' || !charge || charge.amount_refunded === 0) return outcome;
    let applied = outcome === 'applied';
    for await (const refunds of stripePages<Stripe.Refund>(this.gateway, 'refund.list', (s, after) =>
      s.refunds.list({
        payment_intent: pi.id,
        limit: STRIPE_PAGE,
        ...(after ? { starting_after: after } : {}),
      }),
    )) {
      for (const refund of refunds) {
        if ((await this.apply('refund.updated', refund, actor)) === 'applied') applied = true;
      }
    }
    return applied ? 'applied' : outcome;
  }

  private apply(type: string, object: { id?: string | null }, actor: Actor): Promise<string> {
    return this.webhooks.applyAsEvent(type, asObject(object), {
      actor,
      reportId: `recon:${actor.id ?? 'admin'}:${object.id ?? 'object'}:${randomUUID()}`,
    });
  }

  private async markSeen(runId: string, objectType: DriftObject, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      `INSERT INTO reconciliation_seen (run_id, object_type, stripe_id)
       SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING`,
      [runId, objectType, ids],
    );
  }

  /** The mirrors of the page whose Stripe id the Stripe pass did not list. */
  private async unseen<T extends { stripeId: string }>(
    runId: string,
    objectType: DriftObject,
    page: readonly T[],
  ): Promise<T[]> {
    const seen: { stripe_id: string }[] = await this.db.query(
      `SELECT stripe_id FROM reconciliation_seen
        WHERE run_id = $1 AND object_type = $2 AND stripe_id = ANY($3::text[])`,
      [runId, objectType, page.map((p) => p.stripeId)],
    );
    const listed = new Set(seen.map((s) => s.stripe_id));
    return page.filter((p) => !listed.has(p.stripeId));
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

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function asObject(object: object): Record<string, unknown> {
  return object as Record<string, unknown>;
}
