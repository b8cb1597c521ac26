import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The merchant a receipt is from (R-PAY-4), kept on the receipt when it is issued: a receipt is a
 * document, and renaming the business (MERCHANT_NAME, MERCHANT_ADDRESS) must not rewrite the receipts
 * issued before. Nullable: receipts issued before this migration show the configured merchant. Both or
 * neither: a receipt never has a name from the row and an address from the configuration.
 */
export class ReceiptMerchant1763890700000 implements MigrationInterface {
  name = 'ReceiptMerchant1763890700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE receipts
        ADD COLUMN merchant_name text,
        ADD COLUMN merchant_address text[],
        ADD CONSTRAINT receipts_merchant_whole CHECK ((merchant_name IS NULL) = (merchant_address IS NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE receipts
        DROP CONSTRAINT receipts_merchant_whole,
        DROP COLUMN merchant_address,
        DROP COLUMN merchant_name`);
  }
}
