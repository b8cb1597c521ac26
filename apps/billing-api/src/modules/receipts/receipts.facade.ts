import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { StatementPart } from '../../platform/database/row-sql.js';
import { IssueInvoiceReceiptHandler } from './commands/issue-invoice-receipt/issue-invoice-receipt.handler.js';
import { IssueReceiptHandler } from './commands/issue-receipt/issue-receipt.handler.js';
import type {
  CapturedPaymentFacts,
  InvoiceReceiptView,
  PaidInvoiceFacts,
  ReceiptView,
} from './contracts/receipt.view.js';
import {
  INVOICE_RECEIPT_COLUMNS,
  type InvoiceReceiptRow,
  toInvoiceReceiptView,
} from './persistence/invoice-receipt.row.js';
import { RECEIPT_COLUMNS, type ReceiptRow, toReceiptView } from './persistence/receipt.row.js';

/** What other modules may ask of receipts (R-PAY-4). */
@Injectable()
export class ReceiptsFacade {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly issue: IssueReceiptHandler,
    private readonly issueInvoice: IssueInvoiceReceiptHandler,
  ) {}

  /**
   * Issues the receipt of a paid invoice in the caller's transaction (idempotent per invoice), numbered
   * in the account's one receipt sequence, and puts its e-mail in the outbox. The caller holds the
   * invoice's row lock.
   */
  issueForInvoice(manager: EntityManager, invoice: PaidInvoiceFacts): Promise<InvoiceReceiptView> {
    return this.issueInvoice.execute(manager, invoice);
  }

  /** The receipts of these invoices (mirror ids), by invoice id; invoices without one are absent. */
  async forInvoices(
    invoiceIds: string[],
    manager: EntityManager = this.db.manager,
  ): Promise<Map<string, InvoiceReceiptView>> {
    if (invoiceIds.length === 0) return new Map();
    const rows = await manager.query<InvoiceReceiptRow[]>(
      `SELECT ${INVOICE_RECEIPT_COLUMNS} FROM receipts WHERE invoice_id = ANY($1::uuid[])`,
      [invoiceIds],
    );
    return new Map(rows.map((row) => [row.invoice_id, toInvoiceReceiptView(row)]));
  }

  /**
   * Issues the receipt of a captured payment in the caller's transaction (idempotent per payment) and
   * puts its e-mail in the outbox. The caller holds the payment's row lock.
   */
  issueForPayment(manager: EntityManager, payment: CapturedPaymentFacts): Promise<ReceiptView> {
    return this.issue.execute(manager, payment);
  }

  /**
   * The same as parts of the caller's statement; with `onlyWith`, issued only when that CTE returned
   * a row (see IssueReceiptHandler.parts).
   */
  issueForPaymentParts(payment: CapturedPaymentFacts, onlyWith?: string): StatementPart[] {
    return this.issue.parts(payment, onlyWith);
  }

  /**
   * Fills in the method brand and last 4 of a receipt issued before the charge told them (the
   * PaymentIntent event may come first). Never changes a method already on the receipt.
   */
  async completeMethod(
    manager: EntityManager,
    paymentId: string,
    brand: string | null,
    last4: string | null,
  ): Promise<void> {
    if (!brand && !last4) return;
    await manager.query(
      `UPDATE receipts SET method_brand = $2, method_last4 = $3
        WHERE payment_id = $1 AND method_brand IS NULL AND method_last4 IS NULL`,
      [paymentId, brand, last4],
    );
  }

  async forPayment(paymentId: string, manager: EntityManager = this.db.manager): Promise<ReceiptView | null> {
    const [row] = await manager.query<ReceiptRow[]>(
      `SELECT ${RECEIPT_COLUMNS} FROM receipts WHERE payment_id = $1`,
      [paymentId],
    );
    return row ? toReceiptView(row) : null;
  }
}
