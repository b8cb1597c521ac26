import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { NotificationsFacade } from '../../../notifications/notifications.facade.js';
import type { CapturedPaymentFacts, ReceiptView } from '../../contracts/receipt.view.js';
import { type ReceiptRow, toReceiptView } from '../../persistence/receipt.row.js';

/**
 * Issues the receipt of a captured payment in the caller's transaction (R-PAY-4), once per payment:
 * the number comes from the account's counter row, incremented by an upsert that holds the row lock
 * until the transaction ends, so concurrent payments of one account take consecutive numbers and a
 * rolled-back transaction gives its number back (no gaps, no repeats). The receipt e-mail goes to the
 * outbox in the same transaction, keyed `receipt:<paymentId>` (never twice).
 *
 * The caller must hold the payment's row lock (the mirror does), so one payment is never issued twice
 * concurrently; `payment_id` is unique as a backstop.
 */
@Injectable()
export class IssueReceiptHandler {
  constructor(
    private readonly clock: Clock,
    private readonly notifications: NotificationsFacade,
  ) {}

  async execute(manager: EntityManager, payment: CapturedPaymentFacts): Promise<ReceiptView> {
    const [existing] = await manager.query<ReceiptRow[]>(`SELECT * FROM receipts WHERE payment_id = $1`, [
      payment.paymentId,
    ]);
    if (existing) return toReceiptView(existing);
    const [counter] = await manager.query<{ last_number: string }[]>(
      `INSERT INTO receipt_counters (account_id, last_number) VALUES ($1, 1)
       ON CONFLICT (account_id) DO UPDATE SET last_number = receipt_counters.last_number + 1
       RETURNING last_number`,
      [payment.accountId],
    );
    if (!counter) throw new Error(`no receipt counter for account ${payment.accountId}`);
    const number = Number(counter.last_number);
    if (!Number.isSafeInteger(number)) throw new Error(`receipt number ${counter.last_number} is unsafe`);
    const [row] = await manager.query<ReceiptRow[]>(
      `INSERT INTO receipts
         (id, account_id, payment_id, number, amount, currency, issued_at, method_brand, method_last4, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       RETURNING *`,
      [
        randomUUID(),
        payment.accountId,
        payment.paymentId,
        number,
        payment.amount,
        payment.currency,
        payment.succeededAt,
        payment.methodBrand,
        payment.methodLast4,
        this.clock.now(),
      ],
    );
    if (!row) throw new Error(`receipt of payment ${payment.paymentId} not inserted`);
    const receipt = toReceiptView(row);
    await this.notifications.enqueue(manager, {
      accountId: payment.accountId,
      template: 'payment_succeeded',
      dedupeKey: `receipt:${payment.paymentId}`,
      payload: {
        paymentId: payment.paymentId,
        receiptNumber: receipt.number,
        amount: receipt.amount,
        currency: receipt.currency,
        issuedAt: receipt.issuedAt,
        methodBrand: receipt.methodBrand,
        methodLast4: receipt.methodLast4,
        description: payment.description,
      },
    });
    return receipt;
  }
}
