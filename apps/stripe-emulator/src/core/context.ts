import type { ApiRequest, PageRequest, Router } from '../http/router.js';
import type { WebhookDelivery } from '../webhooks/delivery.js';
import type { Chaos } from './chaos.js';
import type { EmulatorState } from './state.js';

/** What every resource module gets besides the `/v1` router. */
export interface EmulatorContext {
  state: EmulatorState;
  chaos: Chaos;
  delivery: WebhookDelivery;
  /** Routes outside `/v1` (hosted pages, `/_emulator/...` admin): no API key, HTML or JSON. */
  pages: Router<PageRequest>;
  /** `http://host:port` of the running emulator (for hosted page URLs, `next_action` redirects). */
  baseUrl(): string;
  /** Run on `POST /_emulator/reset` (clear module timers, caches). */
  onReset(fn: () => void): void;
  /** Run on `close()` (clear module timers: nothing may keep the process alive). */
  onClose(fn: () => void): void;
  /** Settings given by `startEmulator({ settings })` / environment, for modules that need knobs. */
  settings: Record<string, unknown>;
}

/** A resource module: `resources/index.ts` lists them. */
export interface ResourceModule {
  register(router: Router<ApiRequest>, ctx: EmulatorContext): void;
}
