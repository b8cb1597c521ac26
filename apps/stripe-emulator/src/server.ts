import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { registerAdmin } from './admin/routes.js';
import { Chaos, type ChaosSettings, chaosFromEnv } from './core/chaos.js';
import type { EmulatorContext } from './core/context.js';
import { API_VERSION, runInRequest } from './core/events.js';
import { newId, webhookSecret } from './core/ids.js';
import { type Account, EmulatorState, type SerializedState } from './core/state.js';
import {
  StripeApiError,
  apiError,
  authenticationError,
  idempotencyInFlight,
  idempotencyMismatch,
  rateLimited,
} from './http/errors.js';
import { applyExpand, expandParam } from './http/expand.js';
import { type FormParams, decodeForm } from './http/form.js';
import {
  beginIdempotency,
  completeIdempotency,
  fingerprintOf,
  releaseIdempotency,
} from './http/idempotency.js';
import { type ApiRequest, HttpResponse, type PageRequest, Router } from './http/router.js';
import { resourceModules } from './resources/index.js';
import { type DeliveryOptions, WebhookDelivery } from './webhooks/delivery.js';

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  chaos?: Partial<ChaosSettings>;
  delivery?: Partial<DeliveryOptions>;
  /** A webhook URL that receives the events of every account (the demo endpoint). */
  webhookUrl?: string;
  /** Its signing secret (`whsec_...`); generated when omitted. */
  webhookSecret?: string;
  /** Load state from this file at start and save it on close (and every few seconds after writes). */
  stateFile?: string;
  /** Free-form knobs for resource modules (e.g. the BILLING helper's retry schedule). */
  settings?: Record<string, unknown>;
  /** Random source for chaos (tests). */
  random?: () => number;
  /** Log each request to stdout (standalone mode). */
  log?: boolean;
}

export interface RunningEmulator {
  url: string;
  port: number;
  host: string;
  state: EmulatorState;
  chaos: Chaos;
  delivery: WebhookDelivery;
  /** The demo endpoint's signing secret when `webhookUrl` was given. */
  webhookSecret: string | undefined;
  close(): Promise<void>;
  /** Options for `new Stripe(key, { ...emulator.stripeConfig() })`. */
  stripeConfig(): { host: string; port: number; protocol: 'http' };
  /** Saves state to `stateFile` now (no-op without one). */
  saveState(): void;
}

const NOT_FOUND_HINT = 'Please see https://stripe.com/docs or we can help at https://support.stripe.com/.';

/** Options from the environment (standalone `npm run emulator`). */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): EmulatorOptions {
  const options: EmulatorOptions = {
    port: env.STRIPE_EMULATOR_PORT ? Number(env.STRIPE_EMULATOR_PORT) : 12111,
    host: env.STRIPE_EMULATOR_HOST || '127.0.0.1',
    chaos: chaosFromEnv(env),
    log: env.STRIPE_EMULATOR_LOG === '1' || env.STRIPE_EMULATOR_LOG === 'true',
  };
  if (env.STRIPE_EMULATOR_WEBHOOK_URL) options.webhookUrl = env.STRIPE_EMULATOR_WEBHOOK_URL;
  if (env.STRIPE_EMULATOR_WEBHOOK_SECRET) options.webhookSecret = env.STRIPE_EMULATOR_WEBHOOK_SECRET;
  if (env.STRIPE_EMULATOR_STATE_FILE) options.stateFile = env.STRIPE_EMULATOR_STATE_FILE;
  if (env.STRIPE_EMULATOR_WEBHOOK_RETRY_BASE_MS) {
    options.delivery = { retryBaseMs: Number(env.STRIPE_EMULATOR_WEBHOOK_RETRY_BASE_MS) };
  }
  return options;
}

