#!/usr/bin/env bash
# Notification interop: installs the Python oracle (if needed) and runs the alipay-notify interop
# tests against the official Python SDK and, when tests/interop/setup.sh has installed it, the
# official Node SDK. Fails when the Python oracle is missing (REQUIRE_INTEROP_PYTHON=1).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

"$here/python_setup.sh"

cd "$repo"
REQUIRE_INTEROP_PYTHON=1 cargo test --locked -p alipay-tests --test it notify::interop -- --nocapture "$@"
