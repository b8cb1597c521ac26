import 'reflect-metadata';
import {
  Controller,
  Get,
  HttpCode,
  Inject,
  Module,
  Post,
  Req,
  Res,
  type RawBodyRequest,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { BillingGuard, type BillingGuardOptions, type Decision } from '@billing/guard';
import { billingEvents, entitlements } from '@billing/guard/express';
import { billingEventsPlugin, entitlementsHook } from '@billing/guard/fastify';
import { AllowWhenReadOnly, BILLING_GUARD, BillingGuardModule, RequiresFeature } from '@billing/guard/nest';
import express from 'express';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StripeWorld } from '../support/stripe-world.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { http, tokenFor } from '../support/test-app.js';

/**
 * Three small products of an integrator, each with the guard package installed as its README says: a
 * Nest app (the guard and decorators), an Express app (the middleware) and a Fastify app (the hook). All
 * act for the account named in `x-account-id` (a real product takes it from its session), expose the
 * guard's decision in `x-billing-decision`, and have the same routes: GET /projects (a read), POST /projects (a change), POST /exports (a change allowed when read-only),
 * GET /sso (needs the `sso` feature) and POST /billing/events (the entitlements.updated receiver).
 */
export interface SampleApp {
  url: string;
  billing: BillingGuard;
  close(): Promise<void>;
}

const accountIdOf = (req: { headers: Record<string, string | string[] | undefined> }): string | null => {
  const id = req.headers['x-account-id'];
  return typeof id === 'string' ? id : null;
};

const reasonOf = (decision: Decision | undefined): string =>
  decision?.allowed ? decision.reason : 'refused';

