package dev.dmwc.writecache.trace;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/** Opening traces: gzip by magic, the format detected from the first bytes or forced. */
public final class Traces {
    private Traces() {}

    /** The formats {@code --format} accepts. */
    public static final List<String> FORMATS =
            List.of("blkparse", "blktrace", "fio2", "fio3", "msr", "spc", "alibaba", "tencent", "csv:…");

    /** How to read: format (null = detect), which blkparse/blktrace events (Q or D). */
    public record Options(String format, String events) {
        public Options {
            if (events == null) {
                events = "Q";
            }
            if (!events.equals("Q") && !events.equals("D")) {
                throw new IllegalArgumentException("--events must be Q (bios as queued) or D (requests as issued), not '"
                        + events + "'");
            }
        }

        public static Options defaults() {
            return new Options(null, "Q");
        }
    }

    private static final Pattern PER_CPU = Pattern.compile("(.*\\.blktrace\\.)(\\d+)(\\.gz)?");

    /**
     * Trace files read once and kept in memory, decompressed, for readers opened again on the same
     * files ({@code replay --loops}: every pass would inflate the same gzip again, which was the
     * largest single cost of a pass). A file that would take the held bytes past {@link #limit}, or one
     * that fails to read whole, is streamed from disk as without a memo (and fails there, with its
     * position). The limit is on all the files a memo holds together (a blktrace has one per CPU).
     */
    public static final class Memo {
        private final long limit;
        private final Map<Path, byte[]> files = new HashMap<>();
        private final Set<Path> streamed = new HashSet<>();
        private final Map<Path, String> formats = new HashMap<>();

        public Memo(long limit) {
            this.limit = limit;
        }

        /** The 256 MiB default. */
        public Memo() {
            this(256L << 20);
        }

        /** How many files are held, and their bytes (for reports and tests). */
        public long heldBytes() {
            return files.values().stream().mapToLong(b -> b.length).sum();
        }

        /** {@link Traces#detect}, once per file (a pass of a looped trace would inflate its head again). */
        String detect(Path p) throws IOException, TraceFormatException {
            Path k = p.toAbsolutePath().normalize();
            String f = formats.get(k);
            if (f == null) {
                f = Traces.detect(p);
                formats.put(k, f);
            }
            return f;
        }

        InputStream open(Path p) throws IOException {
            Path k = p.toAbsolutePath().normalize();
            byte[] b = files.get(k);
            if (b == null && !streamed.contains(k)) {
                b = readWhole(p);
                if (b == null) {
                    streamed.add(k);
                } else {
                    files.put(k, b);
                }
            }
            return b != null ? new java.io.ByteArrayInputStream(b) : Traces.open(p);
        }

