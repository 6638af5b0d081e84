// FileIOs for the chaos suite: a fault-injecting wrapper (S3 503 SlowDown and timeouts before or after a write landed, crashes before and after) and an in-memory FileIO.
import { FloeError } from '../../../src/errors.js';
import type { FileIO, FileInfo } from '../../../src/io/file-io.js';
import { Crash, transientError, type Chaos, type Fault, type Life } from './chaos.js';

/** Objects in a Map: what an object store holds, without the filesystem. */
export class MemoryFileIO implements FileIO {
  readonly objects = new Map<string, Uint8Array>();
  /** When each object was last written (ms since the epoch); tests may set it to age an object. */
  readonly modifiedMs = new Map<string, number>();
  async read(path: string): Promise<Uint8Array> {
    const b = this.objects.get(path);
    if (b === undefined) throw new FloeError('io_not_found', `read ${path}: file not found`, { path });
    return b;
  }
  async write(path: string, bytes: Uint8Array): Promise<void> {
    this.objects.set(path, new Uint8Array(bytes));
    this.modifiedMs.set(path, Date.now());
  }
  async exists(path: string): Promise<boolean> {
    return this.objects.has(path);
  }
  async delete(path: string): Promise<void> {
    this.objects.delete(path);
    this.modifiedMs.delete(path);
  }
  async *list(prefix: string): AsyncIterable<FileInfo> {
    for (const [path, bytes] of [...this.objects]) {
      if (path.startsWith(prefix)) yield { path, sizeBytes: bytes.length, lastModifiedMs: this.modifiedMs.get(path) ?? 0 };
    }
  }
}

const READ_FAULTS: readonly Fault[] = ['crash', 'transient'];
const WRITE_FAULTS: readonly Fault[] = ['crash', 'crash-after', 'transient', 'transient-after'];

/** The FileIO of one pipeline incarnation: every call passes the chaos hook first. */
export class FaultyFileIO implements FileIO {
  constructor(
    private readonly inner: FileIO,
    private readonly chaos: Chaos,
    private readonly life: Life,
    /** Whose calls these are, in hook names (`io` for the committer's, `wio` for the workers'). */
    private readonly who = 'io',
  ) {}

  private async call<T>(op: string, path: string, kinds: readonly Fault[], fn: () => Promise<T>): Promise<T> {
    const hook = `${this.who}.${op}`;
    const f = this.chaos.at(hook, kinds, this.life);
    if (f === 'crash') throw this.chaos.kill(`${hook} ${tail(path)}`, this.life);
    if (f === 'transient') throw transientError(this.chaos.draw(`code:${hook}:${this.chaos.calls(hook)}`) < 0.5 ? 'io_throttled' : 'io_failed', `${op} ${tail(path)}`);
    const out = await this.life.track(fn());
    if (f === 'crash-after') throw this.chaos.kill(`after ${hook} ${tail(path)}`, this.life);
    if (f === 'transient-after') throw transientError('io_failed', `${op} ${tail(path)} (landed, answer lost)`);
    if (this.life.dead) throw new Crash(`${hook} returned to a dead process`);
    return out;
  }

  read(path: string): Promise<Uint8Array> {
    return this.call('read', path, READ_FAULTS, () => this.inner.read(path));
  }
  write(path: string, bytes: Uint8Array): Promise<void> {
    return this.call('write', path, WRITE_FAULTS, () => this.inner.write(path, bytes));
  }
  exists(path: string): Promise<boolean> {
    return this.call('exists', path, READ_FAULTS, () => this.inner.exists(path));
  }
  delete(path: string): Promise<void> {
    return this.call('delete', path, WRITE_FAULTS, () => this.inner.delete(path));
  }
  /** Not a fault point: the data path never lists. */
  list(prefix: string): AsyncIterable<FileInfo> {
    return this.inner.list(prefix);
  }
}

/** The last two segments of a path (traces stay readable). */
export function tail(path: string): string {
  return path.split('/').slice(-2).join('/');
}

/** Where in-memory warehouses live: `file:///chaos-mem/<n>/...` (no such directory exists on disk). */
export const MEMORY_ROOT = 'file:///chaos-mem/';
const memoryStores = new Map<string, MemoryFileIO>();
let memoryStoreNext = 0;

/** A new in-memory warehouse: its root URI, and a release that forgets its files. */
export function memoryWarehouse(store: MemoryFileIO): { root: string; release: () => void } {
  const root = `${MEMORY_ROOT}${memoryStoreNext++}`;
  memoryStores.set(root, store);
  return { root, release: () => memoryStores.delete(root) };
}
