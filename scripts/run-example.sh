#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running example gateway: installs what is
# missing, builds mgw, builds the example project and runs it in the foreground (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec build/bin/mgw run examples/petstore "$@"
