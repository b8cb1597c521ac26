import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { findRows, sql, type Sql } from '../../../platform/database/row-sql.js';
import { ApiError } from '../../../platform/http/api-error.js';
import { uuidOrNull } from '../../../platform/validation/uuid.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import type { AccountPaymentMethodView } from '../contracts/payment.view.js';
import { toSavedPaymentMethodView } from '../persistence/payment.mapper.js';
import { PaymentMethodOrmEntity } from '../persistence/payment-method.orm-entity.js';

/** The owner's view of a saved method: the default one is the customer's default and attached. */
export function toAccountPaymentMethodView(
  row: PaymentMethodOrmEntity,
  defaultId: string | null,
): AccountPaymentMethodView {
  return {
    ...toSavedPaymentMethodView(row),
    isDefault: row.status === 'attached' && row.stripePaymentMethodId === defaultId,
  };
}

/**
 * The condition on `payment_methods` that finds an attached method of this account by our id or Stripe's;
 * null when `id` is neither (nothing can match).
 */
export function attachedMethodWhere(accountId: string, id: string): Sql | null {
  const byId = uuidOrNull(id)
    ? sql`id = ${id}::uuid`
    : /^pm_[A-Za-z0-9_]{1,200}$/.test(id)
      ? sql`stripe_payment_method_id = ${id}`
      : null;
  return byId ? sql`${byId} AND account_id = ${accountId}::uuid AND status = 'attached'` : null;
}

/** Read side of saved payment methods (R-PAY-2), from the webhook mirror. */
@Injectable()
export class PaymentMethodQueries {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly accounts: AccountsFacade,
  ) {}

  async list(accountId: string): Promise<AccountPaymentMethodView[]> {
    const [rows, defaultId] = await Promise.all([
      this.db.getRepository(PaymentMethodOrmEntity).find({
        where: { accountId, status: 'attached' },
        order: { createdAt: 'DESC', id: 'DESC' },
      }),
      this.accounts.defaultPaymentMethodId(accountId),
    ]);
    return rows.map((row) => toAccountPaymentMethodView(row, defaultId));
  }

  /**
   * An attached method of this account by our id or Stripe's; 404 for anything else (another account's
   * method is reported as missing, never as forbidden).
   */
  async attachedOf(
    accountId: string,
    id: string,
    manager: EntityManager = this.db.manager,
  ): Promise<PaymentMethodOrmEntity> {
    // A prepared statement (findRows) rather than TypeORM's planned-anew findOne.
    const where = attachedMethodWhere(accountId, id);
    const [row] = where ? await findRows(manager, PaymentMethodOrmEntity, where) : [];
    if (!row) throw new ApiError('not_found', 'The payment method was not found.', { param: 'id' });
    return row;
  }
}
