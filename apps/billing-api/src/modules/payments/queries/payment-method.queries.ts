import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { findRows, sql, type Sql } from '../../../platform/database/row-sql.js';
import { ApiError } from '../../../platform/http/api-error.js';
import { uuidOrNull } from '../../../platform/validation/uuid.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import type { PaymentMethodDto } from '../http/dto/payment-method.dto.js';
import { PaymentMethodOrmEntity } from '../persistence/payment-method.orm-entity.js';

export function toPaymentMethodDto(row: PaymentMethodOrmEntity, defaultId: string | null): PaymentMethodDto {
  return {
    id: row.id,
    stripePaymentMethodId: row.stripePaymentMethodId,
    type: row.type,
    brand: row.cardBrand,
    last4: row.cardLast4,
    expMonth: row.cardExpMonth,
    expYear: row.cardExpYear,
    funding: row.cardFunding,
    isDefault: row.status === 'attached' && row.stripePaymentMethodId === defaultId,
    status: row.status,
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

  async list(accountId: string): Promise<PaymentMethodDto[]> {
    const [rows, defaultId] = await Promise.all([
      this.db.getRepository(PaymentMethodOrmEntity).find({
        where: { accountId, status: 'attached' },
        order: { createdAt: 'DESC', id: 'DESC' },
      }),
      this.accounts.defaultPaymentMethodId(accountId),
    ]);
    return rows.map((row) => toPaymentMethodDto(row, defaultId));
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
