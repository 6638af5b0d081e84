// A test's own SeaweedFS (S3 + Iceberg REST catalog) and Kafka broker, started, stopped and restarted through the harness scripts (test/harness/seaweed.sh, kafka.sh) in a private FLOE_HARNESS_DIR on free ports: outage and chaos tests stop and start services, which they must never do to the shared ones other tests run against.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** test/harness/, from this file's compiled location (dist/test/support/). */
const harnessDir = fileURLToPath(new URL('../../../test/harness/', import.meta.url));

/** Whether something can listen on 127.0.0.1:port right now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

const taken = new Set<number>();

/**
 * `count` ports that are free on 127.0.0.1, each together with `port + offset` when `offset` is given (SeaweedFS
 * serves gRPC on its HTTP port + 10000). Drawn at random from 11000-21999 (with the offset below 32768, Linux's
 * first ephemeral port, so an outgoing connection cannot hold one by chance), never twice in one process.
 */
export async function freePorts(count: number, offset = 0): Promise<number[]> {
  const out: number[] = [];
  for (let tries = 0; out.length < count; tries++) {
    if (tries > 2000) throw new Error(`no ${count} free ports found`);
    const p = 11000 + Math.floor(Math.random() * 11000);
    const all = offset > 0 ? [p, p + offset] : [p];
    if (all.some((x) => taken.has(x))) continue;
    if (!(await Promise.all(all.map(bindable))).every(Boolean)) continue;
    for (const x of all) taken.add(x);
    out.push(p);
  }
  return out;
}

/** `export K='V'` lines (what the scripts' `env` command prints) as a record. */
function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^export ([A-Z0-9_]+)='([^']*)'$/gm)) out[m[1] as string] = m[2] as string;
  return out;
}

/** One harness service script run with the service's own environment; resolves with its wall time in ms. */
abstract class ScriptService {
  /** FLOE_HARNESS_DIR and the port variables the script reads. */
  protected abstract readonly scriptEnv: Record<string, string>;
  protected abstract readonly script: string;

  constructor(readonly dir: string) {}

  protected async run(cmd: string, timeoutMs: number): Promise<{ ms: number; stdout: string }> {
    const t0 = Date.now();
    try {
      const { stdout } = await exec('bash', [join(harnessDir, this.script), cmd], { env: { ...process.env, ...this.scriptEnv }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
      return { ms: Date.now() - t0, stdout };
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`${this.script} ${cmd} failed: ${(err.stderr ?? '').split('\n').slice(-20).join('\n') || err.message}`);
    }
  }

  /** Starts the service (waits until it is ready, bounded by the script); data kept in `dir` survive stop/start. */
  async start(): Promise<number> {
    return (await this.run('start', 120_000)).ms;
  }

  /** Stops it by the PID in its pidfile (TERM, then KILL after the script's grace time). */
  async stop(): Promise<number> {
    return (await this.run('stop', 60_000)).ms;
  }

  /** Stops it if running and deletes its whole harness directory. */
  async remove(): Promise<void> {
    try {
      await this.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** A private `weed mini` (S3 API + Iceberg REST catalog); `clientEnv` is what `seaweed.sh env` prints for it. */
export class OwnSeaweed extends ScriptService {
  protected readonly script = 'seaweed.sh';
  protected readonly scriptEnv: Record<string, string>;
  clientEnv: Record<string, string> = {};

  private constructor(dir: string, ports: readonly number[]) {
    super(dir);
    const [s3, rest, master, volume, filer, admin] = ports.map(String) as [string, string, string, string, string, string];
    this.scriptEnv = {
      FLOE_HARNESS_DIR: dir, FLOE_S3_PORT: s3, FLOE_REST_PORT: rest, FLOE_SEAWEED_MASTER_PORT: master,
      FLOE_SEAWEED_VOLUME_PORT: volume, FLOE_SEAWEED_FILER_PORT: filer, FLOE_SEAWEED_ADMIN_PORT: admin,
    };
  }

  /** A new instance in `<tmpdir>/floe-harness-<name>` on free ports (each with its gRPC port, +10000); not started. */
  static async create(name: string): Promise<OwnSeaweed> {
    const dir = join(tmpdir(), `floe-harness-${name}`);
    rmSync(dir, { recursive: true, force: true });
    const s = new OwnSeaweed(dir, await freePorts(6, 10_000));
    s.clientEnv = parseExports((await s.run('env', 30_000)).stdout);
    return s;
  }

  get restUri(): string {
    return this.clientEnv.FLOE_REST_URI as string;
  }

  get s3Endpoint(): string {
    return this.clientEnv.FLOE_S3_ENDPOINT as string;
  }
}

/** A private single-node Kafka (KRaft) broker; `bootstrap` is its PLAINTEXT listener. */
export class OwnKafka extends ScriptService {
  protected readonly script = 'kafka.sh';
  protected readonly scriptEnv: Record<string, string>;
  readonly bootstrap: string;

  private constructor(dir: string, ports: readonly number[]) {
    super(dir);
    const [port, controller, sasl] = ports.map(String) as [string, string, string];
    this.scriptEnv = { FLOE_HARNESS_DIR: dir, FLOE_KAFKA_PORT: port, FLOE_KAFKA_CONTROLLER_PORT: controller, FLOE_KAFKA_SASL_PORT: sasl };
    this.bootstrap = `127.0.0.1:${port}`;
  }

  /** A new broker in `<tmpdir>/floe-harness-<name>` on free ports; not started (the first start formats its storage). */
  static async create(name: string): Promise<OwnKafka> {
    const dir = join(tmpdir(), `floe-harness-${name}`);
    rmSync(dir, { recursive: true, force: true });
    return new OwnKafka(dir, await freePorts(3));
  }
}
