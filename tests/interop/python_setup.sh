#!/usr/bin/env bash
# Installs the official Alipay Python SDK (PyPI `alipay-sdk-python`, pinned with hashes in
# python_requirements.txt next to this script) into a virtual environment outside the source
# tree, from PyPI only. Idempotent: does nothing when the same requirements are installed.
#
#   tests/interop/python_setup.sh              # installs into <repo>/.cache/interop-python
#   INTEROP_PYTHON_DIR=/x python_setup.sh      # installs into /x
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dest="${INTEROP_PYTHON_DIR:-$repo/.cache/interop-python}"
requirements="$here/python_requirements.txt"
want_version="3.7.1411"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "python interop setup: '$python' is not on PATH; install Python 3.8 or newer" >&2
  exit 1
fi

req_sum="$(cksum <"$requirements" | cut -d' ' -f1)"
stamp="$dest/.installed"
if [ -x "$dest/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$req_sum" ]; then
  echo "python interop setup: alipay-sdk-python==$want_version already installed in $dest"
  exit 0
fi

rm -f "$stamp"
if [ ! -x "$dest/bin/python" ]; then
  "$python" -m venv "$dest" || {
    echo "python interop setup: '$python -m venv' failed (on Debian: apt-get install python3-venv)" >&2
    exit 1
  }
fi
echo "python interop setup: installing alipay-sdk-python==$want_version into $dest"
"$dest/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --require-hashes --only-binary=:all: -r "$requirements"

installed="$("$dest/bin/python" -c 'import importlib.metadata as m; print(m.version("alipay-sdk-python"))')"
if [ "$installed" != "$want_version" ]; then
  echo "python interop setup: installed alipay-sdk-python is $installed, expected $want_version" >&2
  exit 1
fi
echo "$req_sum" >"$stamp"
echo "python interop setup: alipay-sdk-python==$installed ready"