        private byte[] readWhole(Path p) {
            long room = limit - heldBytes();
            try {
                if (Files.size(p) > room) {
                    return null; // even compressed it does not fit: do not inflate it just to find out
                }
            } catch (IOException e) {
                return null;
            }
            try (InputStream in = Traces.open(p)) {
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0;) {
                    out.write(buf, 0, n);
                    if (out.size() > room) {
                        return null;
                    }
                }
                return out.toByteArray();
            } catch (IOException e) {
                return null; // the streaming reader reports it, where it happens
            }
        }
    }

    /** The scratch copy of standard input that stands for a trace named '-', if any; shown as "stdin". */
    private static volatile Path stdinCopy;

    /** Records the file that holds standard input's trace (the CLI makes it), so that reports and errors say "stdin". */
    public static void stdinCopy(Path copy) {
        stdinCopy = copy;
    }

    /** How a trace file is named to the user: "stdin" for the copy of standard input, else its path. */
    public static String shown(Path p) {
        return p.equals(stdinCopy) ? "stdin" : p.toString();
    }

    /** {@code text} (a message naming trace files) with the copy of standard input named "stdin". */
    public static String shown(String text) {
        Path c = stdinCopy;
        return c == null || text == null ? text : text.replace(c.toString(), "stdin");
    }

    /**
     * The trace file a user named: {@code given} itself when it is a file; for a directory (as
     * {@code blktrace -D DIR} leaves one), its per-CPU blktrace files ({@code NAME.blktrace.N}, merged
     * when opened) when they are of one device. Anything else is refused with what was found, as an
     * {@link IllegalArgumentException} whose message names the path.
     */
    public static Path resolve(Path given) throws IOException {
        if (Files.isRegularFile(given)) {
            if (!Files.isReadable(given)) {
                throw new IllegalArgumentException("cannot read trace file " + given + ": permission denied");
            }
            return given;
        }
        if (!Files.isDirectory(given)) {
            throw new IllegalArgumentException("no such trace file: " + given);
        }
        java.util.TreeMap<String, Path> firstCpu = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.list(given)) {
            s.filter(Files::isRegularFile).sorted().forEach(f -> {
                Matcher m = PER_CPU.matcher(f.getFileName().toString());
                if (m.matches()) {
                    firstCpu.merge(m.group(1), f, (a, b) -> cpu(a) <= cpu(b) ? a : b);
                }
            });
        }
        if (firstCpu.size() == 1) {
            return firstCpu.firstEntry().getValue();
        }
        if (firstCpu.isEmpty()) {
            throw new IllegalArgumentException(given + " is a directory with no blktrace per-CPU files (NAME.blktrace.N) "
                    + "in it: name the trace file");
        }
        StringBuilder sets = new StringBuilder();
        for (String prefix : firstCpu.keySet()) {
            sets.append(sets.length() == 0 ? "" : ", ").append(prefix).append('*');
        }
        throw new IllegalArgumentException(given + " holds blktrace files of " + firstCpu.size() + " devices (" + sets
                + "): name one of them, e.g. " + firstCpu.firstEntry().getValue());
    }

    /** Open {@code path} (plain or .gz). For blktrace per-CPU files, all CPUs are merged. */
    public static TraceReader open(Path path, Options opt) throws IOException, TraceFormatException {
        return open(path, opt, null);
    }

    /**
     * {@link #open(Path, Options)}, the files' bytes taken from {@code memo} when given. Every
     * reader's records are checked here for a range a long can hold: a record whose end passes
     * 2^63 bytes is a malformed line (a fio log's "write 9223372036854775807 4096" passed the
     * readers, and its end wrapped to a negative extent).
     */
    public static TraceReader open(Path path, Options opt, Memo memo) throws IOException, TraceFormatException {
        if (!Files.isRegularFile(path)) {
            throw new IOException("no such trace file: " + path);
        }
        String format = opt.format() != null ? opt.format() : memo != null ? memo.detect(path) : detect(path);
        return new RangeChecked(openReader(path, opt, memo, format), path.toString());
    }

    /**
     * Several trace files read as one trace, in the order given: each file's records after the
     * previous file's, its times (which start at 0 in every file) shifted to continue from the last
     * time before it. Each file is detected and read as it would be alone; one file is
     * {@link #open(Path, Options, Memo)}.
     */
    public static TraceReader open(List<Path> paths, Options opt, Memo memo) throws IOException, TraceFormatException {
        if (paths.isEmpty()) {
            throw new IllegalArgumentException("no trace file");
        }
        if (opt.events().equals("D")) { // not the default: asked for, it must apply to some file
            List<String> found = new ArrayList<>();
            for (Path p : paths) {
                if (Files.isRegularFile(p)) { // a missing file is named by the open below
                    found.add(opt.format() != null ? opt.format() : memo != null ? memo.detect(p) : detect(p));
                }
            }
            if (!found.isEmpty() && !found.contains("blkparse") && !found.contains("blktrace")) {
                throw new IllegalArgumentException("--events D: only blkparse and blktrace traces record dispatches (D); this trace is "
                        + String.join("+", new java.util.LinkedHashSet<>(found)));
            }
        }
        if (paths.size() == 1) {
            return open(paths.get(0), opt, memo);
        }
        Set<String> formats = new java.util.LinkedHashSet<>();
        for (Path p : paths) {
            if (!Files.isRegularFile(p)) {
                throw new IOException("no such trace file: " + p);
            }
            formats.add(opt.format() != null ? opt.format() : memo != null ? memo.detect(p) : detect(p));
        }
        return new Concatenated(List.copyOf(paths), opt, memo, String.join("+", formats));
    }

    /** See {@link #open(List, Options, Memo)}: the next file is opened when the one before ends. */
    private static final class Concatenated implements TraceReader {
        private final List<Path> paths;
        private final Options opt;
        private final Memo memo;
        private final String format;
        private int next;
        private TraceReader in;
        private long offsetNs;
        private long lastNs;

        Concatenated(List<Path> paths, Options opt, Memo memo, String format) {
            this.paths = paths;
            this.opt = opt;
            this.memo = memo;
            this.format = format;
        }

        @Override
        public boolean next(TraceRecord r) throws IOException, TraceFormatException {
            while (true) {
                if (in == null) {
                    if (next == paths.size()) {
                        return false;
                    }
                    in = open(paths.get(next++), opt, memo);
                    offsetNs = lastNs;
                }
                if (in.next(r)) {
                    if (r.timeNs >= 0) {
                        r.timeNs += offsetNs;
                        lastNs = Math.max(lastNs, r.timeNs);
                    }
                    return true;
                }
                in.close();
                in = null;
            }
        }

        @Override
        public String format() {
            return format;
        }

        @Override
        public void close() throws IOException {
            if (in != null) {
                in.close();
                in = null;
            }
        }
    }

    /** A reader whose records' ranges are checked: see {@link #open(Path, Options, Memo)}. */
    private static final class RangeChecked extends ForwardingTraceReader {
        private final String name;

        RangeChecked(TraceReader in, String name) {
            super(in);
            this.name = name;
        }

        @Override
        public boolean next(TraceRecord r) throws IOException, TraceFormatException {
            if (!in.next(r)) {
                return false;
            }
            if (r.length < 0 || r.offset < 0) {
                throw new TraceFormatException(name, r.position, "negative offset " + r.offset + " or length " + r.length);
            }
            if (r.offset > Long.MAX_VALUE - r.length) {
                throw new TraceFormatException(name, r.position, "offset " + r.offset + " + length " + r.length
                        + " reaches past the largest device (2^63 bytes)");
            }
            return true;
        }
    }

    private static TraceReader openReader(Path path, Options opt, Memo memo, String format) throws IOException, TraceFormatException {
        String name = path.toString();
        switch (format) {
            case "blktrace" -> {
                List<Path> files = perCpuSiblings(path);
                List<InputStream> ins = new ArrayList<>();
                List<String> names = new ArrayList<>();
                for (Path f : files) {
                    ins.add(memo != null ? memo.open(f) : new BufferedInputStream(open(f), 1 << 16));
                    names.add(f.toString());
                }
                return new BlktraceReader(ins, names, opt.events());
            }
            case "blkparse" -> {
                return new BlkparseReader(text(path, memo), name, opt.events());
            }
            case "fio2" -> {
                return new FioIologReader(text(path, memo), name, 2);
            }
            case "fio3" -> {
                return new FioIologReader(text(path, memo), name, 3);
            }
            case "msr" -> {
                return new CsvTraceReader(text(path, memo), name, CsvLayout.MSR);
            }
            case "spc" -> {
                return new CsvTraceReader(text(path, memo), name, CsvLayout.SPC);
            }
            case "alibaba" -> {
                return new CsvTraceReader(text(path, memo), name, CsvLayout.ALIBABA);
            }
            case "tencent" -> {
                return new CsvTraceReader(text(path, memo), name, CsvLayout.TENCENT);
            }
            default -> {
                if (format.equals("csv") || format.startsWith("csv:")) {
                    return new CsvTraceReader(text(path, memo), name, CsvLayout.parse(format));
                }
                throw new IllegalArgumentException("unknown trace format '" + format + "' (known: " + String.join(", ", FORMATS) + ")");
            }
        }
    }

    /** The stream, gunzipped if it starts with the gzip magic. */
    static InputStream open(Path p) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(p), 1 << 16);
        raw.mark(2);
        int a = raw.read();
        int b = raw.read();
        raw.reset();
        if (a == 0x1f && b == 0x8b) {
            return new TruncationReportingStream(new GZIPInputStream(raw, 1 << 16), p.toString());
        }
        return raw;
    }

    /** A text trace: the readers split lines themselves, from bytes. */
    private static InputStream text(Path p, Memo memo) throws IOException {
        return memo != null ? memo.open(p) : open(p);
    }

    /** {@code X.blktrace.N[.gz]}: every CPU's file of the same trace, in CPU order. */
    static List<Path> perCpuSiblings(Path path) throws IOException {
        Matcher m = PER_CPU.matcher(path.getFileName().toString());
        if (!m.matches()) {
            return List.of(path);
        }
        Path dir = path.toAbsolutePath().getParent();
        String prefix = m.group(1);
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(f -> {
                Matcher k = PER_CPU.matcher(f.getFileName().toString());
                return k.matches() && k.group(1).equals(prefix);
            }).sorted((x, y) -> Integer.compare(cpu(x), cpu(y))).forEach(out::add);
        }
        return out;
    }

    private static int cpu(Path p) {
        Matcher m = PER_CPU.matcher(p.getFileName().toString());
        return m.matches() ? Integer.parseInt(m.group(2)) : 0;
    }

    /** Tell the format from the first bytes; a clear error when nothing fits. */
    public static String detect(Path path) throws IOException, TraceFormatException {
        byte[] head;
        try (InputStream in = open(path)) {
            head = in.readNBytes(16384);
        }
        if (head.length >= 4) {
            int be = (head[0] & 0xff) << 24 | (head[1] & 0xff) << 16 | (head[2] & 0xff) << 8 | (head[3] & 0xff);
            if ((be & 0xffffff00) == BlktraceReader.MAGIC || (Integer.reverseBytes(be) & 0xffffff00) == BlktraceReader.MAGIC) {
                return "blktrace";
            }
        }
        String text = new String(head, StandardCharsets.ISO_8859_1);
        for (int i = 0; i < Math.min(head.length, 4096); i++) {
            int c = head[i] & 0xff;
            if (c == 0 || (c < 9) || (c > 13 && c < 32)) {
                throw new TraceFormatException(path.toString(), 1,
                        "binary data that is not a blktrace record (no blktrace magic); name the format with --format");
            }
        }
        String[] lines = text.split("\n");
        String first = "";
        for (String l : lines) {
            if (!l.isBlank() && !l.startsWith("#")) {
                first = l.trim();
                break;
            }
        }
        if (first.isEmpty()) {
            throw new TraceFormatException(path.toString(), 1, head.length == 0 ? "the trace is empty"
                    : "no trace records in the first " + head.length + " bytes (only blank or # lines)");
        }
        if (first.equals("fio version 2 iolog")) {
            return "fio2";
        }
        if (first.equals("fio version 3 iolog")) {
            return "fio3";
        }
        if (BlkparseReader.isEventLine(first.split("\\s+"))) {
            return "blkparse";
        }
        // CSV families: look at a data line (the second one if the first is a header)
        String data = first;
        if (!first.isEmpty() && !Character.isDigit(first.charAt(0)) && lines.length > 1) {
            data = lines[1].trim();
        }
        String[] f = data.split(",", -1);
        for (int i = 0; i < f.length; i++) {
            f[i] = f[i].trim();
        }
        if (f.length == 7 && f[3].toLowerCase(Locale.ROOT).matches("read|write")) {
            return "msr";
        }
        if (f.length == 5 && f[1].matches("[RWrw]") && f[0].matches("\\d+") && f[4].matches("\\d+")) {
            return "alibaba";
        }
        if (f.length == 5 && f[3].matches("[01]") && f[0].matches("\\d+") && f[1].matches("\\d+")) {
            return "tencent";
        }
        if (f.length >= 5 && f[3].matches("[RWrw]") && f[1].matches("\\d+")) {
            return "spc";
        }
        throw new TraceFormatException(path.toString(), 1, "cannot tell the trace format from '"
                + (first.length() > 80 ? first.substring(0, 80) + "…" : first) + "'; name it with --format ("
                + String.join(", ", FORMATS) + ")");
    }

    /** Turns a gzip stream that ends early into an error that says so. */
    static final class TruncationReportingStream extends java.io.FilterInputStream {
        private final String file;

        TruncationReportingStream(InputStream in, String file) {
            super(in);
            this.file = file;
        }

        private IOException truncated(IOException e) {
            return new IOException(file + ": truncated or corrupt gzip data (" + e.getMessage() + ")", e);
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (java.io.EOFException | java.util.zip.ZipException e) {
                throw truncated(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (java.io.EOFException | java.util.zip.ZipException e) {
                throw truncated(e);
            }
        }
    }
}
