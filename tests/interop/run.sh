#!/usr/bin/env bash
# Installs the Node oracle (if needed) and runs the interop suite against it. The suite fails
# when the oracle is missing (REQUIRE_INTEROP=1). Extra arguments go to the test binary, e.g.
#   INTEROP_SEED=12345 tests/interop/run.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

"$here/setup.sh"

cd "$repo"
REQUIRE_INTEROP=1 cargo test --locked -p alipay-tests --all-features --test it interop -- --nocapture "$@"
