package dev.dmwc.writecache.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The fio reader's one-pass path for the common line against its general path: on the real logs
 * and on generated lines full of the cases the one pass must hand over (odd blanks, long and
 * overflowing numbers, zero lengths, look-alike actions, CRLF, other actions, garbage), the same
 * records, positions and volumes, and the same errors at the same lines.
 */
class FioFastPathProperties {
    static final Path TRACES = Path.of("..", "test-data", "traces");

    /** Every record as text, and the error (with its file:line) a reader stops at, if any. */
    static List<String> read(byte[] log, int version, boolean fast) {
        List<String> out = new ArrayList<>();
        try (FioIologReader in = new FioIologReader(new ByteArrayInputStream(log), "t.iolog", version, fast)) {
            TraceRecord r = new TraceRecord();
            while (in.next(r)) {
                out.add(r.position + " " + r.timeNs + " " + r.op + " " + r.offset + " " + r.length + " " + r.flags + " " + r.volume);
            }
        } catch (Exception e) {
            out.add("error: " + e.getMessage());
        }
        return out;
    }

    @Property(tries = 300)
    void bothPathsAgreeOnGeneratedLogs(@ForAll("lines") List<String> lines, @ForAll @IntRange(min = 2, max = 3) int version,
            @ForAll boolean finalNewline) {
        // without a final newline the last line ends at the end of the input, before stale buffer bytes
        String log = "fio version " + version + " iolog\n" + String.join("\n", lines) + (finalNewline ? "\n" : "");
        byte[] b = log.getBytes(StandardCharsets.UTF_8);
        assertEquals(read(b, version, false), read(b, version, true), log);
    }

    @Property(tries = 6)
    void bothPathsAgreeOnTheRealLogs(@ForAll("realLogs") String file) throws Exception {
        byte[] b;
        try (InputStream in = Traces.open(TRACES.resolve(file))) {
            b = in.readAllBytes();
        }
        int version = file.contains(".v3.") ? 3 : 2;
        List<String> general = read(b, version, false);
        assertEquals(general, read(b, version, true));
        assertEquals(false, general.isEmpty() || general.get(general.size() - 1).startsWith("error"), file + " reads whole");
    }

    /** The eight-bytes-a-step newline search against a byte-a-step one, at every alignment and with bytes around '\n'. */
    @Property(tries = 2000)
    void newlineSearchFindsTheFirstNewline(@ForAll("bytes") byte[] b, @ForAll @IntRange(min = 0, max = 70) int from,
            @ForAll @IntRange(min = 0, max = 70) int to) {
        int f = Math.min(from, b.length);
        int t = Math.max(f, Math.min(to, b.length));
        int want = -1;
        for (int i = f; i < t; i++) {
            if (b[i] == '\n') {
                want = i;
                break;
            }
        }
        assertEquals(want, LineReader.newline(b, f, t));
    }

    /**
     * A last line without a newline ends where the input does, and the read buffer holds older
     * lines' bytes past it (digits, here, at every offset): they are not the length's digits.
     */
    @net.jqwik.api.Example
    void theLastLineEndsAtTheEndOfTheInputNotAtStaleBufferBytes() {
        for (int pad = 0; pad < 40; pad++) { // every alignment against the 37-byte lines before it
            StringBuilder log = new StringBuilder("fio version 3 iolog\n");
            while (log.length() < 200_000) {
                log.append("1234567 f write 12345678901 123456789\n");
            }
            log.append("8 f").append("g".repeat(pad)).append(" write 1 2");
            byte[] b = log.toString().getBytes(StandardCharsets.US_ASCII);
            List<String> fast = read(b, 3, true);
            assertEquals(read(b, 3, false), fast);
            assertEquals(true, fast.get(fast.size() - 1).contains(" WRITE 1 2 "), fast.get(fast.size() - 1));
        }
    }

