#!/bin/bash
# Measure how long each WCSCRIPT op takes on the kernel oracle, as dmwc's OpTiming.oracle() needs
# it: from the op's start until its action reaches the target (the ioctl of a dmsetup call, the
# first bio of a wcio call) and from that action until the op ends. dmwc script ops take these
# times in virtual time (`dmwc script --op-time oracle`), so that the target's timers (max_age,
# autocommit_time, the pause_writeback sleep) fall between the same ops as on the kernel.
#
#   tools/oracle-op-times.sh OUTDIR SCRIPT.wcs...
#
# Each script runs once on a copy of the oracle whose guest/wcs.sh writes every op's start and end
# into the ftrace buffer (trace_marker) beside the dm_writecache functions and dm_suspend,
# dm_resume and __dm_destroy; OUTDIR/NAME/ holds the usual results plus trace-K.txt, and the table
# of medians (ms) over all the scripts is printed at the end. A run with ftrace is a little slower
# than one without: compare a script's transcript with a plain run when a result is borderline.
#
# The oracle itself is not changed: it is copied to a temporary folder (writecache/target/oracle
# when that has a build, as `mvn verify -Pkernel` leaves it, or the shared one). Session 32: 15
# scripts (13 stored scenarios, kernel mutants 893 and 3337), RELIABILITY.md, "Op time".
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
OUTDIR=$1
shift
for s in "$@"; do [ -f "$s" ] || { echo "oracle-op-times: no script $s" >&2; exit 2; }; done

TOOL=oracle-op-times
. "$HERE/tools/oracle-copy.sh"
python3 - "$T" <<'EOF'
import sys
from oracle_patch import patcher
root, patch = sys.argv[1], patcher('oracle-op-times')

run = root + '/runscript.sh'
patch(run, '[ -f "$WORK/res-$k/dmesg.txt" ] && cp',
      '[ -f "$WORK/res-$k/trace.txt" ] && cp "$WORK/res-$k/trace.txt" "$OUTDIR/trace-$k.txt"\n'
      '  [ -f "$WORK/res-$k/dmesg.txt" ] && cp')

hooks = r'''TR=/sys/kernel/tracing
mount -t tracefs nodev $TR 2>/dev/null
echo 8192 > $TR/buffer_size_kb
echo ':mod:dm_writecache' > $TR/set_ftrace_filter
for f in dm_suspend dm_resume __dm_destroy; do echo "$f" >> $TR/set_ftrace_filter; done
echo function > $TR/current_tracer
echo 1 > $TR/tracing_on
mark() { echo "$*" > $TR/trace_marker; }
'''
wcs = root + '/guest/wcs.sh'
marker = '# ---------------------------------------------------------------- main loop\n'
patch(wcs, marker, marker + hooks)
patch(wcs, '  out "> $line"\n', '  out "> $line"\n  mark "WCSOP > $line"\n')
patch(wcs, '    *) out "error EBADOP" ;;\n  esac\n', '    *) out "error EBADOP" ;;\n  esac\n  mark "WCSEND $op"\n')
patch(wcs, 'dmesg_save\necho "WCS: segment $SEG done"',
      'dmesg_save\ncat $TR/trace > /results/trace.txt\necho "WCS: segment $SEG done"')
EOF
for s in "$@"; do
  n=$(basename "$(dirname "$(realpath "$s")")")
  [ "$n" = . ] || [ -z "$n" ] && n=$(basename "$s" .wcs)
  [ -e "$OUTDIR/$n" ] && n=$n-$(basename "$s" .wcs)
  bash "$T/runscript.sh" --timeout 600 "$s" "$OUTDIR/$n" || echo "oracle-op-times: $s did not run to its end" >&2
done

python3 - "$OUTDIR" <<'EOF'
import glob, re, statistics, sys
from collections import defaultdict

# the function whose first call after an op starts is that op's action
ACTION = {'create': 'writecache_resume <-', 'reload': '__dm_destroy <-', 'remove': '__dm_destroy <-',
          'suspend': 'dm_suspend <-', 'resume': 'dm_resume <-', 'status': 'writecache_status <-retrieve_status',
          'message': 'writecache_message <-', 'write': 'writecache_map <-', 'read': 'writecache_map <-',
          'discard': 'writecache_map <-', 'flush': 'writecache_map <-'}
before, after = defaultdict(list), defaultdict(list)
for f in sorted(glob.glob(sys.argv[1] + '/*/trace-*.txt')):
    cur = None
    for line in open(f, errors='replace'):
        m = re.search(r'\s([\d.]+): (.*)$', line)
        if not m:
            continue
        t, what = float(m.group(1)) * 1000, m.group(2)
        if 'WCSOP > ' in what:
            a = what.split('WCSOP > ')[1].split()
            key = a[0]
            if key in ('write', 'read', 'discard'):
                key += ' (over 64 sectors)' if int(a[2]) > 64 else ' (up to 64 sectors)'
            elif key == 'message':
                key += ' ' + a[1]
            cur = {'op': a[0], 'key': key, 'start': t, 'action': None}
        elif 'WCSEND' in what:
            if cur and cur['action'] is not None:
                before[cur['key']].append(cur['action'] - cur['start'])
                after[cur['key']].append(t - cur['action'])
            cur = None
        elif cur and cur['action'] is None and cur['op'] in ACTION and ACTION[cur['op']] in what:
            cur['action'] = t
print('%-32s %5s %18s %18s' % ('op', 'n', 'start->action ms', 'action->end ms'))
for k in sorted(before):
    b, a = before[k], after[k]
    print('%-32s %5d %8.1f (%5.1f-%5.1f) %8.1f (%5.1f-%6.1f)' % (k, len(b), statistics.median(b), min(b), max(b),
                                                             statistics.median(a), min(a), max(a)))
print('(action->end includes what the target waited for, e.g. a suspend waiting out a pause: dmwc waits that out itself)')
EOF
