package dev.dmwc.writecache.cli;

import java.util.Locale;

/** "256M", "1G", "4096", "512K": bytes. */
final class Sizes {
    private Sizes() {}

    static long parse(String s, String option) {
        String t = s.trim().toUpperCase(Locale.ROOT);
        long mul = 1;
        if (t.endsWith("IB")) {
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("B")) {
            t = t.substring(0, t.length() - 1);
        }
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'K' -> mul = 1L << 10;
                case 'M' -> mul = 1L << 20;
                case 'G' -> mul = 1L << 30;
                case 'T' -> mul = 1L << 40;
                default -> { }
            }
            if (mul != 1) {
                t = t.substring(0, t.length() - 1);
            }
        }
        try {
            long v = Long.parseLong(t);
            if (v <= 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(v, mul);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new Main.UsageError(option + ": expected a positive size like 256M, 1G or 4096, not '" + s + "'");
        }
    }
}
