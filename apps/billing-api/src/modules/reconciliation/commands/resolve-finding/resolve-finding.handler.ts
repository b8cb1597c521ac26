import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Stripe from 'stripe';
import { DataSource, In } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { RequestContext } from '../../../../platform/context/request-context.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { StripeCallError } from '../../../../platform/stripe/stripe-errors.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import type { ResolveAction } from '../../http/dto/reconciliation.dto.js';
import { ReconciliationFindingOrmEntity } from '../../persistence/reconciliation-finding.orm-entity.js';
import { type FindingView, toFindingView } from '../../queries/reconciliation.queries.js';
import { RunReconciliationHandler } from '../run-reconciliation/run-reconciliation.handler.js';

/**
 * An admin's decision on a finding that waits (`open`, `repair_failed`): `apply_stripe` re-reads the
 * object from Stripe and applies it through the webhook handlers with the admin as actor (the machine
 * still decides, and may refuse); `dismiss` leaves the app as it is. Either is audited with the note.
 * The other waiting findings of the same object in the same run are settled with it (one object, one
 * decision).
 */
@Injectable()
export class ResolveFindingHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly gateway: StripeGateway,
    private readonly runs: RunReconciliationHandler,
    private readonly audit: AuditFacade,
  ) {}

  async execute(findingId: string, action: ResolveAction, note: string): Promise<FindingView> {
    const repo = this.db.getRepository(ReconciliationFindingOrmEntity);
    const finding = await repo.findOne({ where: { id: findingId } });
    if (!finding) throw new ApiError('not_found', `No reconciliation finding ${findingId}.`);
    if (finding.status !== 'open' && finding.status !== 'repair_failed') {
      throw new ApiError(
        'conflict',
        `Finding ${findingId} is ${finding.status}; only waiting findings are resolved.`,
      );
    }
    const actor = RequestContext.actor();
    if (action === 'apply_stripe') {
      const outcome = await this.applyStripe(finding);
      if (outcome !== 'applied') {
        throw new ApiError(
          'conflict',
          `Stripe's ${finding.objectType} could not be applied (${outcome}); dismiss the finding or fix it by hand.`,
        );
      }
    }
    return this.db.transaction(async (manager) => {
      const siblings = await manager.getRepository(ReconciliationFindingOrmEntity).find({
        where: {
          runId: finding.runId,
          objectType: finding.objectType,
          stripeId: finding.stripeId,
          status: In(['open', 'repair_failed']),
        },
        lock: { mode: 'pessimistic_write' },
      });
      if (!siblings.some((s) => s.id === finding.id)) {
        throw new ApiError('conflict', `Finding ${findingId} was resolved meanwhile.`);
      }
      const now = this.clock.now();
      for (const sibling of siblings) {
        sibling.status = action === 'apply_stripe' ? 'applied' : 'dismissed';
        sibling.resolutionNote = note;
        sibling.resolvedBy = actor.id;
        sibling.resolvedAt = now;
      }
      await manager.getRepository(ReconciliationFindingOrmEntity).save(siblings);
      await this.audit.record(
        {
          accountId: finding.accountId,
          action:
            action === 'apply_stripe' ? 'reconciliation.finding_applied' : 'reconciliation.finding_dismissed',
          entityType: 'reconciliation_finding',
          entityId: finding.id,
          before: { status: finding.status, kinds: siblings.map((s) => s.kind), app: finding.appValue },
          after: { status: siblings[0]?.status, stripe: finding.stripeValue },
          reason: note,
          actor,
        },
        manager,
      );
      const resolved = siblings.find((s) => s.id === finding.id) ?? finding;
      return toFindingView(resolved);
    });
  }

  private async applyStripe(finding: ReconciliationFindingOrmEntity): Promise<string> {
    const actor = RequestContext.actor();
    const id = finding.stripeId;
    try {
      switch (finding.objectType) {
        case 'subscription': {
          const sub = await this.gateway.call('subscription.retrieve', (s) => s.subscriptions.retrieve(id));
          return await this.runs.applySubscription(sub, actor);
        }
        case 'invoice': {
          const invoice = await this.gateway.call('invoice.retrieve', (s) => s.invoices.retrieve(id));
          return await this.runs.applyInvoice(invoice, actor);
        }
        case 'payment': {
          const pi: Stripe.PaymentIntent = await this.gateway.call('payment_intent.retrieve', (s) =>
            s.paymentIntents.retrieve(id, { expand: ['latest_charge.balance_transaction'] }),
          );
          return await this.runs.applyPayment(pi, actor);
        }
        case 'refund': {
          const refund = await this.gateway.call('refund.retrieve', (s) =>
            s.refunds.retrieve(id, { expand: ['balance_transaction'] }),
          );
          return await this.runs.applyRefund(refund, actor);
        }
      }
    } catch (error) {
      if (error instanceof StripeCallError && error.kind === 'not_found') return 'missing at Stripe';
      throw error;
    }
  }
}