    /** The eight-digits-at-once decoding against a digit-at-a-time one, on words of digits and the bytes around them. */
    @Property(tries = 5000)
    void wordsOfDigitsDecodeAsOneAtATime(@ForAll("digitWords") byte[] w) {
        long word = java.nio.ByteBuffer.wrap(w).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        int n = 0;
        long v = 0;
        while (n < 8 && w[n] >= '0' && w[n] <= '9') {
            v = v * 10 + (w[n] - '0');
            n++;
        }
        assertEquals(n, FioIologReader.leadingDigits(word), java.util.Arrays.toString(w));
        if (n > 0) {
            assertEquals(v, FioIologReader.digitsValue(word, n), java.util.Arrays.toString(w));
        }
    }

    @Provide
    Arbitrary<byte[]> digitWords() {
        // digits, and the bytes a nibble test could mistake for them (':' to '?', '/', 0x39+0x80, 0xfa..0xff that carry)
        Arbitrary<Byte> b = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, Arbitraries.bytes().between((byte) '0', (byte) '9')),
                net.jqwik.api.Tuple.of(1, Arbitraries.of((byte) ':', (byte) '?', (byte) '/', (byte) ' ', (byte) 0xb9, (byte) 0xb0,
                        (byte) 0xfa, (byte) 0xff, (byte) 0x3a, (byte) 0x2f, (byte) 0x40, (byte) 0x0a, (byte) 0x0d, (byte) 0x00)),
                net.jqwik.api.Tuple.of(1, Arbitraries.bytes()));
        return b.array(byte[].class).ofSize(8);
    }

    @Provide
    Arbitrary<byte[]> bytes() {
        // mostly bytes one bit away from '\n' (and 0x8a, its high-bit twin), the cases a word-wise test could confuse
        return Arbitraries.bytes().withDistribution(net.jqwik.api.RandomDistribution.uniform())
                .injectDuplicates(0.3).edgeCases(c -> c.add((byte) 0x0a))
                .map(x -> x % 5 == 0 ? x : (byte) (0x0a ^ (1 << ((x & 0xff) % 8))))
                .array(byte[].class).ofMaxSize(70)
                .map(a -> {
                    for (int i = 0; i < a.length; i++) {
                        if ((a[i] & 7) == 3 && i % 9 == 4) {
                            a[i] = '\n';
                        }
                    }
                    return a;
                });
    }

    @Provide
    Arbitrary<String> realLogs() throws Exception {
        try (var files = Files.list(TRACES)) {
            return Arbitraries.of(files.map(p -> p.getFileName().toString()).filter(n -> n.contains("iolog")).sorted().toList());
        }
    }

    @Provide
    Arbitrary<List<String>> lines() {
        Arbitrary<String> number = Arbitraries.oneOf(
                Arbitraries.longs().between(0, 1L << 40).map(v -> Long.toString(v)),
                Arbitraries.of("0", "4096", "512", "999999999999999999", "1000000000000000000", "9223372036854775807",
                        "9223372036854775808", "99999999999999999999", "-4096", "+512", "12a", "", "0x10", "007"));
        Arbitrary<String> blank = Arbitraries.of(" ", " ", " ", "  ", "\t", " \t");
        Arbitrary<String> file = Arbitraries.of("/dev/vdb", "/tmp/tracecap-vdb.img", "a", "vol\u00e9", "f1", "f2");
        Arbitrary<String> action = Arbitraries.of("write", "read", "write", "read", "trim", "sync", "datasync", "add", "open",
                "close", "wait", "writes", "rea", "Write", "wri", "frobnicate");
        Arbitrary<String> tail = Arbitraries.of("", "", "", " ", "\r", " extra", "\t");
        Arbitrary<String> line = Combinators.combine(List.of(number, blank, file, blank, action, blank, number, blank, number, tail))
                .as(p -> String.join("", p));
        Arbitrary<String> odd = Arbitraries.of("", "   ", "x", "10 f", "10 f write", "10 f write 4096", "f write 0 4096",
                "\u0000\u0001 bin", "10 f wait 5", "10 f writes4096 512", "10 f reads0 4096", "f writex0 4096");
        Arbitrary<String> v2 = Combinators.combine(file, blank, action, blank, number, blank, number, tail).as(
                (f, b1, a, b2, o, b3, l, t) -> f + b1 + a + b2 + o + b3 + l + t);
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, line), net.jqwik.api.Tuple.of(3, v2), net.jqwik.api.Tuple.of(1, odd))
                .list().ofMinSize(1).ofMaxSize(40);
    }
}
