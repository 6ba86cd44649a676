#!/usr/bin/env bash
# The emulator's load figures for docs/performance.md, in one run: OpenSSL's RSA-2048 sign/s
# (`openssl speed` divides by user CPU time: sign/s per CPU second), then the `load` example (release build,
# aws-lc-rs) against an in-process emulator on 127.0.0.1: the sustained alipay.trade.query rate
# and its latency, then latency at a fixed rate of 1 × sign/s (half the 2 × sign/s ceiling).
# Bounded: about 3 + 1 + 3 × SECONDS_PER_PHASE seconds after the build (at most 6 × when
# overloaded).
#
#   crates/alipay-emulator/examples/load.sh                # SECONDS_PER_PHASE=10, CONNECTIONS=8
#   SECONDS_PER_PHASE=20 CONNECTIONS=16 crates/alipay-emulator/examples/load.sh
#
# Prints a Markdown table row set and the raw JSON of the run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
seconds="${SECONDS_PER_PHASE:-10}"
connections="${CONNECTIONS:-8}"
target="${CARGO_TARGET_DIR:-$repo/target}"

command -v openssl >/dev/null || { echo "load.sh: openssl is not installed" >&2; exit 1; }

cd "$repo"
cargo build --release -p alipay-emulator --example load >&2

# `openssl speed` prints e.g. "rsa 2048 bits 0.000252s 0.000016s   3974.7  60779.8";
# the sign/s column is the second from the end.
sign_per_s() {
  awk '/^rsa +2048 bits/ { print $(NF-1) }'
}
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
one="$(openssl speed -seconds 3 rsa2048 2>/dev/null | sign_per_s)"
if [ -z "$one" ]; then
  echo "load.sh: could not read sign/s from openssl speed" >&2
  exit 1
fi

json="$("$target/release/examples/load" --seconds "$seconds" --connections "$connections" \
  --openssl-sign-per-s "$one")"

python3 - "$json" "$one" "$load_before" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
one, load_before = float(sys.argv[2]), sys.argv[3]
s = r["sustained"]
ceiling = 2 * one
print(f"| OpenSSL `speed -seconds 3 rsa2048`: sign/s (per CPU second) | {one:.0f} |")
print(f"| ceiling = 2 × sign/s | {ceiling:.0f} req/s |")
print(f"| sustained alipay.trade.query, {r['connections']} connections, {s['seconds']:.0f} s | "
      f"{s['requests_per_s']:.0f} req/s = {100 * s['requests_per_s'] / ceiling:.1f}% of the ceiling |")
print(f"| sustained: p50 / p99 | {s['p50_ms']} ms / {s['p99_ms']} ms |")
print(f"| sustained: cores this process got (of 2) | {s['cores_busy']} |")
print(f"| emulator CPU per request (all threads incl. the load generator) | "
      f"{s['emulator_cpu_us_per_request']} µs ({s['all_cpu_us_per_request']} µs); one OpenSSL sign: {1e6 / one:.0f} µs |")
if "emulator_requests_per_cpu_s" in r:
    print(f"| emulator requests per CPU second; × 2 cores vs the ceiling | "
          f"{r['emulator_requests_per_cpu_s']:.0f}; {r['emulator_two_core_projection_percent_of_ceiling']}% |")
for p in r["paced"]:
    what = "half the ceiling" if p["label"] == "asked" else "half the sustained rate"
    print(f"| at {p['target_rate']:.0f} req/s ({what}): achieved, p50 / p99 from when due | "
          f"{p['requests_per_s']:.0f} req/s, {p['p50_ms']} ms / {p['p99_ms']} ms"
          + (f", {p['not_sent_overloaded']} not sent (overloaded)" if p["not_sent_overloaded"] else "") + " |")
errors = s["errors"] + sum(p["errors"] for p in r["paced"])
checked = s["signatures_verified"] + sum(p["signatures_verified"] for p in r["paced"])
print(f"| errors; answers signature-checked by the load generator | {errors}; {checked} |")
print(f"| load average before openssl / before load / after | {load_before} / {r['load_average_before']} / {r['load_average_after']} |")
print()
print(json.dumps(r))
PY
