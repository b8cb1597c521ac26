import { DRIFT_KINDS } from '@billing/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { PageMetaDto, PageQueryDto } from '../../../../platform/http/pagination.js';

export const FINDING_STATUSES = ['repaired', 'repair_failed', 'open', 'applied', 'dismissed'] as const;
export const RESOLVE_ACTIONS = ['apply_stripe', 'dismiss'] as const;
export type ResolveAction = (typeof RESOLVE_ACTIONS)[number];

export class StartRunDto {
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description:
      'Start of the window (ISO 8601): invoices and PaymentIntents Stripe created from here are compared. Default: RECONCILIATION_WINDOW_HOURS before `to`.',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  from?: Date;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'End of the window, exclusive (ISO 8601). Default: now (whole seconds).',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  to?: Date;
}

export class RunStatsComparedDto {
  @ApiProperty() subscription!: number;
  @ApiProperty() invoice!: number;
  @ApiProperty() payment!: number;

  @ApiPropertyOptional({
    description:
      'Succeeded refunds of the window whose balance transaction (amount, fee, net) was compared with the books.',
  })
  refund?: number;
}

export class RunStatsDto {
  @ApiProperty({ type: RunStatsComparedDto, description: 'Objects compared, per type.' })
  compared!: RunStatsComparedDto;

  @ApiProperty() findings!: number;

  @ApiProperty({ description: 'Findings repaired by the run (safe drifts applied).' })
  repaired!: number;

  @ApiProperty({ description: 'Findings left for an admin (unsafe, or a repair that did not apply).' })
  awaitingAdmin!: number;

  @ApiPropertyOptional({
    description:
      "Pages the run retried from its stored cursor after a failure (Stripe 5xx or network error past the SDK's retries).",
  })
  pageRetries?: number;

  @ApiPropertyOptional({
    description:
      'Times the run was resumed from its stored cursor by another worker after its worker stopped.',
  })
  resumed?: number;

  @ApiPropertyOptional({ description: 'Time spent running, over every worker that ran it.' })
  durationMs?: number;
}

export class ReconciliationRunDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'date-time' }) windowStart!: string;
  @ApiProperty({ format: 'date-time' }) windowEnd!: string;
  @ApiProperty({ enum: ['schedule', 'admin'] }) trigger!: string;
  @ApiProperty({ enum: ['running', 'completed', 'failed'] }) status!: string;
  @ApiProperty({ type: RunStatsDto }) stats!: RunStatsDto;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty({ nullable: true, type: String }) requestedBy!: string | null;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) finishedAt!: string | null;
}

export class ReconciliationFindingDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) runId!: string;
  @ApiProperty({
    enum: ['subscription', 'invoice', 'payment', 'refund'],
    description: '`refund`: a refund whose balance transaction (amount, fee, net) disagrees with the books.',
  })
  objectType!: string;
  @ApiProperty({ example: 'sub_1Q2w3E4r5T6y7U8i' }) stripeId!: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) accountId!: string | null;
  @ApiProperty({
    enum: DRIFT_KINDS,
    description:
      "`fee`, `net`, `balance_amount`: a charge's or refund's balance transaction against the recorded fee, net and amount (docs/reconciliation.md).",
  })
  kind!: string;
  @ApiProperty({ description: 'True when the app was behind Stripe and applying Stripe was safe.' })
  safe!: boolean;
  @ApiProperty({ enum: FINDING_STATUSES }) status!: string;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true })
  appValue!: Record<string, unknown> | null;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true })
  stripeValue!: Record<string, unknown> | null;
  @ApiProperty() reason!: string;
  @ApiProperty({ nullable: true, type: String }) resolutionNote!: string | null;
  @ApiProperty({ nullable: true, type: String }) resolvedBy!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) resolvedAt!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class ReconciliationRunDetailDto extends ReconciliationRunDto {
  @ApiProperty({
    type: [ReconciliationFindingDto],
    description:
      'The first 100 findings of the run; page through all with GET /v1/admin/reconciliation/findings?runId=.',
  })
  findings!: ReconciliationFindingDto[];
}

export class ReconciliationRunPageDto extends PageMetaDto {
  @ApiProperty({ type: [ReconciliationRunDto] }) data!: ReconciliationRunDto[];
}

export class ReconciliationFindingPageDto extends PageMetaDto {
  @ApiProperty({ type: [ReconciliationFindingDto] }) data!: ReconciliationFindingDto[];
}

export class ListFindingsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only the findings of this run.' })
  @IsOptional()
  @IsUUID()
  runId?: string;

  @ApiPropertyOptional({
    enum: FINDING_STATUSES,
    description: '`open` and `repair_failed` wait for an admin.',
  })
  @IsOptional()
  @IsIn(FINDING_STATUSES)
  status?: (typeof FINDING_STATUSES)[number];
}

export class ResolveFindingDto {
  @ApiProperty({
    enum: RESOLVE_ACTIONS,
    description:
      '`apply_stripe`: re-read the object from Stripe and apply it through the webhook handlers (the app follows Stripe). `dismiss`: leave the app as it is.',
  })
  @IsIn(RESOLVE_ACTIONS)
  action!: ResolveAction;

  @ApiProperty({
    minLength: 3,
    maxLength: 1000,
    description: 'Why: kept on the finding and in the audit log.',
  })
  @IsString()
  @MinLength(3)
  @MaxLength(1000)
  note!: string;
}
