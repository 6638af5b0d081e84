/**
 * The HTTP endpoints Kubernetes and Prometheus use:
 *   GET /metrics  Prometheus text format (the registry of metrics.ts)
 *   GET /healthz  liveness: 200 while the main loop turns (a loop stalled past `stallMs` answers 503 and the kubelet
 *                 restarts the pod; uncommitted changes are consumed again, nothing is lost)
 *   GET /readyz   readiness: 200 once the member has joined its group and restored its offsets from the tables
 * Bound to `host:port` (port 0: an ephemeral port, reported by `port()`).
 */
import { createServer, type Server } from 'node:http';
import { FloeError } from '../errors.js';
import type { Metrics } from './metrics.js';

export interface Probe {
  /** Milliseconds since the main loop last turned. */
  loopAgeMs(): number;
  isReady(): boolean;
  /** Refreshes gauges that are read from live state (lag, paused partitions) just before a scrape. */
  refreshGauges(): void;
}

export interface MetricsServerConfig {
  readonly host: string;
  readonly port: number;
  /** The loop may be busy this long (a large commit) before liveness fails. */
  readonly stallMs: number;
}

export class MetricsServer {
  private server: Server | null = null;

  constructor(
    private readonly metrics: Metrics,
    private readonly probe: Probe,
    private readonly cfg: MetricsServerConfig,
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics') {
        this.probe.refreshGauges();
        this.metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
          (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${e instanceof Error ? e.message : String(e)}\n`),
        );
        return;
      }
      if (path === '/healthz') {
        const age = this.probe.loopAgeMs();
        const ok = age <= this.cfg.stallMs;
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : `main loop stalled for ${age} ms\n`);
        return;
      }
      if (path === '/readyz') {
        const ok = this.probe.isReady();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'joining the group / restoring offsets\n');
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /metrics, /healthz, /readyz\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(new FloeError('config_invalid', `metrics.port: cannot listen on ${this.cfg.host}:${this.cfg.port}: ${e.message}`, { field: 'metrics.port' }, e)));
      server.listen(this.cfg.port, this.cfg.host, () => resolve());
    });
    this.server = server;
  }

  port(): number {
    const a = this.server?.address();
    return a !== null && a !== undefined && typeof a === 'object' ? a.port : 0;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s === null) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
