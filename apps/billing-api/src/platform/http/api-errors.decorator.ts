import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { API_ERROR_STATUS, type ApiErrorCode } from './error-codes.js';

export class ErrorDetailDto {
  @ApiProperty({ example: 'validation_failed', description: 'Stable, machine-readable code.' })
  code!: string;

  @ApiProperty({ example: 'amount must be a positive integer', description: 'A human message.' })
  message!: string;

  @ApiPropertyOptional({
    example: 'amount',
    description: 'The offending request field, when one is at fault.',
  })
  param?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  details?: Record<string, unknown>;

  @ApiProperty({
    example: '0b6f2d1e-4b1a-4c1e-9a55-0d2f4c1e9a55',
    description: 'Correlation id (x-request-id).',
  })
  request_id!: string;
}

export class ErrorResponseDto {
  @ApiProperty({ type: ErrorDetailDto })
  error!: ErrorDetailDto;
}

/** Errors every authenticated route may return. */
const COMMON: ApiErrorCode[] = ['unauthenticated', 'rate_limited', 'internal_error'];

/**
 * Documents a route's error codes in Swagger (one response per HTTP status, listing its codes), always
 * including the common ones.
 */
export function ApiErrors(...codes: ApiErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of [...new Set([...codes, ...COMMON])]) {
    const status = API_ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ApiExtraModels(ErrorResponseDto),
    ...[...byStatus.entries()].map(([status, list]) =>
      ApiResponse({
        status,
        description: `Error codes: ${list.map((c) => `\`${c}\``).join(', ')}`,
        schema: { $ref: getSchemaPath(ErrorResponseDto) },
      }),
    ),
  );
}
