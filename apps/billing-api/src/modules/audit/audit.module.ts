import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditFacade } from './audit.facade.js';
import { AuditController } from './http/audit.controller.js';
import { AuditLogOrmEntity } from './persistence/audit-log.orm-entity.js';

/** The audit log: every module records billing-impacting changes through {@link AuditFacade}. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditLogOrmEntity])],
  controllers: [AuditController],
  providers: [AuditFacade],
  exports: [AuditFacade],
})
export class AuditModule {}
