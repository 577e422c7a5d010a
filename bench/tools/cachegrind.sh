#!/bin/bash
# Instructions and simulated cache misses per warm invocation, under valgrind (Debian's valgrind
# package; not needed by anything else): bench/tools/warm-invocations.ts run twice, with N1 and N2
# measured invocations after the same warm-up; the difference divided by N2 - N1. Deterministic enough
# to see a change of ~10 % or more between two versions of the code (runs differ by ±5–8 %: GC timing),
# which times on a shared machine cannot.
#   bench/tools/cachegrind.sh <hello|RS256|ES256> [N1=200] [N2=1000]
set -euo pipefail
kind=$1; n1=${2:-200}; n2=${3:-1000}
out=$(mktemp -d)
# One IdP key for both runs (its generation must not differ between them).
case $kind in
  RS256) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$out/key.pem" 2>/dev/null ;;
  ES256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/key.pem" 2>/dev/null ;;
esac
[ -f "$out/key.pem" ] && export BENCH_KEY_FILE="$out/key.pem"
run() {
  valgrind --tool=cachegrind --cache-sim=yes --smc-check=all-non-file --cachegrind-out-file="$out/cg.$1" \
    node --expose-gc --single-threaded --import tsx bench/tools/warm-invocations.ts "$kind" "$1" >/dev/null 2>"$out/err.$1"
}
run "$n1" & run "$n2" & wait
cg_diff "$out/cg.$n1" "$out/cg.$n2" > "$out/diff" 2>/dev/null
# PROGRAM TOTALS: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw
cg_annotate "$out/diff" 2>/dev/null | grep "PROGRAM TOTALS" | tr -d ',' | awk -v n=$((n2 - n1)) -v k="$kind" \
  '{ printf "%s: %d instructions, %d I1 misses, %d D1 read misses, %d D1 write misses per warm invocation\n", k, $1/n, $3/n, $9/n, $15/n }'
echo "per-function differences: cg_annotate $out/diff"
