#!/usr/bin/env node
/** floe command line. */
import { parseArgs } from 'node:util';
import { FloeError, describeError } from '../errors.js';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../log.js';
import { runDemo } from './demo.js';
import { runUntilSignal } from './run.js';
import { MAINTAIN_USAGE, runMaintain } from './maintain.js';
import { VERIFY_USAGE, runVerify } from './verify.js';
import { quietNodeVersionNotice } from '../node-warnings.js';

const USAGE = `floe: Debezium change events in Kafka -> Apache Iceberg tables

Usage:
  floe run --config FILE                    stream Debezium topics into Iceberg tables (YAML, or an Iceberg
                                            Kafka Connect sink connector JSON)
  floe check --config FILE                  validate a config and print it (secrets masked)
  floe verify --config FILE [--table NS.TABLE ...] [--key COL,...] [--json]
                                            check that every table (or the ones named) has one live row
                                            per key; exit 0 yes, 1 duplicate keys, 2 a table could not be
                                            read or bad usage (floe verify --help: what it prints, memory)
  floe maintain --config FILE [--table NS.TABLE ...] [--dry-run] [--json] [--budget-ms N]
                                            compact data and delete files, rewrite manifests, expire
                                            snapshots, remove orphan files, once; exit 0 done, 1 a step
                                            failed, 2 a table could not be read or bad usage
                                            (floe maintain --help: the steps and their settings)
  floe demo [--warehouse DIR] [--events N] [--verbose]
                                            stream a generated Debezium change stream through an embedded
                                            Kafka into Iceberg tables in a local warehouse (no services)
  floe version
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'demo': {
      const { values } = parseArgs({ args: rest, options: { warehouse: { type: 'string', default: './warehouse' }, events: { type: 'string', default: '20000' }, verbose: { type: 'boolean', default: false } } });
      const steps = Number(values.events);
      if (!Number.isInteger(steps) || steps < 100 || steps > 5_000_000) throw new FloeError('config_invalid', `--events must be an integer in 100..5000000, got "${values.events}"`, { field: 'events' });
      const { ok } = await runDemo({ warehouseDir: values.warehouse, steps, verbose: values.verbose, out: (l) => process.stdout.write(`${l}\n`) });
      return ok ? 0 : 1;
    }
    case 'run':
    case 'check': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' } } });
      if (values.config === undefined) throw new FloeError('config_invalid', `floe ${command} needs --config FILE`, { field: '--config' });
      const log = createLogger();
      const cfg = await loadConfig(values.config, process.env, (msg, fields) => log.warn(msg, fields));
      if (command === 'check') {
        process.stdout.write(`${JSON.stringify(cfg, (k, v: unknown) => (/secret|password|token|credential/i.test(k) && typeof v === 'string' ? '***' : v), 2)}\n`);
        return 0;
      }
      await runUntilSignal(cfg, log);
      return 0;
    }
    case 'verify':
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(VERIFY_USAGE);
        return 0;
      }
      return runVerify(rest);
    case 'maintain':
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(MAINTAIN_USAGE);
        return 0;
      }
      return runMaintain(rest);
    case 'version':
      process.stdout.write('floe 0.1.0\n');
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

quietNodeVersionNotice();

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const code = e instanceof FloeError ? ` [${e.code}]` : '';
    process.stderr.write(`floe: error${code}: ${describeError(e)}\n`);
    process.exitCode = 1;
  },
);
