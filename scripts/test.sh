#!/usr/bin/env bash
# The test command: every Rust test, then the clients against real nodes (the README's
# commands in order, the Postman collection through a pinned newman, the OpenAPI check,
# schemathesis fuzzing against the OpenAPI document), then the batch demos, then the
# explorer page in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test"
cargo test

echo "== README.md followed literally, command by command"
bash scripts/readme-test.sh

echo "== Postman collection and OpenAPI document against real nodes"
bash scripts/postman-test.sh

echo "== schemathesis: a fresh node fuzzed against scripts/openapi.yaml"
bash scripts/schemathesis-test.sh

for demo in demo-network demo-fork demo-tamper; do
    echo "== scripts/$demo.sh"
    bash "scripts/$demo.sh"
done
echo "== scripts/browser-test.sh (the explorer page in headless Chromium)"
bash scripts/browser-test.sh
echo "== all tests passed"
