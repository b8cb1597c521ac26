import { ValidateIf } from 'class-validator';

/**
 * An optional body field: absent is fine, `null` is not (class-validator's `IsOptional` lets `null`
 * through to the handler, which would store it in a NOT NULL column: a 500, issue 16). A field that
 * may be cleared documents `nullable` and uses `IsOptional` deliberately.
 */
export const IsOptionalNotNull = (): PropertyDecorator => ValidateIf((_object, value) => value !== undefined);
