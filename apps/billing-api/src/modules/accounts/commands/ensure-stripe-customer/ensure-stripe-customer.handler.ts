import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { AccountOrmEntity } from '../../persistence/account.orm-entity.js';

/**
 * The account's Stripe customer, created on first need (issue 5). Idempotent end to end: the Stripe
 * idempotency key derives from the account id, so concurrent or retried calls create one customer;
 * the id is stored under a row lock, and a customer linked meanwhile (e.g. by the customer webhook)
 * wins over ours (it is the same one: `metadata.account_id` ties them).
 */
@Injectable()
export class EnsureStripeCustomerHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
  ) {}

  async execute(accountId: string): Promise<string> {
    const repo = this.db.getRepository(AccountOrmEntity);
    const current = await repo.findOne({ where: { id: accountId } });
    if (!current) throw new ApiError('not_found', 'The resource was not found.');
    if (current.stripeCustomerId) return current.stripeCustomerId;

    const customer = await this.gateway.call('customer.create', (stripe) =>
      stripe.customers.create(
        { name: current.name, email: current.billingEmail, metadata: { account_id: accountId } },
        { idempotencyKey: StripeGateway.idempotencyKey('customer.create', accountId) },
      ),
    );
    return this.db.transaction(async (manager) => {
      const locked = await manager
        .getRepository(AccountOrmEntity)
        .findOne({ where: { id: accountId }, lock: { mode: 'pessimistic_write' } });
      if (!locked) throw new ApiError('not_found', 'The resource was not found.');
      if (locked.stripeCustomerId) return locked.stripeCustomerId;
      await manager
        .getRepository(AccountOrmEntity)
        .update({ id: accountId }, { stripeCustomerId: customer.id, updatedAt: this.clock.now() });
      await this.audit.record(
        {
          accountId,
          action: 'account.stripe_customer_created',
          entityType: 'account',
          entityId: accountId,
          before: { stripeCustomerId: null },
          after: { stripeCustomerId: customer.id },
        },
        manager,
      );
      return customer.id;
    });
  }
}
