#!/usr/bin/env bash
# Installs the interop oracle: the official Alipay Node SDK (npm `alipay-sdk`, pinned by
# package.json and package-lock.json next to this script) into a cache folder outside the
# source tree, from the npm registry only. Idempotent: does nothing when the pinned version is
# already installed from the same lock file.
#
#   tests/interop/setup.sh            # installs into <repo>/.cache/interop-node
#   INTEROP_NODE_DIR=/x setup.sh      # installs into /x
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dest="${INTEROP_NODE_DIR:-$repo/.cache/interop-node}"
want_version="4.14.0"
registry="${npm_config_registry:-https://registry.npmjs.org/}"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "interop setup: '$tool' is not on PATH; install Node.js 18 or newer" >&2
    exit 1
  fi
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
  echo "interop setup: Node.js $(node --version) is too old; alipay-sdk@$want_version needs >= 18" >&2
  exit 1
fi

lock_sum="$(cksum <"$here/package-lock.json" | cut -d' ' -f1)"
stamp="$dest/.installed"
installed_version=""
if [ -f "$dest/node_modules/alipay-sdk/package.json" ]; then
  installed_version="$(node -p 'require(process.argv[1]).version' "$dest/node_modules/alipay-sdk/package.json")"
fi
if [ "$installed_version" = "$want_version" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then
  echo "interop setup: alipay-sdk@$want_version already installed in $dest"
  exit 0
fi

mkdir -p "$dest"
cp "$here/package.json" "$here/package-lock.json" "$dest/"
rm -f "$stamp"
echo "interop setup: installing alipay-sdk@$want_version into $dest (registry $registry)"
npm install --no-audit --no-fund --ignore-scripts --no-update-notifier \
  --registry "$registry" --prefix "$dest"

installed_version="$(node -p 'require(process.argv[1]).version' "$dest/node_modules/alipay-sdk/package.json")"
if [ "$installed_version" != "$want_version" ]; then
  echo "interop setup: installed alipay-sdk is $installed_version, expected $want_version" >&2
  exit 1
fi
echo "$lock_sum" >"$stamp"
echo "interop setup: alipay-sdk@$installed_version ready"
