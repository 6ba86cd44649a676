#!/usr/bin/env bash
# Installs the Node oracle and the Python oracle (if needed) and runs the interop suite against
# them: every test whose name contains `interop`, among them `interop` (signing, Node),
# `python_interop` (the Python SDK as an emulator client) and `redirect_interop` (both SDKs
# verify the page-pay forms, URLs and app-pay order strings alipay-rs renders). The suite fails
# when an oracle is missing (REQUIRE_INTEROP=1). Extra arguments go to the test binary, e.g.
#   INTEROP_SEED=12345 tests/interop/run.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

"$here/setup.sh"
"$here/python_setup.sh"

cd "$repo"
REQUIRE_INTEROP=1 cargo test --locked -p alipay-tests --all-features --test it interop -- --nocapture "$@"
