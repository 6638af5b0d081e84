#!/usr/bin/env node
/** floe command line. */
import { parseArgs } from 'node:util';
import { FloeError, describeError } from '../errors.js';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../log.js';
import { runDemo } from './demo.js';
import { runUntilSignal } from './run.js';

const USAGE = `floe: Debezium change events in Kafka -> Apache Iceberg tables

Usage:
  floe run --config FILE                    stream Debezium topics into Iceberg tables (YAML, or an Iceberg
                                            Kafka Connect sink connector JSON)
  floe check --config FILE                  validate a config and print it (secrets masked)
  floe demo [--warehouse DIR] [--rows N]   write and read a demo table in an embedded catalog (no services)
  floe version
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'demo': {
      const { values } = parseArgs({ args: rest, options: { warehouse: { type: 'string', default: './warehouse' }, rows: { type: 'string', default: '10000' } } });
      const rows = Number(values.rows);
      if (!Number.isInteger(rows) || rows < 1 || rows > 10_000_000) throw new FloeError('config_invalid', `--rows must be an integer in 1..10000000, got "${values.rows}"`, { field: 'rows' });
      await runDemo({ warehouseDir: values.warehouse, rows, out: (l) => process.stdout.write(`${l}\n`) });
      return 0;
    }
    case 'run':
    case 'check': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' } } });
      if (values.config === undefined) throw new FloeError('config_invalid', `floe ${command} needs --config FILE`, { field: '--config' });
      const cfg = await loadConfig(values.config);
      if (command === 'check') {
        process.stdout.write(`${JSON.stringify(cfg, (k, v: unknown) => (/secret|password|token|credential/i.test(k) && typeof v === 'string' ? '***' : v), 2)}\n`);
        return 0;
      }
      await runUntilSignal(cfg, createLogger());
      return 0;
    }
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
