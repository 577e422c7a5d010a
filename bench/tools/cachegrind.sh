#!/bin/bash
# Instructions and simulated cache misses per warm invocation, under valgrind (Debian's valgrind
# package; not needed by anything else): bench/tools/warm-invocations.ts run twice, with N1 and N2
# measured invocations after the same warm-up; the difference divided by N2 - N1. Deterministic enough
# to see a change of ~5 % or more between two versions of the code (the counts without compiler and GC
# differ by about ±3 % between runs; with them ±5–8 %), which times on a shared machine cannot.
#   bench/tools/cachegrind.sh <hello|RS256|ES256> [N1=200] [N2=1000]
# WARM (default 5000, bench/tools/warm-invocations.ts) warm-up invocations precede both.
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
run "$n1" & p1=$!; run "$n2" & p2=$!
# A run that fails (a missing dependency, a thrown error) must not be read as zero instructions.
wait "$p1" || { cat "$out/err.$n1" >&2; exit 1; }
wait "$p2" || { cat "$out/err.$n2" >&2; exit 1; }
cg_diff "$out/cg.$n1" "$out/cg.$n2" > "$out/diff" 2>/dev/null
# Per-function lines: "fn=<name>" then "<line> Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw". Totals, and the
# same without V8's optimising compiler and garbage collector ("mutator"): where tier-up compiles and
# major GCs fall differs between the two runs, and leaving them out shrinks the run-to-run spread of
# the difference from ±5-8 % to about ±3 %.
awk -v n=$((n2 - n1)) -v k="$kind" '
  /^fn=/ { gcjit = ($0 ~ /compiler::|MarkCompact|Marking|Sweep|Scaveng|IteratePointers|Heap::|heap::|GCTracer|Evacuat|BodyDescriptor|Compiler::|Pipeline|Zone::|RegisterAllocat|InstructionSelector|CodeGenerator|Assembler|Deoptimiz/); next }
  /^-?[0-9]/ { for (i = 2; i <= 10; i++) { all[i] += $i; if (!gcjit) mut[i] += $i } }
  END {
    printf "%s: %d instructions, %d I1 misses, %d D1 read misses, %d D1 write misses per warm invocation\n", k, all[2]/n, all[3]/n, all[6]/n, all[9]/n
    printf "%s, without compiler and GC: %d instructions, %d I1 misses, %d D1 read misses, %d D1 write misses\n", k, mut[2]/n, mut[3]/n, mut[6]/n, mut[9]/n
  }' "$out/diff"
echo "per-function differences: cg_annotate $out/diff"
