package dev.dmwc.writecache.bench;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Zipf-distributed ranks 0..n-1 (rank k drawn with probability proportional to 1/(k+1)^s), by
 * inverting a precomputed CDF; ranks are then scattered over the range by a fixed permutation
 * so the hot set is not one contiguous run (as fio's {@code random_distribution=zipf:s}).
 */
public final class Zipf {
    private final double[] cdf;
    private final long n;
    private final long stride;

    /** {@code n} items, exponent {@code s} (fio's zipf:1.2 is s = 1.2); at most 2^26 distinct ranks are tabulated. */
    public Zipf(long n, double s) {
        if (n <= 0 || s <= 0) {
            throw new IllegalArgumentException("zipf needs n > 0 and s > 0");
        }
        this.n = n;
        int m = (int) Math.min(n, 1 << 26);
        cdf = new double[m];
        double sum = 0;
        for (int k = 0; k < m; k++) {
            sum += Math.pow(k + 1, -s);
            cdf[k] = sum;
        }
        for (int k = 0; k < m; k++) {
            cdf[k] /= sum;
        }
        long st = (long) (n * 0.6180339887) | 1;
        while (gcd(st, n) != 1) {
            st += 2;
        }
        stride = st % n == 0 ? 1 : st;
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** A rank, 0 the most popular. */
    public long rank(SplittableRandom r) {
        int i = Arrays.binarySearch(cdf, r.nextDouble());
        return i >= 0 ? i : Math.min(-i - 1, cdf.length - 1);
    }

    /** An item: the rank scattered over 0..n-1. */
    public long next(SplittableRandom r) {
        return Math.floorMod(rank(r) * stride, n);
    }
}
