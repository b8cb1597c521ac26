import { isCaptured } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { findRows, sql } from '../../../../platform/database/row-sql.js';
import { balanceValuesOf } from '../../../../platform/stripe/balance-transaction.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { PaymentOrmEntity } from '../../persistence/payment.orm-entity.js';
import { PaymentWriter } from '../../persistence/payment-writer.js';

export type RecordBalanceOutcome = 'recorded' | 'not_needed' | 'not_available';

/**
 * Records the fee and net of a captured payment (its charge's balance transaction, R-REC fees and nets),
 * read from Stripe after the capture committed (`payments.record-balance`, queued by
 * RecordBalanceOnCaptureListener): never inside a webhook's or the API's transaction, whose row lock and
 * batch-mates would wait for Stripe. Written through the payment's one writer (`recordBalance`: not a
 * change of the payment, its version stays), only while the fee is unrecorded and the charge still its
 * latest. A Stripe failure is thrown for the job's retries; reconciliation records what is still missing
 * (drift `fee`/`net`, safe).
 */
@Injectable()
export class RecordPaymentBalanceHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
    private readonly writer: PaymentWriter,
  ) {}

  async execute(paymentId: string): Promise<RecordBalanceOutcome> {
    const where = sql`id = ${paymentId}::uuid`;
    const [row] = await findRows(this.db.manager, PaymentOrmEntity, where);
    const chargeId = row?.latestChargeId;
    if (!row || !chargeId || row.fee !== null || !isCaptured(row.status)) return 'not_needed';
    const charge = await this.gateway.call('charge.retrieve', (stripe) =>
      stripe.charges.retrieve(chargeId, { expand: ['balance_transaction'] }),
    );
    const balance = balanceValuesOf(charge.balance_transaction);
    if (!balance) return 'not_available';
    const recorded = await this.writer.recordBalance(this.db.manager, row.id, chargeId, balance);
    return recorded ? 'recorded' : 'not_needed';
  }
}
