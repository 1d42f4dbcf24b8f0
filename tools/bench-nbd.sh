#!/bin/bash
# fio 4 KiB random writes at QD32 over NBD (Unix socket) against, in one run:
#   nbdkit memory                                  - the protocol ceiling on this machine
#   nbdkit file + --filter=cache cache=writeback   - the nearest peer (a write-back cache in nbdkit)
#   dmwc serve (ssd mode and pmem mode)            - this project
# and prints each figure with its ratio to the two nbdkit baselines. Every server gets a 1 GiB
# export backed by /dev/shm; each fio run writes 256 MiB-sized random offsets for RUNTIME seconds.
# Usage: tools/bench-nbd.sh [RUNTIME_SECONDS (default 10)] [ROUNDS (default 1)]
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
RUNTIME=${1:-10}
ROUNDS=${2:-1}
for t in fio nbdkit; do command -v $t >/dev/null || { echo "need $t (apt-get install fio nbdkit)" >&2; exit 2; }; done
W=$(mktemp -d /dev/shm/dmwc-nbdbench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
"$HERE/dmwc" --version >/dev/null   # build first, outside the timing

iops() { # $1 = socket; prints the IOPS of one fio run
  fio --name=w --ioengine=nbd --uri="nbd+unix:///?socket=$1" --rw=randwrite --bs=4k --iodepth=32 \
      --size=256m --time_based --runtime="$RUNTIME" --output-format=json 2>/dev/null |
    python3 -c 'import json,sys; t=sys.stdin.read(); print(round(json.loads(t[t.index("{"):])["jobs"][0]["write"]["iops"]))'
}
wait_sock() { # until the server answers a handshake (the socket file appears before listen())
  for _ in $(seq 300); do
    if [ -S "$1" ] && { ! command -v nbdinfo >/dev/null || nbdinfo --size "nbd+unix:///?socket=$1" >/dev/null 2>&1; }; then
      sleep 0.2; return 0
    fi
    sleep 0.1
  done
  echo "no server on $1" >&2; exit 1
}

declare -A sum
for round in $(seq "$ROUNDS"); do
  rm -f "$W"/*.sock
  nbdkit -f -U "$W/mem.sock" memory size=1G & P=$!; wait_sock "$W/mem.sock"
  sum[memory]=$(( ${sum[memory]:-0} + $(iops "$W/mem.sock") )); kill $P; wait $P 2>/dev/null || true

  rm -f "$W"/*.sock; truncate -s 1G "$W/file.img"
  nbdkit -f -U "$W/cache.sock" --filter=cache file "$W/file.img" cache=writeback & P=$!; wait_sock "$W/cache.sock"
  sum[cache]=$(( ${sum[cache]:-0} + $(iops "$W/cache.sock") )); kill $P; wait $P 2>/dev/null || true

  for mode in s p; do
    rm -f "$W/o.img" "$W/c.img"
    "$HERE/dmwc" serve --listen "unix:$W/wc.sock" --mode $mode --origin "$W/o.img" --origin-size 1G \
        --cache "$W/c.img" --cache-size 512M 2>"$W/serve.log" & P=$!; wait_sock "$W/wc.sock"
    sum[dmwc-$mode]=$(( ${sum[dmwc-$mode]:-0} + $(iops "$W/wc.sock") )); kill $P; wait $P 2>/dev/null || true
    rm -f "$W/wc.sock"
  done
done
printf "fio randwrite 4k QD32, %ss x %s round(s), Unix socket, %s\n" "$RUNTIME" "$ROUNDS" "$(date -u +%F)"
printf "%-34s %10s %12s %12s\n" server IOPS "x memory" "x cache"
for k in memory cache dmwc-s dmwc-p; do
  v=$(( ${sum[$k]} / ROUNDS ))
  name=$k
  case $k in memory) name="nbdkit memory";; cache) name="nbdkit file --filter=cache (wb)";; dmwc-s) name="dmwc serve --mode s";; dmwc-p) name="dmwc serve --mode p";; esac
  python3 -c "print('%-34s %10d %12.2f %12.2f' % ('$name', $v, $v/(${sum[memory]}/$ROUNDS), $v/(${sum[cache]}/$ROUNDS)))"
done
