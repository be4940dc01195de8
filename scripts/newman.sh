#!/usr/bin/env bash
# newman, the Postman collection runner, at a pinned version: installs it into the
# git-ignored scripts/.newman/ the first time (npm, once), then runs it with your arguments.
#   bash scripts/newman.sh run scripts/minichain.postman_collection.json --folder tour \
#        --env-var node_a=http://127.0.0.1:5005 --env-var node_b=... --env-var node_c=...
#   bash scripts/newman.sh --version
# The install messages go to stderr; everything else is newman's own output and exit status
# (non-zero when an assertion failed). scripts/postman-test.sh runs newman through this.
# Needs: Node.js 16 or later with npm (only for the first run).
set -euo pipefail

NEWMAN_VERSION=6.2.2
NEWMAN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/.newman"
NEWMAN="$NEWMAN_DIR/node_modules/.bin/newman"

if ! [ -x "$NEWMAN" ] || [ "$("$NEWMAN" --version 2>/dev/null)" != "$NEWMAN_VERSION" ]; then
  command -v npm >/dev/null || { echo "newman.sh: npm is needed to install newman (install Node.js 16 or later)" >&2; exit 1; }
  echo "newman.sh: installing newman $NEWMAN_VERSION into $NEWMAN_DIR (once)" >&2
  mkdir -p "$NEWMAN_DIR"
  npm install --prefix "$NEWMAN_DIR" --no-audit --no-fund --loglevel=error --save-exact "newman@$NEWMAN_VERSION" >&2
  [ "$("$NEWMAN" --version)" = "$NEWMAN_VERSION" ] || { echo "newman.sh: newman $NEWMAN_VERSION did not install" >&2; exit 1; }
fi

exec "$NEWMAN" "$@"
