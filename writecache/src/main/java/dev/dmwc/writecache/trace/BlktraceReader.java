package dev.dmwc.writecache.trace;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * blktrace binary: 48-byte {@code struct blk_io_trace} records (+ {@code pdu_len} bytes), in
 * either byte order (told by the magic). Reads blktrace's per-CPU files merged by time, or one
 * {@code blkparse -d} dump. Replays QUEUE events (or ISSUE with {@code D}); NOTIFY records
 * (process names) are skipped.
 */
final class BlktraceReader implements TraceReader {
    static final int MAGIC = 0x65617400;
    static final int TA_QUEUE = 1;
    static final int TA_ISSUE = 7;
    static final int TC_READ = 1 << 16;
    static final int TC_WRITE = 2 << 16;
    static final int TC_FLUSH = 4 << 16;
    static final int TC_SYNC = 8 << 16;
    static final int TC_NOTIFY = 0x400 << 16;
    static final int TC_AHEAD = 0x800 << 16;
    static final int TC_META = 0x1000 << 16;
    static final int TC_DISCARD = 0x2000 << 16;
    static final int TC_FUA = 0x8000 << 16;

    /** One per-CPU stream with its next record buffered. */
    private static final class Stream {
        final DataInputStream in;
        final String file;
        long recordNo;
        boolean swapped;
        boolean eof;
        long time;
        long sector;
        int bytes;
        int action;
        int device;

        /** The record being read (48 bytes, reused). */
        private final byte[] h = new byte[48];

        Stream(InputStream in, String file) {
            // buffered: a gunzipping stream read 48 bytes at a time inflates per call
            this.in = new DataInputStream(new java.io.BufferedInputStream(in, 1 << 16));
            this.file = file;
        }

        int i32(byte[] b, int o) {
            int v = (b[o] & 0xff) << 24 | (b[o + 1] & 0xff) << 16 | (b[o + 2] & 0xff) << 8 | (b[o + 3] & 0xff);
            return swapped ? Integer.reverseBytes(v) : v;
        }

        long i64(byte[] b, int o) {
            long hi = i32(b, o) & 0xffffffffL;
            long lo = i32(b, o + 4) & 0xffffffffL;
            return swapped ? (lo << 32) | hi : (hi << 32) | lo;
        }

        /** Buffer the next record; false at the end. */
        boolean advance() throws IOException, TraceFormatException {
            byte[] h = this.h;
            try {
                in.readFully(h, 0, 1);
            } catch (EOFException e) {
                eof = true;
                return false;
            }
            try {
                in.readFully(h, 1, 47);
            } catch (EOFException e) {
                throw new TraceFormatException(file, recordNo + 1, "truncated record: fewer than 48 bytes left");
            }
            recordNo++;
            int be = (h[0] & 0xff) << 24 | (h[1] & 0xff) << 16 | (h[2] & 0xff) << 8 | (h[3] & 0xff);
            if ((be & 0xffffff00) == MAGIC) {
                swapped = false;
            } else if ((Integer.reverseBytes(be) & 0xffffff00) == MAGIC) {
                swapped = true;
            } else {
                throw new TraceFormatException(file, recordNo, String.format(
                        "bad magic 0x%08x (expected 0x%08x: a blktrace record; is this a text file?)", be, MAGIC | 7));
            }
            time = i64(h, 8);
            sector = i64(h, 16);
            bytes = i32(h, 24);
            action = i32(h, 28);
            device = i32(h, 36);
            int pdu = swapped ? Short.reverseBytes((short) ((h[46] & 0xff) << 8 | (h[47] & 0xff))) & 0xffff
                    : ((h[46] & 0xff) << 8 | (h[47] & 0xff));
            if (in.skipBytes(pdu) != pdu) {
                throw new TraceFormatException(file, recordNo, "truncated payload (pdu_len " + pdu + ")");
            }
            return true;
        }
    }

    private final List<Stream> streams = new ArrayList<>();
    private final int wanted;
    private long first = Long.MIN_VALUE;
    private long count;
    private boolean primed;
    private int lastDevice = -1;
    private String lastDeviceName;

    BlktraceReader(List<InputStream> inputs, List<String> names, String action) {
        for (int i = 0; i < inputs.size(); i++) {
            streams.add(new Stream(inputs.get(i), names.get(i)));
        }
        this.wanted = action.equals("D") ? TA_ISSUE : TA_QUEUE;
    }

    @Override
    public String format() {
        return "blktrace";
    }

    @Override
    public boolean next(TraceRecord r) throws IOException, TraceFormatException {
        if (!primed) {
            for (Stream s : streams) {
                s.advance();
            }
            primed = true;
        }
        while (true) {
            Stream best = null;
            for (Stream s : streams) {
                if (!s.eof && (best == null || s.time < best.time)) {
                    best = s;
                }
            }
            if (best == null) {
                return false;
            }
            long time = best.time;
            long sector = best.sector;
            int bytes = best.bytes;
            int action = best.action;
            int device = best.device;
            long pos = best.recordNo;
            best.advance();
            count++;
            if ((action & TC_NOTIFY) != 0 || (action & 0xffff) != wanted) {
                continue;
            }
            int flags = 0;
            if ((action & TC_FLUSH) != 0) flags |= TraceRecord.PREFLUSH;
            if ((action & TC_FUA) != 0) flags |= TraceRecord.FUA;
            if ((action & TC_SYNC) != 0) flags |= TraceRecord.SYNC;
            if ((action & TC_META) != 0) flags |= TraceRecord.META;
            if ((action & TC_AHEAD) != 0) flags |= TraceRecord.AHEAD;
            TraceRecord.Op op;
            if ((action & TC_DISCARD) != 0) {
                op = TraceRecord.Op.DISCARD;
            } else if (bytes == 0) {
                if ((action & TC_FLUSH) == 0) {
                    continue;
                }
                op = TraceRecord.Op.FLUSH;
            } else if ((action & TC_WRITE) != 0) {
                op = TraceRecord.Op.WRITE;
            } else {
                op = TraceRecord.Op.READ;
            }
            if (first == Long.MIN_VALUE) {
                first = time;
            }
            if (sector < 0 || sector > Long.MAX_VALUE / 512) {
                throw new TraceFormatException(streams.size() == 1 ? streams.get(0).file : "blktrace", pos,
                        "sector " + Long.toUnsignedString(sector) + " out of range");
            }
            if (device != lastDevice || lastDeviceName == null) {
                lastDevice = device;
                lastDeviceName = (device >>> 20) + "," + (device & 0xfffff); // MAJOR,MINOR as blkparse prints it
            }
            r.set(time - first, op, sector * 512, bytes & 0xffffffffL, flags, lastDeviceName, pos);
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        for (Stream s : streams) {
            s.in.close();
        }
    }
}
