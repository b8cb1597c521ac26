import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Receipts of paid subscription invoices (R-PAY-4, R-SUB-7) in the same table and the same gap-free
 * per-account sequence as payment receipts (`receipt_counters`, `UNIQUE (account_id, number)`): a receipt
 * is of exactly one payment or one invoice. The invoice reference does not cascade: a receipt is a
 * document, so an invoice mirror row with a receipt cannot be deleted (a purge of old mirror rows must
 * keep those).
 */
export class InvoiceReceipts1763910000000 implements MigrationInterface {
  name = 'InvoiceReceipts1763910000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE receipts
        ALTER COLUMN payment_id DROP NOT NULL,
        ADD COLUMN invoice_id uuid UNIQUE REFERENCES invoices (id),
        ADD CONSTRAINT receipts_of_one CHECK ((payment_id IS NULL) <> (invoice_id IS NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM receipts WHERE invoice_id IS NOT NULL`);
    await q.query(`
      ALTER TABLE receipts
        DROP CONSTRAINT receipts_of_one,
        DROP COLUMN invoice_id,
        ALTER COLUMN payment_id SET NOT NULL`);
  }
}
