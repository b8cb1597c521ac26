import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { balanceValuesOf } from '../../../../platform/stripe/balance-transaction.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { RefundOrmEntity } from '../../persistence/refund.orm-entity.js';

export type RecordRefundBalanceOutcome = 'recorded' | 'not_needed' | 'not_available';

/**
 * Records the fee and net of a succeeded refund (its balance transaction, R-REC fees and nets), read from
 * Stripe after the refund's commit (`refunds.record-balance`, queued by the refund mirror): never inside a
 * webhook's transaction, whose row locks and batch-mates would wait for Stripe. Written only while the
 * fee is unrecorded (one conditional UPDATE); a refund write of this kind is not a change of the refund (no version, no audit: Stripe's figures, recorded as
 * they are, like the payment's). A Stripe failure is thrown for the job's retries; reconciliation records
 * what is still missing (drift `fee`/`net`, safe).
 */
@Injectable()
export class RecordRefundBalanceHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
  ) {}

  async execute(refundId: string, balanceTransactionId: string): Promise<RecordRefundBalanceOutcome> {
    const row = await this.db.getRepository(RefundOrmEntity).findOneBy({ id: refundId });
    if (!row || row.fee !== null || row.status !== 'succeeded') return 'not_needed';
    const txn = await this.gateway.call('balance_transaction.retrieve', (stripe) =>
      stripe.balanceTransactions.retrieve(balanceTransactionId),
    );
    const balance = balanceValuesOf(txn);
    if (!balance) return 'not_available';
    const updated = await this.db.query<unknown[]>(
      `UPDATE refunds SET balance_transaction_id = $2, fee = $3, net = $4
        WHERE id = $1 AND fee IS NULL
        RETURNING id`,
      [row.id, balance.balanceTransactionId, balance.fee, balance.net],
    );
    return updated.length > 0 ? 'recorded' : 'not_needed';
  }
}
