#!/bin/bash
# Run a WCSCRIPT on the kernel oracle with ftrace on, to see what the real kernel ran and in which
# order: which task (the writer, the writeback kworker, kcopyd, the endio thread) called which
# dm-writecache function, with the block, workqueue and scheduler events between them.
#
# Tracing starts just before the first op line equal to AT (comments aside) and stops after the
# next `status`; the trace lands in OUTDIR/trace-K.txt (K: the boot segment it ran in), beside the
# oracle's usual results (transcript.txt, the images, the console and dmesg logs).
#
#   tools/oracle-trace.sh SCRIPT.wcs OUTDIR "write 264 224 w20" [EXTRA_FUNCTIONS...]
#
# EXTRA_FUNCTIONS: kernel functions to trace besides the dm_writecache module's own, e.g.
# dm_split_and_process_bio dm_accept_partial_bio dm_kcopyd_copy.
#
# The oracle itself is not changed: it is copied to a temporary folder (the shared one, or
# writecache/target/oracle when that has a build, as `mvn verify -Pkernel` leaves it) and the copy
# gets the tracing hooks. The oracle's build/ must exist (../shared/oracle/setup.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 3 ] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ -f "$1" ] || { echo "oracle-trace: no script $1" >&2; exit 2; }
SCRIPT=$(realpath "$1") OUTDIR=$2 AT=$3
shift 3
# the guest matches an op line as its transcript shows it: without its comment or trailing blanks
strip_comment() { sed 's/[[:space:]]*#.*$//; s/[[:space:]]*$//'; }
AT=$(printf '%s\n' "$AT" | strip_comment)
strip_comment < "$SCRIPT" | grep -qxF "$AT" || { echo "oracle-trace: no line \"$AT\" in $SCRIPT" >&2; exit 2; }

TOOL=oracle-trace
. "$HERE/tools/oracle-copy.sh"
python3 - "$T" <<'EOF'
import sys
from oracle_patch import patcher
root, patch = sys.argv[1], patcher('oracle-trace')

run = root + '/runscript.sh'
patch(run, '--env "WCS_SEG=$k"', '--env "WCS_SEG=$k" --env "TRACE_AT=$TRACE_AT" --env "TRACE_FUNCS=$TRACE_FUNCS"')
patch(run, '[ -f "$WORK/res-$k/dmesg.txt" ] && cp',
      '[ -f "$WORK/res-$k/trace.txt" ] && cp "$WORK/res-$k/trace.txt" "$OUTDIR/trace-$k.txt"\n'
      '  [ -f "$WORK/res-$k/dmesg.txt" ] && cp')

hooks = r'''TRACING=0
trace_on() {
  TR=/sys/kernel/tracing
  mount -t tracefs nodev $TR 2>/dev/null
  echo 0 > $TR/tracing_on
  echo 16384 > $TR/buffer_size_kb
  echo ':mod:dm_writecache' > $TR/set_ftrace_filter
  for f in $TRACE_FUNCS; do echo "$f" >> $TR/set_ftrace_filter; done
  echo function > $TR/current_tracer
  for e in sched/sched_switch sched/sched_wakeup workqueue/workqueue_queue_work \
           workqueue/workqueue_execute_start workqueue/workqueue_execute_end block/block_split \
           block/block_bio_queue block/block_rq_issue block/block_rq_complete irq/irq_handler_entry; do
    echo 1 > $TR/events/$e/enable
  done
  echo > $TR/trace
  echo 1 > $TR/tracing_on
  TRACING=1
}
trace_off() {
  echo 0 > /sys/kernel/tracing/tracing_on
  cat /sys/kernel/tracing/trace > /results/trace.txt
  TRACING=2
}
'''
wcs = root + '/guest/wcs.sh'
marker = '# ---------------------------------------------------------------- main loop\n'
patch(wcs, marker, marker + hooks)
patch(wcs, '  out "> $line"\n',
      '  [ "$TRACING" = 0 ] && [ "$line" = "$TRACE_AT" ] && trace_on\n  out "> $line"\n')
patch(wcs, '        out "status $*"\n', '        out "status $*"\n        [ "$TRACING" = 1 ] && trace_off\n')
EOF
export TRACE_AT="$AT" TRACE_FUNCS="$*"
bash "$T/runscript.sh" --timeout 600 "$SCRIPT" "$OUTDIR"
ls "$OUTDIR"/trace-*.txt 2>/dev/null || { echo "oracle-trace: no trace (did a status follow \"$AT\"?)" >&2; exit 1; }
