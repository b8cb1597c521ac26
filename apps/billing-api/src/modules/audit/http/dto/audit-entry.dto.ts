import { ApiProperty } from '@nestjs/swagger';
import { PageMetaDto } from '../../../../platform/http/pagination.js';

export class AuditActorDto {
  @ApiProperty({ enum: ['user', 'system', 'stripe_event', 'reconciliation'] })
  type!: string;

  @ApiProperty({ nullable: true, type: String, example: 'user_123' })
  id!: string | null;
}

export class AuditEntryDto {
  @ApiProperty({ example: '42' })
  id!: string;

  @ApiProperty({ example: '2026-11-22T10:00:00.000Z' })
  occurredAt!: string;

  @ApiProperty({ nullable: true, type: String, format: 'uuid' })
  accountId!: string | null;

  @ApiProperty({ type: AuditActorDto })
  actor!: AuditActorDto;

  @ApiProperty({ example: 'account.settings_updated' })
  action!: string;

  @ApiProperty({ example: 'account' })
  entityType!: string;

  @ApiProperty({ example: '9f1c…' })
  entityId!: string;

  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true })
  before!: Record<string, unknown> | null;

  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true })
  after!: Record<string, unknown> | null;

  @ApiProperty({ nullable: true, type: String })
  reason!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'The request or job that made the change.' })
  correlationId!: string | null;
}

export class AuditPageDto extends PageMetaDto {
  @ApiProperty({ type: [AuditEntryDto] })
  data!: AuditEntryDto[];
}
