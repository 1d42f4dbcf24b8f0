#!/bin/bash
# Replay throughput (issue #4): requests per second replaying traces, one thread, ssd mode, 256 MiB
# cache, in data mode (4 KiB+ payloads written and read) and --no-data, each beside the same run's
# parse-only rate (replay's scan pass over the same records: reading and decoding only).
#   the real ext4-fsync trace (../shared/traces, captured from the kernel) as a fio v3 log, as
#     blkparse text and as blktrace binary, each replayed LOOPS times back to back (--loops:
#     the trace is 36 k requests, a tenth of a second: one pass measures the JIT warming up, and
#     30 passes still mostly do; 300 passes are ~10 M requests, a steady state)
#   a synthetic 2 M-request fio v3 log (tools/make-synthetic-iolog.py): 4 KiB, 50 % writes,
#     random over 1 GiB, one pass, with and without --prefault (the devices' pages faulted in
#     before the clock: on this VM a first touch costs ~20 µs a page)
# Prints a Markdown table. Usage: tools/bench-replay.sh [LOOPS (default 300)] [ROUNDS (default 1)]
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
LOOPS=${1:-300}
ROUNDS=${2:-1}
TRACES=${DMWC_TRACES:-$HERE/../shared/traces}
W=$(mktemp -d /dev/shm/dmwc-replaybench.XXXXXX)
trap 'rm -rf "$W"' EXIT
"$HERE/dmwc" --version >/dev/null   # build first, outside the timing
python3 "$HERE/tools/make-synthetic-iolog.py" 2000000 "$W/synthetic.v3.iolog" >/dev/null

row() { # $1 label, $2 trace, $3 loops, $4 extra options (or empty)
  for _ in $(seq "$ROUNDS"); do
    # shellcheck disable=SC2086
    "$HERE/dmwc" replay -q --mode s --work-dir "$W" --loops "$3" $4 --json "$W/r.json" "$2" >/dev/null
    python3 - "$1" "$4" "$W/r.json" <<'EOF'
import json, sys
label, opt, path = sys.argv[1], sys.argv[2], sys.argv[3]
d = json.load(open(path))
r, p = d["requests_per_second"], d["parse_requests_per_second"]
mode = ("no data" if "--no-data" in opt else "data") + (", prefault" if "--prefault" in opt else "")
print(f"| {label} | {mode} | {d['requests']:,} | {r:,.0f} | {p:,.0f} | {r / p:.2f} |")
EOF
  done
}
echo "| trace | mode | requests | replay req/s | parse-only req/s | ratio |"
echo "|---|---|---:|---:|---:|---:|"
for opt in "" "--no-data"; do
  row "ext4-fsync fio v3 × $LOOPS" "$TRACES/ext4-fsync/trace.v3.iolog.gz" "$LOOPS" "$opt"
  row "ext4-fsync blkparse × $LOOPS" "$TRACES/ext4-fsync/trace.blkparse.txt.gz" "$LOOPS" "$opt"
  row "ext4-fsync blktrace × $LOOPS" "$TRACES/ext4-fsync/trace.bin.gz" "$LOOPS" "$opt"
  row "synthetic fio v3, 2 M" "$W/synthetic.v3.iolog" 1 "$opt"
  row "synthetic fio v3, 2 M" "$W/synthetic.v3.iolog" 1 "$opt --prefault"
done
