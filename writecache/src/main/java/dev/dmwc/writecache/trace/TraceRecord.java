package dev.dmwc.writecache.trace;

/**
 * One block request of a trace. Mutable and reused by readers (a trace may hold billions).
 * Offsets and lengths are bytes; {@code timeNs} is since the trace's first record (-1: the format
 * has no time).
 */
public final class TraceRecord {
    public enum Op { READ, WRITE, DISCARD, FLUSH }

    public static final int PREFLUSH = 1;
    public static final int FUA = 2;
    public static final int SYNC = 4;
    public static final int META = 8;
    public static final int AHEAD = 16;

    public long timeNs = -1;
    public Op op;
    public long offset;
    public long length;
    public int flags;
    /** Volume / device id for multi-volume traces (null: one volume). */
    public String volume;
    /** Where it came from: line number (text) or record number (binary), for messages. */
    public long position;

    public TraceRecord set(long timeNs, Op op, long offset, long length, int flags, String volume, long position) {
        this.timeNs = timeNs;
        this.op = op;
        this.offset = offset;
        this.length = length;
        this.flags = flags;
        this.volume = volume;
        this.position = position;
        return this;
    }

    public TraceRecord copy() {
        return new TraceRecord().set(timeNs, op, offset, length, flags, volume, position);
    }

    public boolean has(int flag) {
        return (flags & flag) != 0;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        if (timeNs >= 0) {
            sb.append(String.format("%d.%09d ", timeNs / 1_000_000_000L, timeNs % 1_000_000_000L));
        }
        sb.append(op);
        if (has(PREFLUSH)) sb.append("+PREFLUSH");
        if (has(FUA)) sb.append("+FUA");
        if (op != Op.FLUSH) {
            sb.append(' ').append(offset).append('+').append(length);
        }
        if (volume != null) {
            sb.append(" vol=").append(volume);
        }
        return sb.toString();
    }
}
