import http from 'node:http';

export interface RecordedRequest {
  method: string;
  /** The path with its query string, as sent. */
  path: string;
  /** The decoded query parameters (`payment[payment_intent]` and the like, by their full names). */
  query: URLSearchParams;
}

/**
 * A loopback HTTP proxy in front of the Stripe emulator's API: the app is pointed at it
 * (STRIPE_API_BASE), so a test sees every Stripe request the app makes, and can have some of them
 * answered with a Stripe 5xx, as an outage would, without touching the emulator the test itself uses.
 */
export class RecordingProxy {
  readonly requests: RecordedRequest[] = [];
  /** Requests for which this returns true are answered 500 `api_error` instead of being forwarded. */
  failWhen: ((request: RecordedRequest) => boolean) | null = null;
  private target: URL | null = null;
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  /** Starts on a free loopback port; returns the base URL to give the app. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('the proxy has no port');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Forwards the requests received from now on to this base URL (the emulator's). */
  forwardTo(base: string): void {
    this.target = new URL(base);
  }

  /** The recorded requests whose path starts with `prefix` (e.g. `/v1/invoice_payments`). */
  to(prefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(prefix));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = req.url ?? '/';
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      query: new URL(path, 'http://proxy.invalid').searchParams,
    };
    this.requests.push(recorded);
    const target = this.target;
    if (!target || this.failWhen?.(recorded)) {
      req.resume();
      // `stripe-should-retry: false`: the SDK gives up at once instead of retrying with its backoff.
      res.writeHead(target ? 500 : 503, {
        'content-type': 'application/json',
        'stripe-should-retry': 'false',
      });
      res.end(JSON.stringify({ error: { type: 'api_error', message: 'An error occurred (test proxy).' } }));
      return;
    }
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  }
}
