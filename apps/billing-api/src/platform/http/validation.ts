import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ApiError } from './api-error.js';

function firstProblem(errors: ValidationError[], parent = ''): { param: string; message: string } | null {
  for (const e of errors) {
    const param = parent ? `${parent}.${e.property}` : e.property;
    const constraint = e.constraints ? Object.values(e.constraints)[0] : undefined;
    if (constraint) return { param, message: constraint.replace(e.property, param) };
    const nested = firstProblem(e.children ?? [], param);
    if (nested) return nested;
  }
  return null;
}

/**
 * Global validation: unknown fields are refused, not silently dropped, and the first problem is
 * reported as 400 `validation_failed` with the offending `param` (R-CORE-10).
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    stopAtFirstError: true,
    exceptionFactory: (errors) => {
      const problem = firstProblem(errors) ?? { param: '', message: 'The request is invalid.' };
      return new ApiError('validation_failed', problem.message, { param: problem.param });
    },
  });
}
