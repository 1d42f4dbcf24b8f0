package dev.dmwc.writecache.replay;

import java.util.BitSet;

/**
 * The 4 KiB pages of a sparse device file a replay can fill (and a trace's footprint, in
 * {@code trace stats}): a set over page numbers, so a trace that rewrites the same gigabyte a
 * hundred times counts one gigabyte. A 64 GiB extent takes a
 * 2 MiB set; pages past the set's reach (byte offsets of 8 TiB and more) are counted as bytes,
 * every time, which can only overestimate.
 */
public final class TouchedPages {
    static final int PAGE_SHIFT = 12;
    private static final long PAGE = 1L << PAGE_SHIFT;

    private final BitSet pages = new BitSet();
    private long beyondReach;

    /** Counts the pages under {@code [offset, offset + length)}. */
    public void add(long offset, long length) {
        if (length <= 0 || offset < 0) {
            return;
        }
        long first = offset >>> PAGE_SHIFT;
        long end = (offset + length + PAGE - 1) >>> PAGE_SHIFT;
        if (end > Integer.MAX_VALUE) {
            long inReach = Math.max(0, Integer.MAX_VALUE - first);
            beyondReach += (end - first - inReach) << PAGE_SHIFT;
            end = Math.min(end, Integer.MAX_VALUE);
        }
        if (first < end) {
            pages.set((int) first, (int) end);
        }
    }

    /** Bytes of the pages counted. */
    public long bytes() {
        return ((long) pages.cardinality() << PAGE_SHIFT) + beyondReach;
    }

    /** Bytes of the pages counted here or in {@code other} (pages in both count once). */
    public long bytesWith(TouchedPages other) {
        BitSet union = (BitSet) pages.clone();
        union.or(other.pages);
        return ((long) union.cardinality() << PAGE_SHIFT) + beyondReach + other.beyondReach;
    }
}
