#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running example gateway: installs what is
# missing, builds mgw, builds the example project and runs it in the foreground (Ctrl-C stops it,
# draining in-flight requests). Extra arguments are gateway overrides, e.g. --server.http_port=9590.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
port=9090
for arg in "$@"; do
  case "$arg" in --server.http_port=*) port="${arg#*=}" ;; esac
done
token=$(build/bin/mgw token --key examples/petstore/dev-keys/example-issuer.key \
  --scope "read:pets write:pets" --app demo-app:50PerMin --api "Swagger Petstore:1.0.0:Gold")
cat <<TXT

Example gateway (examples/petstore). With a token minted by \`mgw token\`:
  curl -i -H "Authorization: Bearer $token" http://localhost:$port/petstore/v1/pets/1
Basic auth (admin/admin) and an API key work too:
  curl -i -u admin:admin -X DELETE http://localhost:$port/petstore/v1/pets/1
  curl -i -H "X-API-Key: demo-key-123" http://localhost:$port/inventory/v2/items/A-1.json

TXT
exec build/bin/mgw run examples/petstore "$@"
