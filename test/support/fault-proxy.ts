// An HTTP proxy in front of the REST catalog that injects failures into commit requests (POST .../tables/<name>), for commit-state-unknown tests.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** forward the commit, then answer 502: the commit landed but the client cannot know */
  | 'forward-then-502'
  /** answer 503 without forwarding: the commit did not land */
  | 'drop-503'
  /** forward the commit, then close the socket without answering */
  | 'forward-then-hangup';

export class FaultProxy {
  private server: Server;
  private faults: Fault[] = [];
  commitsSeen = 0;
  commitsForwarded = 0;

  constructor(private readonly target: URL) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Faults applied to the next commit requests, in order. */
  inject(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const isCommit = req.method === 'POST' && /\/namespaces\/[^/]+\/tables\/[^/]+$/.test(req.url ?? '');
      const fault = isCommit ? this.faults.shift() : undefined;
      if (isCommit) this.commitsSeen++;
      if (fault === 'drop-503') {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"injected","type":"ServiceUnavailable","code":503}}');
        return;
      }
      // Forward with the client's Host header unchanged, so SigV4 signatures still verify.
      const up = request(
        { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          const out: Buffer[] = [];
          upRes.on('data', (c: Buffer) => out.push(c));
          upRes.on('end', () => {
            if (isCommit) this.commitsForwarded++;
            if (fault === 'forward-then-502') {
              res.writeHead(502, { 'content-type': 'application/json' }).end('{"error":{"message":"injected","type":"BadGateway","code":502}}');
            } else if (fault === 'forward-then-hangup') {
              res.socket?.destroy();
            } else {
              res.writeHead(upRes.statusCode ?? 500, upRes.headers).end(Buffer.concat(out));
            }
          });
        },
      );
      up.on('error', (e) => res.writeHead(599).end(String(e)));
      up.end(body);
    });
  }
}
