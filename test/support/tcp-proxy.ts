import net from 'node:net';

/**
 * A loopback TCP proxy in front of a real service (PostgreSQL, Redis) so that a test can take the
 * service away from one app instance, and give it back, without touching the shared server.
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  /**
   * `targetPort` 0: no target yet (see {@link forwardTo}); a connection that arrives before one is set
   * is closed, as if nothing listened.
   */
  constructor(
    private targetHost: string,
    private targetPort: number,
  ) {}

  /**
   * Forwards the connections accepted from now on to another service. A test that must hand out a URL
   * before its app listens starts the proxy on a port of its own first (`start(0)`, a port that is then
   * held, unlike a free port looked up and closed again, which another connection's ephemeral port can
   * take in between) and points it at the app once the app listens.
   */
  forwardTo(host: string, port: number): void {
    this.targetHost = host;
    this.targetPort = port;
  }

  async start(port = this.port): Promise<number> {
    const server = net.createServer((client) => {
      if (this.targetPort === 0) {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Cuts every connection and stops accepting new ones: the service looks down. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
