# oracle-copy.sh - sourced by the tools that run the kernel oracle with hooks of their own
# (oracle-trace.sh, oracle-op-times.sh): finds an oracle with a build (writecache/target/oracle,
# as `mvn verify -Pkernel` leaves it, or the shared one) and copies it into a temporary folder,
# $T, removed on exit. The oracle itself is never changed; the caller patches the copy with
# oracle_patch.py, which python3 finds in tools/ (PYTHONPATH; no bytecode left there). Needs $HERE
# (the project root) and $TOOL (the caller's name, for errors).
export PYTHONPATH="$HERE/tools${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1
ORACLE=
for o in "$HERE/writecache/target/oracle" "$HERE/../shared/oracle"; do
  if [ -f "$o/build/vmlinuz" ]; then ORACLE=$o; break; fi
done
[ -n "$ORACLE" ] || { echo "$TOOL: no oracle with a build (run ../shared/oracle/setup.sh)" >&2; exit 2; }
T=$(mktemp -d "/tmp/dmwc-$TOOL.XXXXXX")
trap 'rm -rf "$T"' EXIT
cp -a "$ORACLE"/. "$T"/
