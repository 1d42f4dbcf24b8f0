#!/bin/bash
# Re-run, in dmwc only, every script whose kernel results are on disk under
# writecache/target/kernel-diff (left there by RandomScriptsKernelIT: random seeds, mutants,
# screened mutants, trace scripts), and compare transcript and images with the kernel's. A script
# with a second kernel run (kernel-again/) counts as identical if it matches either run. Use it
# after an engine change: hundreds of kernel results are checked in minutes, with no VM.
# Prints one line per script that differs and a count; exit 1 if any differs.
# Usage: tools/recheck-kernel-diff.sh [DIR (default writecache/target/kernel-diff)]
set -uo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-$HERE/writecache/target/kernel-diff}
COMPARE=${DMWC_COMPARE:-$HERE/../shared/oracle/compare.sh}
[ -d "$DIR" ] || { echo "no $DIR: run RandomScriptsKernelIT (mvn -Pkernel) first" >&2; exit 2; }
[ -x "$COMPARE" ] || [ -f "$COMPARE" ] || { echo "no $COMPARE (set DMWC_COMPARE)" >&2; exit 2; }
"$HERE/dmwc" --version >/dev/null   # build first
JAR=$(mktemp /tmp/dmwc-recheck-XXXXXX.jar)
cp "$HERE/writecache/target/dmwc.jar" "$JAR"   # a rebuild meanwhile does not change what runs
OUT=$(mktemp -d /tmp/dmwc-recheck.XXXXXX)
trap 'rm -rf "$OUT" "$JAR"' EXIT
same=0; differ=0
for d in "$DIR"/*/; do
  d=${d%/}; name=$(basename "$d")
  [ -f "$d/kernel/transcript.txt" ] || continue
  # a random script's '@' table takes its mode from the header ("..., mode s")
  mode=$(sed -n 1p "$d/script.wcs" | grep -o 'mode [sp]$' | awk '{print $2}')
  args=(); [ -n "$mode" ] && args=(--mode "$mode")
  rm -rf "$OUT/run"
  java -jar "$JAR" script "${args[@]}" "$d/script.wcs" "$OUT/run" >/dev/null 2>&1
  ok=0
  for k in kernel kernel-again; do
    [ -f "$d/$k/transcript.txt" ] || continue
    result=$(bash "$COMPARE" "$d/$k" "$OUT/run" 2>&1)
    if [[ $result != *DIFFERS* && $result == *identical* ]]; then ok=1; break; fi
  done
  if [ $ok = 1 ]; then same=$((same + 1)); else differ=$((differ + 1)); echo "differs: $name"; fi
done
echo "$same identical, $differ differ"
[ $differ = 0 ]
