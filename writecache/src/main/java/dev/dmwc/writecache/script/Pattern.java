package dev.dmwc.writecache.script;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * PATTERN and DECODE of WCSCRIPT: the sector at absolute sector S written with tag T is 32
 * repetitions of 16 bytes, the tag right-padded with '.' to 8 bytes and S as a little-endian u64.
 * DECODE names each sector {@code T}, {@code T!} (another sector's pattern), {@code zero} or
 * {@code ?}, and merges adjacent equal kinds into {@code KIND@START+COUNT} runs.
 */
public final class Pattern {
    public static final int SECTOR = 512;

    private Pattern() {}

    /** Fill {@code n} sectors starting at sector {@code sector} with tag {@code tag}. */
    public static void fill(ByteBuffer buf, long sector, long n, String tag) {
        byte[] rec = new byte[16];
        java.util.Arrays.fill(rec, 0, 8, (byte) '.');
        byte[] t = tag.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, rec, 0, t.length);
        int p = buf.position();
        for (long i = 0; i < n; i++) {
            long s = sector + i;
            for (int b = 0; b < 8; b++) {
                rec[8 + b] = (byte) (s >>> (8 * b));
            }
            for (int r = 0; r < SECTOR / 16; r++) {
                buf.put(p, rec);
                p += 16;
            }
        }
    }

    /** The kind of one sector at absolute position {@code pos}. */
    static String classify(byte[] s, int off, long pos) {
        boolean zero = true;
        for (int i = 0; i < SECTOR; i++) {
            if (s[off + i] != 0) {
                zero = false;
                break;
            }
        }
        if (zero) {
            return "zero";
        }
        for (int r = 1; r < SECTOR / 16; r++) {
            for (int i = 0; i < 16; i++) {
                if (s[off + i] != s[off + r * 16 + i]) {
                    return "?";
                }
            }
        }
        for (int i = 0; i < 8; i++) {
            if (s[off + i] < 0x21 || s[off + i] > 0x7e) {
                return "?";
            }
        }
        int len = 8;
        while (len > 0 && s[off + len - 1] == '.') {
            len--;
        }
        if (len == 0) {
            return "?";
        }
        String tag = new String(s, off, len, StandardCharsets.US_ASCII);
        long embedded = 0;
        for (int i = 7; i >= 0; i--) {
            embedded = (embedded << 8) | (s[off + 8 + i] & 0xff);
        }
        return embedded != pos ? tag + "!" : tag;
    }

    /** DECODE of {@code n} sectors read at {@code sector}: " KIND@START+COUNT..." (leading blank). */
    public static String decode(byte[] buf, long sector, long n) {
        StringBuilder sb = new StringBuilder();
        String cur = null;
        long start = sector;
        long cnt = 0;
        for (long i = 0; i < n; i++) {
            String k = classify(buf, (int) (i * SECTOR), sector + i);
            if (cnt > 0 && k.equals(cur)) {
                cnt++;
                continue;
            }
            if (cnt > 0) {
                sb.append(' ').append(cur).append('@').append(start).append('+').append(cnt);
            }
            cur = k;
            start = sector + i;
            cnt = 1;
        }
        if (cnt > 0) {
            sb.append(' ').append(cur).append('@').append(start).append('+').append(cnt);
        }
        return sb.toString();
    }
}
