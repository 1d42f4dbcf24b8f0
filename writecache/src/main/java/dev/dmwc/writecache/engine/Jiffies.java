package dev.dmwc.writecache.engine;

/**
 * The kernel's clock as dm-writecache sees it: {@code jiffies} at Debian's {@code CONFIG_HZ=250}
 * (one jiffy is 4 ms), read off a {@link Scheduler}'s millisecond clock, and when a timer armed
 * with {@code mod_timer(jiffies + n)} runs.
 *
 * <p>The target keeps every time in jiffies: {@code max_age}, {@code autocommit_time} and {@code
 * pause_writeback} are turned into jiffies when the table is loaded ({@code msecs_to_jiffies},
 * which rounds up), entries are stamped with {@code jiffies}, and the {@code max_age} timer is
 * re-armed {@code max_age / 16} jiffies on: 15 jiffies for {@code max_age 1000}, not 62.5 ms.
 *
 * <p>A timer does not run at its expiry jiffy but at the bucket of the timer wheel that holds
 * it ({@code calc_wheel_index} in kernel/time/timer.c): the wheel rounds an expiry up to its
 * level's granularity and then one granule further, so a timer is never early. Level 0 (under 63
 * jiffies away) has a granularity of one jiffy, level 1 (under 504) of 8, each level after that 8
 * times the one before. On the oracle (ftrace of the 6.1 guest) a {@code max_age 1000} timer
 * runs every 64 ms, 16 jiffies, and the pause loop's one-second sleep ends after 1,004–1,032 ms.
 */
public final class Jiffies {
    /** Debian 12's {@code CONFIG_HZ}. */
    public static final int HZ = 250;
    /** Milliseconds per jiffy. */
    public static final int MS_PER_JIFFY = 1000 / HZ;

    private static final int LVL_CLK_SHIFT = 3;
    private static final int LVL_BITS = 6;
    private static final int LVL_DEPTH = 9;

    private Jiffies() {
    }

    /** {@code msecs_to_jiffies}: rounds up, so a nonzero time is at least one jiffy. */
    public static long fromMillis(long ms) {
        return (ms + MS_PER_JIFFY - 1) / MS_PER_JIFFY;
    }

    /** {@code jiffies} at a scheduler time of {@code nowMs}. */
    public static long at(long nowMs) {
        return Math.floorDiv(nowMs, MS_PER_JIFFY);
    }

    /** {@code LVL_START(n)}: the first distance, in jiffies, that goes into wheel level {@code n}. */
    private static long levelStart(int n) {
        return ((1L << LVL_BITS) - 1) << ((n - 1) * LVL_CLK_SHIFT);
    }

    /**
     * The jiffy at which a timer armed at {@code clk} with expiry {@code expires} runs: the expiry
     * rounded up to its level's granularity, plus one granule ({@code calc_index}); an expiry
     * already passed runs at the next jiffy.
     */
    static long bucketExpiry(long clk, long expires) {
        long delta = expires - clk;
        if (delta < 0) {
            expires = clk;
            delta = 0;
        }
        int lvl = 0;
        while (lvl < LVL_DEPTH - 1 && delta >= levelStart(lvl + 1)) {
            lvl++;
        }
        int shift = lvl * LVL_CLK_SHIFT;
        return ((expires >> shift) + 1) << shift;
    }

    /**
     * Milliseconds from {@code nowMs} until a timer armed now with {@code mod_timer(jiffies + n)}
     * runs: at the tick that brings {@code jiffies} to its bucket's expiry.
     */
    public static long timerDelayMs(long nowMs, long n) {
        long clk = at(nowMs);
        return bucketExpiry(clk, clk + n) * MS_PER_JIFFY - nowMs;
    }
}
