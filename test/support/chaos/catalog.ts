// A fault-injecting Catalog around the real one (the embedded SqlCatalog): catalog_unreachable / catalog_server_error on loads and creates, commit_state_unknown before and after a commit was applied, conflict storms (another writer commits first), crashes before and after any call; tables it returns read and write through the incarnation's faulty FileIO.
import type { Catalog, CreateTableOptions, LoadedTable, TableIdentifier } from '../../../src/catalog/catalog.js';
import { identifierToString } from '../../../src/catalog/catalog.js';
import { FloeError } from '../../../src/errors.js';
import type { TableRequirement, TableUpdate } from '../../../src/iceberg/table-metadata.js';
import type { FileIO } from '../../../src/io/file-io.js';
import { Crash, transientError, type Chaos, type Fault, type Life } from './chaos.js';
import type { OtherCommit, OtherWriter } from './other-writer.js';

const READ_FAULTS: readonly Fault[] = ['crash', 'crash-after', 'transient'];
const CREATE_FAULTS: readonly Fault[] = ['crash', 'crash-after', 'transient', 'transient-after'];
const COMMIT_FAULTS: readonly Fault[] = ['crash', 'crash-after', 'unknown-before', 'unknown-after', 'conflict', 'late'];
const OTHER_COMMITS: readonly OtherCommit[] = ['compact', 'compact', 'append', 'properties'];

export class FaultyCatalog implements Catalog {
  readonly name: string;

  constructor(
    private readonly inner: Catalog,
    private readonly chaos: Chaos,
    private readonly life: Life,
    private readonly io: FileIO,
    private readonly other: OtherWriter,
  ) {
    this.name = inner.name;
  }

  private withIO(t: LoadedTable): LoadedTable {
    return { ...t, io: this.io };
  }

  private async call<T>(hook: string, what: string, kinds: readonly Fault[], fn: () => Promise<T>): Promise<T> {
    const f = this.chaos.at(`catalog.${hook}`, kinds, this.life);
    if (f === 'crash') throw this.chaos.kill(`catalog.${hook} ${what}`, this.life);
    if (f === 'transient') throw transientError(this.chaos.draw(`code:${hook}:${this.chaos.calls(`catalog.${hook}`)}`) < 0.5 ? 'catalog_unreachable' : 'catalog_server_error', `${hook} ${what}`);
    const out = await this.life.track(fn());
    if (f === 'crash-after') throw this.chaos.kill(`after catalog.${hook} ${what}`, this.life);
    if (f === 'transient-after') throw transientError('catalog_server_error', `${hook} ${what} (applied, answer lost)`);
    if (this.life.dead) throw new Crash(`catalog.${hook} returned to a dead process`);
    return out;
  }

  createNamespace(namespace: readonly string[], properties?: Readonly<Record<string, string>>): Promise<void> {
    return this.call('createNamespace', namespace.join('.'), CREATE_FAULTS, () => this.inner.createNamespace(namespace, properties));
  }

  namespaceExists(namespace: readonly string[]): Promise<boolean> {
    return this.call('namespaceExists', namespace.join('.'), READ_FAULTS, () => this.inner.namespaceExists(namespace));
  }

  async createTable(id: TableIdentifier, opts: CreateTableOptions): Promise<LoadedTable> {
    return this.withIO(await this.call('createTable', identifierToString(id), CREATE_FAULTS, () => this.inner.createTable(id, opts)));
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable> {
    return this.withIO(await this.call('loadTable', identifierToString(id), READ_FAULTS, () => this.inner.loadTable(id)));
  }

  tableExists(id: TableIdentifier): Promise<boolean> {
    return this.call('tableExists', identifierToString(id), READ_FAULTS, () => this.inner.tableExists(id));
  }

  listNamespaces(parent?: readonly string[]): Promise<string[][]> {
    return this.call('listNamespaces', '', READ_FAULTS, () => this.inner.listNamespaces(parent));
  }

  listTables(namespace: readonly string[]): Promise<TableIdentifier[]> {
    return this.call('listTables', namespace.join('.'), READ_FAULTS, () => this.inner.listTables(namespace));
  }

  async commitTable(table: LoadedTable, requirements: readonly TableRequirement[], updates: readonly TableUpdate[]): Promise<LoadedTable> {
    const name = identifierToString(table.identifier);
    const f = this.chaos.at('catalog.commitTable', COMMIT_FAULTS, this.life);
    if (f === 'crash') throw this.chaos.kill(`catalog.commitTable ${name} (not sent)`, this.life);
    if (f === 'late') {
      // SIGKILL with the request on the wire: the catalog applies it later, while the next incarnation runs.
      this.chaos.sendLate(`${name} of life ${this.life.n}`, async () => {
        await this.inner.commitTable(table, requirements, updates);
      });
      throw this.chaos.kill(`catalog.commitTable ${name} (sent, lands later)`, this.life);
    }
    if (f === 'unknown-before') throw new FloeError('commit_state_unknown', `chaos: commit to ${name}: 503 before it was applied`, { chaos: true });
    if (f === 'conflict' || (this.chaos.stormLeft === 0 && this.chaos.storm('catalog.commitTable'))) this.chaos.stormLeft = this.chaos.plan.stormLength;
    if (this.chaos.stormLeft > 0) {
      // A storm: another writer's commit lands between floe's load and its commit (floe sees a 409).
      this.chaos.stormLeft--;
      const kind = OTHER_COMMITS[Math.floor(this.chaos.draw(`other:${name}:${this.chaos.stormLeft}:${this.chaos.counts.faults}`) * OTHER_COMMITS.length)] as OtherCommit;
      this.chaos.note(`other writer: ${kind} on ${name}`);
      await this.life.track(this.other.commit(table.identifier, kind));
    }
    const out = await this.life.track(this.inner.commitTable(table, requirements, updates));
    if (f === 'crash-after') throw this.chaos.kill(`after catalog.commitTable ${name} (applied)`, this.life);
    if (f === 'unknown-after') throw new FloeError('commit_state_unknown', `chaos: commit to ${name}: applied, then 504 Gateway Timeout`, { chaos: true });
    if (this.life.dead) throw new Crash('catalog.commitTable returned to a dead process');
    return this.withIO(out);
  }

  dropTable(id: TableIdentifier, purge?: boolean): Promise<void> {
    return this.call('dropTable', identifierToString(id), [], () => this.inner.dropTable(id, purge));
  }

  async close(): Promise<void> {
    // The catalog outlives the incarnation (it is the server): nothing to close here.
  }
}
