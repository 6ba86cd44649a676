#!/usr/bin/env sh
# Notifications verified per second (parse + rule + RSA2 verify, aws-lc-rs) against
# `openssl speed -seconds 3 rsa2048` verify/s, measured in the same run on the same machine.
#
# `openssl speed` counts user CPU time, so the benchmark also reports CPU-time rates
# (NOTIFY_BENCH_CPU=1); the ratio is computed from those, which stays meaningful on a shared,
# busy machine. criterion's wall-clock figures are printed as well.
# Usage (from the workspace root): sh crates/alipay-notify/benches/compare_openssl.sh
set -eu
out=$(NOTIFY_BENCH_CPU=1 cargo bench -p alipay-notify --bench verify -- --output-format bencher 'notify/' 2>/dev/null)
ssl=$(openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $NF}')
echo "$out" | grep -E '^(test|cpu-time) '
echo "openssl speed -seconds 3 rsa2048: $ssl verify/s (CPU time)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$out" | awk -v ssl="$ssl" '/^cpu-time notify\/verify_/ {
    rate = $3; printf "%s %.0f notifications per CPU-second = %.1f%% of openssl rsa2048 verify/s\n", $2, rate, 100 * rate / ssl }'
