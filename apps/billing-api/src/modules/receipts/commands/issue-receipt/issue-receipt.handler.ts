import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { AppConfig } from '../../../../platform/config/app-config.js';
import { NotificationsFacade } from '../../../notifications/notifications.facade.js';
import { raw, runStatement, sql, type StatementPart } from '../../../../platform/database/row-sql.js';
import type { CapturedPaymentFacts, ReceiptView } from '../../contracts/receipt.view.js';
import { RECEIPT_COLUMNS, type ReceiptRow, toReceiptView } from '../../persistence/receipt.row.js';

/**
 * Issues the receipt of a captured payment in the caller's transaction (R-PAY-4), once per payment:
 * the number comes from the account's counter row, incremented by an upsert that holds the row lock
 * until the transaction ends, so concurrent payments of one account take consecutive numbers and a
 * rolled-back transaction gives its number back (no gaps, no repeats). The receipt e-mail goes to the
 * outbox in the same transaction, keyed `receipt:<paymentId>` (never twice).
 *
 * A receipt is a document: the merchant it is from (MERCHANT_NAME, MERCHANT_ADDRESS at the time) is kept
 * on it and in its e-mail, so that renaming the business later changes neither.
 *
 * The caller must hold the payment's row lock (the mirror does), so one payment is never issued twice
 * concurrently; `payment_id` is unique as a backstop.
 */
@Injectable()
export class IssueReceiptHandler {
  constructor(
    private readonly clock: Clock,
    private readonly notifications: NotificationsFacade,
    private readonly config: AppConfig,
  ) {}

  async execute(manager: EntityManager, payment: CapturedPaymentFacts): Promise<ReceiptView> {
    const columns = raw(RECEIPT_COLUMNS);
    const result = await runStatement(manager, [
      ...this.parts(payment),
      {
        ctes: [],
        outputs: [
          sql`(SELECT row_to_json(r) FROM (SELECT ${columns} FROM receipts__existing
                UNION ALL SELECT ${columns} FROM receipts__issued) r LIMIT 1) AS receipt`,
        ],
      },
    ]);
    if (!result.receipt) throw new Error(`receipt of payment ${payment.paymentId} not inserted`);
    return toReceiptView(result.receipt as ReceiptRow);
  }

  /**
   * The receipt and its e-mail as parts of the caller's statement (CTEs `receipts__existing`,
   * `receipts__counter`, `receipts__issued` and the outbox's `notifications__outbox`; output
   * `receipts__number`: each module's namespace, see StatementPart): the receipt already issued,
   * or the account counter's next number, the receipt with it and its e-mail carrying that number and
   * the merchant as the receipt names it. With `onlyWith`, nothing is issued unless that CTE returned a
   * row (the change that captured the payment).
   */
  parts(payment: CapturedPaymentFacts, onlyWith?: string): StatementPart[] {
    const gate = onlyWith ? sql` FROM ${raw(onlyWith)}` : sql``;
    const columns = raw(RECEIPT_COLUMNS);
    const { merchant } = this.config;
    const receipt: StatementPart = {
      ctes: [
        sql`receipts__existing AS (SELECT ${columns} FROM receipts WHERE payment_id = ${payment.paymentId}::uuid)`,
        sql`receipts__counter AS (
          INSERT INTO receipt_counters (account_id, last_number)
          SELECT ${payment.accountId}::uuid, 1${gate} WHERE NOT EXISTS (SELECT 1 FROM receipts__existing)
          ON CONFLICT (account_id) DO UPDATE SET last_number = receipt_counters.last_number + 1
          RETURNING last_number)`,
        sql`receipts__issued AS (
          INSERT INTO receipts
            (id, account_id, payment_id, number, amount, currency, issued_at, method_brand, method_last4,
             merchant_name, merchant_address, created_at)
          SELECT ${randomUUID()}::uuid, ${payment.accountId}::uuid, ${payment.paymentId}::uuid,
                 receipts__counter.last_number, ${payment.amount}::bigint, ${payment.currency},
                 ${payment.succeededAt}::timestamptz, ${payment.methodBrand}, ${payment.methodLast4},
                 ${merchant.name}, ${merchant.address}::text[], ${this.clock.now()}::timestamptz
            FROM receipts__counter
          RETURNING ${columns})`,
      ],
      outputs: [sql`(SELECT number FROM receipts__issued) AS receipts__number`],
    };
    const mail = this.notifications.enqueuePart(
      {
        accountId: payment.accountId,
        template: 'payment_succeeded',
        dedupeKey: `receipt:${payment.paymentId}`,
        payload: {
          paymentId: payment.paymentId,
          amount: payment.amount,
          currency: payment.currency,
          issuedAt: payment.succeededAt.toISOString(),
          methodBrand: payment.methodBrand,
          methodLast4: payment.methodLast4,
          description: payment.description,
        },
      },
      {
        cte: 'receipts__issued',
        // The merchant as the receipt row holds it: the e-mail says what the receipt says.
        payload: sql`jsonb_build_object('receiptNumber', receipts__issued.number,
          'merchant', jsonb_build_object('name', receipts__issued.merchant_name,
                                         'address', to_jsonb(receipts__issued.merchant_address)))`,
      },
    );
    return [receipt, mail];
  }
}
