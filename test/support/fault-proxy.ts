// HTTP proxies in front of the REST catalog that act on table commit requests (POST .../namespaces/<ns>/tables/<name>): inject failures (commit-state-unknown tests) or kill floe at exact commit points (crash test).
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does instead of relaying: answer with a status and body, or drop the connection. */
export type Reply = { readonly status: number; readonly body: string } | 'hangup';

export interface CommitRequest {
  readonly table: string;
  readonly body: Buffer;
}

/** For one commit: a reply instead of forwarding it, or a reply after forwarding it (given the catalog's status). */
export interface CommitDecision {
  /** Holds the commit this long before forwarding it (a slow catalog). */
  readonly delayMs?: number;
  /** Holds the commit until this settles, then forwards it (e.g. until the catalog behind the proxy is stopped). */
  readonly hold?: Promise<unknown>;
  readonly before?: Reply;
  readonly after?: (status: number | null) => Reply | undefined;
}

/**
 * Relays every request to the catalog unchanged (with the client's Host header, so SigV4 signatures still
 * verify) and asks `decide` what to do with each table commit.
 */
export class CatalogProxy {
  private readonly server: Server;
  commitsSeen = 0;
  commitsForwarded = 0;

  constructor(
    private readonly target: URL,
    private readonly decide: (commit: CommitRequest) => CommitDecision,
    /**
     * When the catalog cannot be reached: answer 599 with the error (default), or drop the client's connection,
     * so the client sees a network error as if it had talked to the stopped catalog itself.
     */
    private readonly opts: { upstreamError?: 'status-599' | 'hangup' } = {},
  ) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private static send(res: ServerResponse, reply: Reply): void {
    if (reply === 'hangup') res.socket?.destroy();
    else res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const m = req.method === 'POST' ? /\/namespaces\/[^/]+\/tables\/([^/?]+)$/.exec(req.url ?? '') : null;
      let decision: CommitDecision = {};
      if (m !== null) {
        this.commitsSeen++;
        decision = this.decide({ table: decodeURIComponent(m[1] ?? ''), body });
      }
      if (decision.before !== undefined) {
        CatalogProxy.send(res, decision.before);
        return;
      }
      if (decision.delayMs !== undefined) {
        setTimeout(() => this.forward(req, res, body, m !== null, decision), decision.delayMs);
        return;
      }
      if (decision.hold !== undefined) {
        const go = (): void => this.forward(req, res, body, m !== null, decision);
        decision.hold.then(go, go);
        return;
      }
      this.forward(req, res, body, m !== null, decision);
    });
  }

  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer, isCommit: boolean, decision: CommitDecision): void {
    const up = request({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      const out: Buffer[] = [];
      upRes.on('data', (c: Buffer) => out.push(c));
      upRes.on('end', () => {
        if (isCommit) this.commitsForwarded++;
        const after = decision.after?.(upRes.statusCode ?? null);
        if (after !== undefined) CatalogProxy.send(res, after);
        else res.writeHead(upRes.statusCode ?? 500, upRes.headers).end(Buffer.concat(out));
      });
    });
    up.on('error', (e) => {
      if (this.opts.upstreamError === 'hangup') res.socket?.destroy();
      else res.writeHead(599).end(String(e));
    });
    up.end(body);
  }
}

export type Fault =
  /** forward the commit, then answer 502: the commit landed but the client cannot know */
  | 'forward-then-502'
  /** answer 503 without forwarding: the commit did not land */
  | 'drop-503'
  /** forward the commit, then close the socket without answering */
  | 'forward-then-hangup';

const reply = (status: number, type: string): Reply => ({ status, body: JSON.stringify({ error: { message: 'injected', type, code: status } }) });

/** Applies injected faults to the next commit requests, in order. */
export class FaultProxy {
  private readonly faults: Fault[] = [];
  private readonly proxy: CatalogProxy;

  constructor(target: URL) {
    this.proxy = new CatalogProxy(target, () => {
      switch (this.faults.shift()) {
        case 'drop-503':
          return { before: reply(503, 'ServiceUnavailable') };
        case 'forward-then-502':
          return { after: () => reply(502, 'BadGateway') };
        case 'forward-then-hangup':
          return { after: () => 'hangup' };
        default:
          return {};
      }
    });
  }

  get commitsSeen(): number {
    return this.proxy.commitsSeen;
  }

  get commitsForwarded(): number {
    return this.proxy.commitsForwarded;
  }

  start(): Promise<string> {
    return this.proxy.start();
  }

  inject(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  stop(): Promise<void> {
    return this.proxy.stop();
  }
}
