import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsFacade } from './accounts.facade.js';
import { EnsureStripeCustomerHandler } from './commands/ensure-stripe-customer/ensure-stripe-customer.handler.js';
import { CreateAccountHandler } from './commands/create-account/create-account.handler.js';
import { UpdateAccountSettingsHandler } from './commands/update-account-settings/update-account-settings.handler.js';
import { AccountsController } from './http/accounts.controller.js';
import { OwnershipTransferController } from './http/ownership-transfer.controller.js';
import { ConfirmOwnershipTransferHandler } from './commands/confirm-ownership-transfer/confirm-ownership-transfer.handler.js';
import { RequestOwnershipTransferHandler } from './commands/request-ownership-transfer/request-ownership-transfer.handler.js';
import { RecordMemberHandler } from './commands/record-member/record-member.handler.js';
import { DropMemberHandler } from './commands/drop-member/drop-member.handler.js';
import { OwnershipTransferOrmEntity } from './persistence/ownership-transfer.orm-entity.js';
import { AdminAccountsController } from './http/admin-accounts.controller.js';
import { AccountMemberOrmEntity } from './persistence/account-member.orm-entity.js';
import { AccountOrmEntity } from './persistence/account.orm-entity.js';
import { AccountQueries } from './queries/account.queries.js';
import { StripeCustomerAccountQueries } from './queries/stripe-customer-account.queries.js';
import { CustomerMirrorHandler } from './webhook-handlers/customer-mirror.handler.js';

/** Accounts, their settings, members and billing ownership transfer. */
@Module({
  imports: [TypeOrmModule.forFeature([AccountOrmEntity, AccountMemberOrmEntity, OwnershipTransferOrmEntity])],
  controllers: [AccountsController, AdminAccountsController, OwnershipTransferController],
  providers: [
    AccountQueries,
    StripeCustomerAccountQueries,
    CreateAccountHandler,
    UpdateAccountSettingsHandler,
    EnsureStripeCustomerHandler,
    AccountsFacade,
    CustomerMirrorHandler,
    RecordMemberHandler,
    DropMemberHandler,
    RequestOwnershipTransferHandler,
    ConfirmOwnershipTransferHandler,
  ],
  exports: [AccountsFacade],
})
export class AccountsModule {}