/** Starts the emulator (in-process or standalone). */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  const state = new EmulatorState();
  if (options.stateFile) loadState(state, options.stateFile);
  const chaos = new Chaos(options.chaos ?? {}, options.random);
  const secret = options.webhookUrl ? (options.webhookSecret ?? webhookSecret()) : undefined;
  const delivery = new WebhookDelivery(state, chaos, {
    ...options.delivery,
    globalEndpoints: [
      ...(options.delivery?.globalEndpoints ?? []),
      ...(options.webhookUrl && secret ? [{ url: options.webhookUrl, secret }] : []),
    ],
  });
  const api = new Router<ApiRequest>();
  const pages = new Router<PageRequest>();
  const resetHooks: (() => void)[] = [];
  const closeHooks: (() => void)[] = [];
  let baseUrl = '';
  state.shared.settings = options.settings ?? {};
  const ctx: EmulatorContext = {
    state,
    chaos,
    delivery,
    pages,
    baseUrl: () => baseUrl,
    onReset: (fn) => resetHooks.push(fn),
    onClose: (fn) => closeHooks.push(fn),
    settings: state.shared.settings,
  };
  for (const module of resourceModules) module.register(api, ctx);
  registerAdmin(pages, ctx, () => {
    state.reset();
    delivery.clear();
    for (const hook of resetHooks) hook();
  });

  let dirty = false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8');
      if (req.method !== 'GET') dirty = true;
      handle(req, res, rawBody).catch((err: unknown) => {
        // Last resort: never leave a socket hanging.
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify(apiError(String(err)).toBody()));
        }
      });
    });
  });
  server.keepAliveTimeout = 30_000;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, rawBody: string): Promise<void> {
    const requestId = newId('req');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    const queryString = q >= 0 ? url.slice(q + 1) : '';
    const method = (req.method ?? 'GET').toUpperCase();
    if (options.log) process.stdout.write(`${method} ${path}\n`);

    if (!path.startsWith('/v1/')) {
      await handlePage(req, res, { method, path, queryString, rawBody, requestId });
      return;
    }

    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'request-id': requestId,
      'stripe-version': headerValue(req.headers['stripe-version']) ?? API_VERSION,
    };
    const send = (status: number, body: string, extra?: Record<string, string>): void => {
      res.writeHead(status, extra ? { ...headers, ...extra } : headers);
      res.end(body);
    };
    // Chaos: the connection is reset instead of answered. The SDK retries a closed connection once on its
    // own (same idempotency key), so a client sees the network error when that replay is lost too.
    const loseResponse = (): void => {
      req.socket.destroy();
    };
    const sendError = (err: StripeApiError): void => {
      send(err.status, JSON.stringify(err.toBody(requestId)), err.headers);
    };

    let account: Account;
    try {
      account = state.account(secretKeyOf(req));
    } catch (err) {
      sendError(err as StripeApiError);
      return;
    }

    const { rateLimitRate } = chaos.settings;
    if (chaos.roll(rateLimitRate)) return sendError(rateLimited());
    if (chaos.callFails()) return sendError(apiError());

    const match = api.match(method, path);
    if (!match) {
      sendError(
        new StripeApiError({
          status: 404,
          type: 'invalid_request_error',
          message: `Unrecognized request URL (${method}: ${path}). ${NOT_FOUND_HINT}`,
        }),
      );
      return;
    }

    const idempotencyKey = method === 'GET' ? undefined : headerValue(req.headers['idempotency-key']);
    if (idempotencyKey !== undefined) {
      headers['idempotency-key'] = idempotencyKey;
      const decision = beginIdempotency(
        account,
        idempotencyKey,
        fingerprintOf(method, path, rawBody + '?' + queryString),
      );
      if (decision.kind === 'mismatch') return sendError(idempotencyMismatch(idempotencyKey));
      if (decision.kind === 'in_flight') return sendError(idempotencyInFlight());
      if (decision.kind === 'replay') {
        if (chaos.responseLost()) return loseResponse();
        send(decision.record.status, decision.record.body, {
          'idempotent-replayed': 'true',
          'original-request': decision.record.requestId,
        });
        return;
      }
    }

    // Added latency counts as processing time: an idempotency key stays in flight meanwhile.
    const latencyMs = chaos.apiLatency();
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));

    let status = 200;
    let body: string;
    let extraHeaders: Record<string, string> | undefined;
    try {
      const query = decodeForm(queryString);
      const form: FormParams = rawBody ? decodeForm(rawBody) : {};
      const apiReq: ApiRequest = {
        method,
        path,
        params: match.params,
        body: form,
        query,
        account,
        headers: req.headers,
        requestId,
        expand: [...expandParam(query.expand), ...expandParam(form.expand)],
      };
      if (idempotencyKey !== undefined) apiReq.idempotencyKey = idempotencyKey;
      let result = await runInRequest({ id: requestId, idempotencyKey: idempotencyKey ?? null }, () =>
        match.handler(apiReq),
      );
      if (result instanceof HttpResponse) {
        status = result.status;
        extraHeaders = result.headers;
        result = result.body;
      }
      if (apiReq.expand.length > 0) result = applyExpand(account, result, apiReq.expand);
      body = JSON.stringify(result);
    } catch (err) {
      const apiErr = err instanceof StripeApiError ? err : internalError(err);
      status = apiErr.status;
      body = JSON.stringify(apiErr.toBody(requestId));
      extraHeaders = apiErr.headers;
    }
    if (idempotencyKey !== undefined) {
      if (status === 409 || status === 429) releaseIdempotency(account, idempotencyKey);
      else completeIdempotency(account, idempotencyKey, status, body, requestId);
    }
    // Chaos: the call committed (and its idempotent result is stored), but the answer never arrives.
    if (chaos.responseLost()) return loseResponse();
    send(status, body, extraHeaders);
  }

  async function handlePage(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    r: { method: string; path: string; queryString: string; rawBody: string; requestId: string },
  ): Promise<void> {
    const baseHeaders = { 'request-id': r.requestId };
    const match = pages.match(r.method, r.path);
    if (!match) {
      res.writeHead(404, { ...baseHeaders, 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: {
            type: 'invalid_request_error',
            message: `Unrecognized request URL (${r.method}: ${r.path}).`,
          },
        }),
      );
      return;
    }
    try {
      const contentType = headerValue(req.headers['content-type']) ?? '';
      let body: FormParams = {};
      if (r.rawBody) {
        body = contentType.includes('application/json')
          ? (JSON.parse(r.rawBody) as FormParams)
          : decodeForm(r.rawBody);
      }
      const pageReq: PageRequest = {
        method: r.method,
        path: r.path,
        params: match.params,
        body,
        query: decodeForm(r.queryString),
        headers: req.headers,
        requestId: r.requestId,
        rawBody: r.rawBody,
      };
      const result = await runInRequest({ id: r.requestId, idempotencyKey: null }, () =>
        match.handler(pageReq),
      );
      if (result instanceof HttpResponse) {
        const headers: Record<string, string> = { ...baseHeaders, ...result.headers };
        if (result.raw) {
          res.writeHead(result.status, headers);
          res.end(typeof result.body === 'string' ? result.body : String(result.body));
        } else {
          res.writeHead(result.status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(result.body));
        }
        return;
      }
      res.writeHead(200, { ...baseHeaders, 'content-type': 'application/json' });
      res.end(JSON.stringify(result));
    } catch (err) {
      const apiErr = err instanceof StripeApiError ? err : internalError(err);
      res.writeHead(apiErr.status, { ...baseHeaders, 'content-type': 'application/json' });
      res.end(JSON.stringify(apiErr.toBody()));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  baseUrl = `http://${urlHost}:${port}`;
  state.shared.baseUrl = baseUrl;

  const saveState = (): void => {
    if (!options.stateFile) return;
    const tmp = `${options.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(state.serialize()));
    renameSync(tmp, options.stateFile);
    dirty = false;
  };
  let saver: NodeJS.Timeout | undefined;
  if (options.stateFile) {
    saver = setInterval(() => {
      if (dirty) saveState();
    }, 5000);
    saver.unref();
  }

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    port,
    host,
    state,
    chaos,
    delivery,
    webhookSecret: secret,
    stripeConfig: () => ({ host: urlHost, port, protocol: 'http' }),
    saveState,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        if (saver) clearInterval(saver);
        for (const hook of closeHooks) hook();
        state.shared.cancelTimers();
        delivery.close();
        if (options.stateFile) saveState();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) return value[0];
  return value;
}

/** The secret key from `Authorization: Bearer sk_test_...` (or Basic auth with the key as user). */
function secretKeyOf(req: http.IncomingMessage): string {
  const auth = headerValue(req.headers.authorization);
  if (!auth) {
    throw authenticationError(
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    );
  }
  let key = '';
  if (auth.startsWith('Bearer ')) key = auth.slice(7).trim();
  else if (auth.startsWith('Basic '))
    key = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[0] ?? '';
  if (!/^(sk|rk)_test_\w+/.test(key)) {
    const shown =
      key.length > 8 ? `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}` : key;
    throw authenticationError(
      `Invalid API Key provided: ${shown}. The emulator accepts test keys only (sk_test_...).`,
    );
  }
  return key;
}

function internalError(err: unknown): StripeApiError {
  process.stderr.write(
    `[stripe-emulator] internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return apiError('An unknown error occurred in the emulator.');
}

function loadState(state: EmulatorState, file: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return;
  }
  try {
    state.restore(JSON.parse(text) as SerializedState);
  } catch (err) {
    process.stderr.write(`[stripe-emulator] ignoring unreadable state file ${file}: ${String(err)}\n`);
  }
}
