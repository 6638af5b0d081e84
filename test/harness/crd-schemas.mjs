// Writes kubeconform JSON schemas from CustomResourceDefinition YAML files:
//   node crd-schemas.mjs OUT_DIR CRD.yaml...  ->  OUT_DIR/<group>/<kind lowercase>_<version>.json
// (kubeconform's -schema-location template {{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const [out, ...files] = process.argv.slice(2);
if (out === undefined || files.length === 0) {
  process.stderr.write('usage: node crd-schemas.mjs OUT_DIR CRD.yaml...\n');
  process.exit(2);
}
let n = 0;
for (const f of files) {
  for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) {
    const crd = doc.toJS();
    if (crd?.kind !== 'CustomResourceDefinition') continue;
    const { group, names, versions } = crd.spec;
    for (const v of versions) {
      const schema = v.schema?.openAPIV3Schema;
      if (schema === undefined) continue;
      mkdirSync(join(out, group), { recursive: true });
      writeFileSync(join(out, group, `${names.kind.toLowerCase()}_${v.name}.json`), JSON.stringify(schema));
      n++;
    }
  }
}
process.stdout.write(`[crd-schemas] ${n} schemas in ${out}\n`);
