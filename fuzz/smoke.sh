#!/usr/bin/env bash
# Fuzz smoke test: builds every cargo-fuzz target and runs each for FUZZ_SECONDS (default 60).
# Fails when any target crashes (panic, failed property, overflow check), hangs past the
# per-input timeout, or runs out of memory. The reproducer is left in fuzz/artifacts/<target>/;
# replay it with `RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <file>`.
#
# Environment:
#   FUZZ_SECONDS      seconds per target (default 60)
#   FUZZ_TARGETS      space-separated subset of targets (default: all, from `cargo fuzz list`)
#   FUZZ_SANITIZER    none (default) or address. alipay-sign forbids unsafe code, so what the
#                     fuzzer catches is panics, failed properties and overflow checks (built
#                     with debug assertions); `none` runs about twice as many inputs.
#   CARGO_TARGET_DIR  where to build (default: fuzz/target)
#
# cargo-fuzz needs nightly-only compiler flags (-Zsanitizer, sancov passes). With only a stable
# toolchain available, RUSTC_BOOTSTRAP=1 lets stable rustc accept them for this build.
set -euo pipefail
cd "$(dirname "$0")"
fuzz_dir=$(pwd)
data_dir="$fuzz_dir/../crates/alipay-sign/tests/data"

seconds=${FUZZ_SECONDS:-60}
sanitizer=${FUZZ_SANITIZER:-none}
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=never

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
cargo fuzz --version

common=(--sanitizer "$sanitizer")
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  common+=(--target-dir "$CARGO_TARGET_DIR")
fi

read -r -a targets <<< "${FUZZ_TARGETS:-$(cargo fuzz list | tr '\n' ' ')}"
if [ "${#targets[@]}" -eq 0 ]; then
  echo "no fuzz targets found" >&2
  exit 2
fi

echo "==> building ${targets[*]} (sanitizer: $sanitizer)"
cargo fuzz build "${common[@]}"

# Seeds the key loader's corpus with every key and certificate of the crate's test data, as
# PEM, bare base64 (armour stripped) and DER (single-block files).
seed_key_loader() {
  local corpus=$1 f name body
  for f in "$data_dir"/*.pem "$data_dir"/*.crt; do
    [ -e "$f" ] || continue
    name=$(basename "$f")
    cp "$f" "$corpus/$name"
    tr -d '\r' < "$f" > "$corpus/$name.lf"
    sed 's/$/\r/' "$f" > "$corpus/$name.crlf"
    if [ "$(grep -c -- '-----BEGIN' "$f")" = 1 ]; then
      body=$(grep -v -- '-----' "$f" | tr -d '\r\n')
      printf '%s' "$body" > "$corpus/$name.b64"
      printf '%s' "$body" | base64 -d > "$corpus/$name.der" 2>/dev/null || rm -f "$corpus/$name.der"
    fi
  done
}

max_len_for() {
  case $1 in
    key_loader) echo 8192 ;;
    extract_raw) echo 4096 ;;
    *) echo 4096 ;;
  esac
}

failed=()
mkdir -p "$fuzz_dir/artifacts/logs"
for t in "${targets[@]}"; do
  corpus="$fuzz_dir/corpus/$t"
  mkdir -p "$corpus"
  inputs=("$corpus")
  [ -d "$fuzz_dir/seeds/$t" ] && inputs+=("$fuzz_dir/seeds/$t")
  [ "$t" = key_loader ] && seed_key_loader "$corpus"
  args=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -max_len="$(max_len_for "$t")" -print_final_stats=1)
  [ -f "$fuzz_dir/dicts/$t.dict" ] && args+=(-dict="$fuzz_dir/dicts/$t.dict")
  log="$fuzz_dir/artifacts/logs/$t.log"
  echo "==> $t for ${seconds}s (log: $log)"
  if cargo fuzz run "${common[@]}" "$t" "${inputs[@]}" -- "${args[@]}" > "$log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$log" | sed 's/^/    /' || true
    echo "    corpus: $(find "$corpus" -type f | wc -l) inputs"
  else
    echo "!!! $t FAILED; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    failed+=("$t")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz smoke test failed: ${failed[*]} (reproducers in $fuzz_dir/artifacts/)" >&2
  exit 1
fi
echo "==> fuzz smoke test passed: ${targets[*]}, ${seconds}s each"
