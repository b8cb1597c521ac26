import { registerDecorator, type ValidationOptions } from 'class-validator';

const zones = new Set<string>([...Intl.supportedValuesOf('timeZone'), 'UTC']);

/** An IANA time zone the runtime knows (used to show dates in the account's zone). */
export function IsTimeZone(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isTimeZone',
      target: target.constructor,
      propertyName: String(propertyName),
      options: {
        message: `${String(propertyName)} must be an IANA time zone such as Europe/Berlin`,
        ...options,
      },
      validator: { validate: (v: unknown) => typeof v === 'string' && zones.has(v) },
    });
}

/** A BCP 47 locale tag (used to format amounts and dates). */
export function IsLocale(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isLocale',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: `${String(propertyName)} must be a BCP 47 locale such as en-US`, ...options },
      validator: {
        validate: (v: unknown) => {
          if (typeof v !== 'string' || v.length > 35) return false;
          try {
            return Intl.getCanonicalLocales(v).length === 1;
          } catch {
            return false;
          }
        },
      },
    });
}
