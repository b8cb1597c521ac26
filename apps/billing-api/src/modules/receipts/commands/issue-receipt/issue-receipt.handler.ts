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
    // One statement: the receipt already issued, or the next number of the account's counter and the
    // new receipt with it (the counter row stays locked until the caller's transaction ends).
    const [row] = await manager.query<(ReceiptRow & { existed: boolean })[]>(
      `WITH existing AS (SELECT * FROM receipts WHERE payment_id = $2),
            counter AS (
              INSERT INTO receipt_counters (account_id, last_number)
              SELECT $1, 1 WHERE NOT EXISTS (SELECT 1 FROM existing)
              ON CONFLICT (account_id) DO UPDATE SET last_number = receipt_counters.last_number + 1
              RETURNING last_number),
            issued AS (
              INSERT INTO receipts
                (id, account_id, payment_id, number, amount, currency, issued_at, method_brand, method_last4,
                 created_at)
              SELECT $3, $1, $2, counter.last_number, $4, $5, $6, $7, $8, $9 FROM counter
              RETURNING *)
       SELECT *, true AS existed FROM existing
       UNION ALL
       SELECT *, false AS existed FROM issued`,
      [
        payment.accountId,
        payment.paymentId,
        randomUUID(),
        payment.amount,
        payment.currency,
        payment.succeededAt,
        payment.methodBrand,
        payment.methodLast4,
        this.clock.now(),
      ],
    );
    if (row?.existed) return toReceiptView(row);
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
