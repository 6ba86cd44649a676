#!/usr/bin/env sh
# Notifications verified per second (aws-lc-rs) against `openssl speed -seconds 3 rsa2048`
# verify/s, measured in the same run on the same machine. Prints both and the ratio.
# Usage (from the workspace root): sh crates/alipay-notify/benches/compare_openssl.sh
set -eu
out=$(cargo bench -p alipay-notify --bench verify -- --output-format bencher 'notify/' 2>/dev/null)
echo "$out" | grep '^test '
ssl=$(openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $NF}')
echo "openssl speed rsa2048 verify/s: $ssl"
echo "$out" | awk -v ssl="$ssl" '/^test notify\/verify_utf8_aws_lc / {
    ns = $5; gsub(",", "", ns); per_s = 1e9 / ns;
    printf "notifications verified/s (UTF-8, aws-lc-rs): %.0f\nratio to openssl rsa2048 verify/s: %.1f%%\n", per_s, 100 * per_s / ssl }'
