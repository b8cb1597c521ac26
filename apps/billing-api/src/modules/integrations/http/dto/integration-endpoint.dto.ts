import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, IsUrl, MaxLength, MinLength } from 'class-validator';
import { INTEGRATION_EVENT_TYPES } from '../../contracts/integration-event.js';
import { IsOptionalNotNull } from '../../../../platform/validation/optional.js';

export class CreateIntegrationEndpointDto {
  @ApiProperty({ example: 'https://orders.example.com/billing-events' })
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  @MaxLength(2000)
  url!: string;

  @ApiPropertyOptional({ description: 'Signing secret (generated when omitted; returned only at creation).' })
  @IsOptionalNotNull()
  @IsString()
  @MinLength(16)
  @MaxLength(200)
  secret?: string;

  @ApiPropertyOptional({ example: 'Order service' })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(200)
  description?: string;
}

export class IntegrationEndpointDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  url!: string;

  @ApiProperty({ nullable: true, type: String })
  description!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

export class CreatedIntegrationEndpointDto extends IntegrationEndpointDto {
  @ApiProperty({ description: 'The signing secret: shown once.' })
  secret!: string;
}

export class IntegrationEndpointListDto {
  @ApiProperty({ type: [IntegrationEndpointDto] })
  data!: IntegrationEndpointDto[];
}

export class IntegrationDeliveryDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  eventId!: string;

  @ApiProperty({ enum: INTEGRATION_EVENT_TYPES, example: 'payment.succeeded' })
  eventType!: string;

  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] })
  status!: string;

  @ApiProperty()
  attempts!: number;

  @ApiProperty({ nullable: true, type: Number })
  lastStatusCode!: number | null;

  @ApiProperty({ nullable: true, type: String })
  lastError!: string | null;

  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  deliveredAt!: string | null;
}

export class IntegrationDeliveryListDto {
  @ApiProperty({ type: [IntegrationDeliveryDto] })
  data!: IntegrationDeliveryDto[];
}