export async function startNestSample(options: BillingGuardOptions, port = 0): Promise<SampleApp> {
  type GuardedRequest = FastifyRequest & { billingDecision?: Decision };

  @Controller()
  class ProjectsController {
    @Get('projects')
    list(
      @Req() req: GuardedRequest,
      @Res({ passthrough: true }) reply: FastifyReply,
    ): { projects: string[] } {
      void reply.header('x-billing-decision', reasonOf(req.billingDecision));
      return { projects: ['apollo'] };
    }

    @Post('projects')
    create(
      @Req() req: GuardedRequest,
      @Res({ passthrough: true }) reply: FastifyReply,
    ): { created: boolean } {
      void reply.header('x-billing-decision', reasonOf(req.billingDecision));
      return { created: true };
    }

    @Post('exports')
    @AllowWhenReadOnly()
    export(): { exported: boolean } {
      return { exported: true };
    }

    @Get('sso')
    @RequiresFeature('sso')
    sso(): { sso: boolean } {
      return { sso: true };
    }
  }

  @Controller('billing')
  class BillingEventsController {
    constructor(@Inject(BILLING_GUARD) private readonly billing: BillingGuard) {}

    @Post('events')
    @HttpCode(200)
    receive(
      @Req() req: RawBodyRequest<FastifyRequest>,
      @Res({ passthrough: true }) reply: FastifyReply,
    ): unknown {
      const outcome = this.billing.handleEvent(req.rawBody ?? '', req.headers['x-billing-signature']);
      void reply.status(outcome.status);
      return outcome.body;
    }
  }

  @Module({
    imports: [BillingGuardModule.forRoot({ ...options, accountIdOf })],
    controllers: [ProjectsController, BillingEventsController],
  })
  class SampleModule {}

  const app = await NestFactory.create<NestFastifyApplication>(SampleModule, new FastifyAdapter(), {
    rawBody: true,
    logger: false,
  });
  await app.listen(port, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { url, billing: app.get<BillingGuard>(BILLING_GUARD), close: () => app.close() };
}

export async function startExpressSample(options: BillingGuardOptions, port = 0): Promise<SampleApp> {
  const billing = new BillingGuard(options);
  const app = express();
  // The receiver first, with the raw body its signature covers.
  app.post('/billing/events', express.raw({ type: 'application/json' }), billingEvents(billing));
  app.use(express.json());
  app.use(
    entitlements(billing, {
      accountIdOf,
      allowWhenReadOnly: (req: express.Request) => req.path === '/exports',
    }),
  );
  const decision = (req: express.Request, res: express.Response): void => {
    res.setHeader('x-billing-decision', reasonOf((req as { billingDecision?: Decision }).billingDecision));
  };
  app.get('/projects', (req, res) => {
    decision(req, res);
    res.json({ projects: ['apollo'] });
  });
  app.post('/projects', (req, res) => {
    decision(req, res);
    res.status(201).json({ created: true });
  });
  app.post('/exports', (_req, res) => {
    res.status(201).json({ exported: true });
  });
  app.get('/sso', entitlements(billing, { accountIdOf, features: ['sso'] }), (_req, res) => {
    res.json({ sso: true });
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    billing,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function startFastifySample(options: BillingGuardOptions, port = 0): Promise<SampleApp> {
  const billing = new BillingGuard(options);
  const app = Fastify();
  await app.register(billingEventsPlugin(billing, '/billing/events'));
  app.addHook('preHandler', entitlementsHook(billing, { accountIdOf }));
  type GuardedRequest = FastifyRequest & { billingDecision?: Decision };
  app.get('/projects', async (req: GuardedRequest, reply) =>
    reply.header('x-billing-decision', reasonOf(req.billingDecision)).send({ projects: ['apollo'] }),
  );
  app.post('/projects', async (req: GuardedRequest, reply) =>
    reply.code(201).header('x-billing-decision', reasonOf(req.billingDecision)).send({ created: true }),
  );
  app.post('/exports', { config: { billing: { allowWhenReadOnly: true } } }, async (_req, reply) =>
    reply.code(201).send({ exported: true }),
  );
  app.get('/sso', { config: { billing: { features: ['sso'] } } }, async () => ({ sso: true }));
  await app.listen({ port, host: '127.0.0.1' });
  const address = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${address.port}`, billing, close: () => app.close() };
}

/** A sample app as the running service sees it: its events endpoint, reached through a stoppable proxy. */
export interface GuardedSample {
  name: 'nest' | 'express' | 'fastify';
  app: SampleApp;
  /** What the service delivers events to: stopped, the sample looks down to the service. */
  front: TcpProxy;
  endpoint: { id: string; secret: string };
  /** Deletes the endpoint, stops the sample and its proxy. */
  close(): Promise<void>;
}

const STARTERS = { nest: startNestSample, express: startExpressSample, fastify: startFastifySample };

/**
 * Starts the `name` sample against the service at `serviceUrl` (the app of `w`, or a proxy before it),
 * registered as an integration endpoint so the signed `entitlements.updated` events reach it. The app
 * must allow private targets (INTEGRATIONS_ALLOW_PRIVATE_TARGETS) and bill the account (rollout).
 */
export async function startGuardedSample(
  w: StripeWorld,
  name: GuardedSample['name'],
  serviceUrl: string = w.t.url,
): Promise<GuardedSample> {
  const front = new TcpProxy('127.0.0.1', 0);
  const port = await front.start(0);
  const created = await http<{ id: string; secret: string }>(
    w.t.url,
    'POST',
    '/v1/admin/integration-endpoints',
    {
      token: w.admin,
      body: { url: `http://127.0.0.1:${port}/billing/events`, description: name },
    },
  );
  if (created.status !== 201) throw new Error(`endpoint creation answered ${created.status}`);
  const app = await STARTERS[name]({
    baseUrl: serviceUrl,
    token: await tokenFor({ sub: 'guard-service', role: 'support' }),
    webhookSecret: created.body.secret,
    // Ten minutes: within a test, only an invalidation can make a sample see a new verdict.
    ttlMs: 600_000,
    // Generous: a slow answer on this shared box must not turn into a fail-open grant here.
    timeoutMs: 5_000,
    failOpenTtlMs: 50,
  });
  front.forwardTo('127.0.0.1', Number(new URL(app.url).port));
  return {
    name,
    app,
    front,
    endpoint: created.body,
    close: async () => {
      await http(w.t.url, 'DELETE', `/v1/admin/integration-endpoints/${created.body.id}`, { token: w.admin });
      await app.close();
      await front.stop();
    },
  };
}
