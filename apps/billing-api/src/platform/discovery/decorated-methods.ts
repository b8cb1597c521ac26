import type { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';

/** A provider method carrying a decorator's metadata, bound to its instance. */
export interface DecoratedMethod<F> {
  /** `ProviderClass.method`, for errors, logs and catalogues. */
  name: string;
  fn: F;
  /** The values the decorator set (e.g. the event types a handler declares), duplicates removed. */
  values: string[];
}

/**
 * Every method of every static provider that carries `metadataKey` (set by `SetMetadata`), found at
 * start-up: how the Stripe event dispatcher and the domain-event bus find their handlers.
 */
export function decoratedMethods<F>(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  reflector: Reflector,
  metadataKey: string,
): DecoratedMethod<F>[] {
  const found: DecoratedMethod<F>[] = [];
  for (const wrapper of discovery.getProviders()) {
    if (!wrapper.isDependencyTreeStatic()) continue;
    const instance = wrapper.instance as Record<string, unknown> | null | undefined;
    if (!instance || typeof instance !== 'object') continue;
    const prototype = Object.getPrototypeOf(instance) as object | null;
    if (!prototype) continue;
    const className = (instance.constructor as { name?: string }).name ?? 'provider';
    for (const method of scanner.getAllMethodNames(prototype)) {
      const fn = (prototype as Record<string, unknown>)[method];
      if (typeof fn !== 'function') continue;
      const values = reflector.get<string[] | undefined>(metadataKey, fn as () => unknown);
      if (!values) continue;
      found.push({
        name: `${className}.${method}`,
        fn: (fn as (...args: unknown[]) => unknown).bind(instance) as F,
        values: [...new Set(values)],
      });
    }
  }
  return found;
}
