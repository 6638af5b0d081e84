/**
 * The AWS SDK warns once per thread that its 2027 releases will need Node 22; floe pins its SDK version, so
 * the notice is noise on every start (and in every worker thread). Other warnings still print.
 */
export function quietNodeVersionNotice(): void {
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (!w.message.includes('NodeVersionSupportWarning')) process.stderr.write(`${w.name}: ${w.message}\n`);
  });
}
