#!/usr/bin/env bash
# Installs the notification interop oracle: the official Alipay Python SDK (PyPI
# `alipay-sdk-python`, pinned below, with its dependencies `rsa` and `pycryptodome`) into a
# virtual environment outside the source tree, from PyPI only. Idempotent.
#
#   tests/interop/notify_python_setup.sh                 # into <repo>/.cache/interop-python
#   INTEROP_PYTHON_DIR=/x notify_python_setup.sh         # into /x
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dest="${INTEROP_PYTHON_DIR:-$repo/.cache/interop-python}"
want="alipay-sdk-python==3.7.1411"

if ! command -v python3 >/dev/null 2>&1; then
  echo "notify interop setup: python3 is not on PATH" >&2
  exit 1
fi
if [ -x "$dest/bin/python" ] && [ "$(cat "$dest/.installed" 2>/dev/null)" = "$want" ]; then
  echo "notify interop setup: $want already installed in $dest"
  exit 0
fi
python3 -m venv "$dest"
"$dest/bin/python" -m pip install --quiet --disable-pip-version-check "$want"
echo "$want" > "$dest/.installed"
echo "notify interop setup: installed $want into $dest"
