import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { AppConfig } from '../../../../platform/config/app-config.js';
import { NotificationsFacade } from '../../../notifications/notifications.facade.js';
import type { InvoiceReceiptView, PaidInvoiceFacts } from '../../contracts/receipt.view.js';
import {
  INVOICE_RECEIPT_COLUMNS,
  type InvoiceReceiptRow,
  toInvoiceReceiptView,
} from '../../persistence/invoice-receipt.row.js';

/**
 * Issues the receipt of a paid invoice in the caller's transaction (R-PAY-4), once per invoice, from the
 * account's receipt counter that payments' receipts use: the upsert holds the counter row's lock until
 * the transaction ends, so a payment and an invoice of one account take consecutive numbers and a
 * rolled-back transaction gives its number back. The e-mail goes to the outbox in the same transaction,
 * keyed `receipt:invoice:<invoiceId>` (never twice). The merchant at the time is kept on the receipt.
 *
 * The caller holds the invoice's row lock (the invoice mirror does), so one invoice is never issued
 * twice concurrently; `invoice_id` is unique as a backstop.
 */
@Injectable()
export class IssueInvoiceReceiptHandler {
  constructor(
    private readonly clock: Clock,
    private readonly notifications: NotificationsFacade,
    private readonly config: AppConfig,
  ) {}

  async execute(manager: EntityManager, invoice: PaidInvoiceFacts): Promise<InvoiceReceiptView> {
    const [existing] = await manager.query<InvoiceReceiptRow[]>(
      `SELECT ${INVOICE_RECEIPT_COLUMNS} FROM receipts WHERE invoice_id = $1`,
      [invoice.invoiceId],
    );
    if (existing) return toInvoiceReceiptView(existing);
    const [counter] = await manager.query<{ last_number: string }[]>(
      `INSERT INTO receipt_counters (account_id, last_number) VALUES ($1, 1)
       ON CONFLICT (account_id) DO UPDATE SET last_number = receipt_counters.last_number + 1
       RETURNING last_number`,
      [invoice.accountId],
    );
    if (!counter) throw new Error(`no receipt number for account ${invoice.accountId}`);
    const { merchant } = this.config;
    const [row] = await manager.query<InvoiceReceiptRow[]>(
      `INSERT INTO receipts
         (id, account_id, invoice_id, number, amount, currency, issued_at, merchant_name, merchant_address,
          created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       RETURNING ${INVOICE_RECEIPT_COLUMNS}`,
      [
        randomUUID(),
        invoice.accountId,
        invoice.invoiceId,
        counter.last_number,
        invoice.amount,
        invoice.currency,
        invoice.paidAt,
        merchant.name,
        merchant.address,
        this.clock.now(),
      ],
    );
    if (!row) throw new Error(`receipt of invoice ${invoice.invoiceId} not inserted`);
    const receipt = toInvoiceReceiptView(row);
    await this.notifications.enqueue(manager, {
      accountId: invoice.accountId,
      template: 'invoice_paid',
      dedupeKey: `receipt:invoice:${invoice.invoiceId}`,
      payload: {
        invoiceId: invoice.invoiceId,
        invoiceNumber: invoice.invoiceNumber,
        receiptNumber: receipt.number,
        amount: receipt.amount,
        currency: receipt.currency,
        paidAt: receipt.issuedAt,
        periodStart: invoice.periodStart?.toISOString() ?? null,
        periodEnd: invoice.periodEnd?.toISOString() ?? null,
        merchant: receipt.merchant,
      },
    });
    return receipt;
  }
}
