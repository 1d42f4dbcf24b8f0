#!/bin/sh
# Builds libdmwcnative.so into $1. Never fails the Maven build: without the library daxlib runs
# its pure-Java persistence fallback, and `dmwc info` says so.
OUT=${1:?usage: build.sh OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
case "$(uname -m)" in
  x86_64) ;;
  *) echo "native: $(uname -m) is not x86-64; daxlib will use the Java fallback" >&2; exit 0 ;;
esac
if ! command -v make >/dev/null 2>&1 || ! command -v "${CC:-gcc}" >/dev/null 2>&1; then
  echo "native: make or gcc missing; daxlib will use the Java fallback" >&2
  exit 0
fi
make -s -C "$HERE" OUT="$OUT" || echo "native: build failed; daxlib will use the Java fallback" >&2
exit 0
