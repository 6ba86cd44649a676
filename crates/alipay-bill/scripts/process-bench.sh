#!/usr/bin/env bash
# Whole-process figures of the bill reader: throughput and peak RSS of reading a generated
# N-row GBK detail bill (CSV and ZIP) with the streaming reader, next to the naive baseline
# (whole file to a String, then parse) in the same run. Fails when the streaming reader's peak RSS
# exceeds the issue's bound of 64 MiB.
#
#   crates/alipay-bill/scripts/process-bench.sh [ROWS]     # default 1000000 (252 MB of CSV)
#
# Needs GNU time at /usr/bin/time. Builds with the workspace's target directory unless
# CARGO_TARGET_DIR is set.
set -euo pipefail
rows=${1:-1000000}
root=$(cd "$(dirname "$0")/../../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
limit_kib=$((64 * 1024))

cargo build --quiet --release --manifest-path "$root/Cargo.toml" -p alipay-bill --example rss
bin="$target/release/examples/rss"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" generate "$work/bill.csv" "$rows"
"$bin" generate "$work/bill.zip" "$rows"

measure() { # mode file → prints the example's summary line and the peak RSS; returns the RSS in KiB
  local out rss
  out=$(/usr/bin/time -v "$bin" "$1" "$2" 2>&1)
  rss=$(printf '%s\n' "$out" | awk -F': ' '/Maximum resident set size/ {print $2}')
  printf '%-6s %-9s %s | peak RSS %s KiB\n' "$1" "$(basename "$2")" \
    "$(printf '%s\n' "$out" | grep 'MB/s')" "$rss" >&2
  echo "$rss"
}

csv_rss=$(measure read "$work/bill.csv")
zip_rss=$(measure read "$work/bill.zip")
measure naive "$work/bill.csv" >/dev/null

for rss in "$csv_rss" "$zip_rss"; do
  if [ "$rss" -gt "$limit_kib" ]; then
    echo "FAIL: streaming peak RSS ${rss} KiB exceeds ${limit_kib} KiB" >&2
    exit 1
  fi
done
echo "ok: streaming peak RSS ${csv_rss} KiB (CSV), ${zip_rss} KiB (ZIP); bound ${limit_kib} KiB" >&2
