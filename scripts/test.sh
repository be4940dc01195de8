#!/usr/bin/env bash
# The test command: every Rust test, then the clients against real nodes (the README's
# commands in order, the Postman collection through a pinned newman, the OpenAPI check,
# schemathesis fuzzing against the OpenAPI document), then the batch demos, then the
# explorer page in headless Chromium.
#
# Every stage runs even when an earlier one failed (so one failure does not hide the
# others); a table of stage, result and seconds is printed at the end, and the script
# exits non-zero if any stage failed.
set -uo pipefail
cd "$(dirname "$0")/.."

stages=()
results=()
seconds=()
failed=0

# stage NAME COMMAND...: runs one stage, records how it ended and how long it took.
stage() {
    local name="$1"
    shift
    echo "== $name"
    local began=$SECONDS
    if "$@"; then
        results+=("passed")
    else
        results+=("FAILED ($?)")
        failed=1
    fi
    stages+=("$name")
    seconds+=($((SECONDS - began)))
}

stage "cargo test" cargo test
stage "README.md followed literally, command by command" bash scripts/readme-test.sh
stage "Postman collection and OpenAPI document against real nodes" bash scripts/postman-test.sh
stage "schemathesis: a fresh node fuzzed against scripts/openapi.yaml" bash scripts/schemathesis-test.sh
for demo in demo-network demo-fork demo-tamper; do
    stage "scripts/$demo.sh" bash "scripts/$demo.sh"
done
stage "scripts/browser-test.sh (the explorer page in headless Chromium)" bash scripts/browser-test.sh

echo
printf '%-70s %-12s %8s\n' "stage" "result" "seconds"
for i in "${!stages[@]}"; do
    printf '%-70s %-12s %8s\n' "${stages[$i]}" "${results[$i]}" "${seconds[$i]}"
done
if [ "$failed" -ne 0 ]; then
    echo "== some stages failed (see above)"
    exit 1
fi
echo "== all tests passed"
