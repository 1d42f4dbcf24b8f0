package dev.dmwc.writecache.script;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed, validated and normalised WCSCRIPT (the rules of {@code runscript.sh}): comments
 * stripped, blanks collapsed, device declarations first, {@code --mode} applied to devices and
 * {@code table} modes.
 */
public final class WcScript {
    /** A script error: file, line, what. */
    public static final class ScriptException extends Exception {
        private static final long serialVersionUID = 1L;

        ScriptException(String file, int line, String what, String text) {
            super(file + ":" + line + ": " + what + ": " + text);
        }
    }

    public final long originBytes;
    /** ssd cache size, or -1. */
    public final long cacheBytes;
    /** pmem (NVDIMM) size, or -1. */
    public final long pmemBytes;
    /** Normalised ops after the device declarations (each a token list). */
    public final List<List<String>> ops;
    /** The normalised lines, device declarations included. */
    public final List<String> lines;

    private WcScript(long originBytes, long cacheBytes, long pmemBytes, List<List<String>> ops, List<String> lines) {
        this.originBytes = originBytes;
        this.cacheBytes = cacheBytes;
        this.pmemBytes = pmemBytes;
        this.ops = ops;
        this.lines = lines;
    }

    public static WcScript parse(Path file, String mode) throws IOException, ScriptException {
        return parse(file.toString(), readLines(file), mode);
    }

    /**
     * The lines of a script file, gunzipped when it is gzip ({@code trace convert} writes {@code
     * .wcs.gz}); a file that is not UTF-8 text is refused naming its line.
     */
    static List<String> readLines(Path file) throws IOException, ScriptException {
        byte[] b = Files.readAllBytes(file);
        if (b.length >= 2 && (b[0] & 0xff) == 0x1f && (b[1] & 0xff) == 0x8b) {
            try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(b))) {
                b = in.readAllBytes();
            } catch (java.util.zip.ZipException | java.io.EOFException e) {
                throw new ScriptException(file.toString(), 1, "a gzip file that does not unpack", String.valueOf(e.getMessage()));
            }
        }
        var decoder = java.nio.charset.StandardCharsets.UTF_8.newDecoder(); // strict: a bad byte is an error, not U+FFFD
        List<String> lines = new ArrayList<>();
        for (int from = 0, i = 0; i <= b.length; i++) {
            if (i < b.length && b[i] != '\n' || i == b.length && from == i) {
                continue;
            }
            int end = i > from && b[i - 1] == '\r' ? i - 1 : i;
            try {
                lines.add(decoder.decode(java.nio.ByteBuffer.wrap(b, from, end - from)).toString());
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new ScriptException(file.toString(), lines.size() + 1, "not a text script", "a byte that is not UTF-8");
            }
            from = i + 1;
        }
        return lines;
    }

    static long bytes(String s) {
        if (!s.matches("[0-9]+[KMG]?")) {
            return -1;
        }
        char u = s.charAt(s.length() - 1);
        long mul = u == 'K' ? 1024 : u == 'M' ? 1 << 20 : u == 'G' ? 1L << 30 : 1;
        String num = Character.isDigit(u) ? s : s.substring(0, s.length() - 1);
        try {
            return Math.multiplyExact(Long.parseLong(num), mul);
        } catch (ArithmeticException | NumberFormatException e) {
            return -1;
        }
    }

    static String fmt(long b) {
        if (b % (1 << 20) == 0) {
            return (b >> 20) + "M";
        }
        if (b % 1024 == 0) {
            return (b >> 10) + "K";
        }
        return Long.toString(b);
    }

    private static boolean isNum(String s) {
        return s.matches("[0-9]+") && s.length() < 19;
    }

    /**
     * The most sectors one read, write or dump moves: the kernel's MAX_RW_COUNT (2 GiB - 4 KiB),
     * the most one read or write system call transfers. dmwc's runner holds a request in one buffer.
     * A discard is bounded the same: the runner sends it as one bio, whose length is an int of bytes
     * (the kernel's BLKDISCARD splits a longer one into bios at limits of the stacked devices that
     * dmwc does not model, and each bio counts in the discard statistic).
     */
    static final long MAX_NSECT = 4_194_296;

    private static boolean nsectOk(String s) {
        return isNum(s) && Long.parseLong(s) >= 1 && Long.parseLong(s) <= MAX_NSECT;
    }

    public static WcScript parse(String name, List<String> input, String mode) throws ScriptException {
        Map<String, Long> dev = new LinkedHashMap<>();
        List<List<String>> ops = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        boolean started = false;
        long origin = -1;
        long cache = -1;
        long pmem = -1;
        int lineNo = 0;
        for (String raw : input) {
            lineNo++;
            List<String> a = new ArrayList<>();
            for (String tok : raw.trim().split("[ \\t]+")) {
                if (tok.isEmpty()) {
                    continue;
                }
                if (tok.startsWith("#")) {
                    break;
                }
                a.add(tok);
            }
            if (a.isEmpty()) {
                continue;
            }
            String line = String.join(" ", a);
            String op = a.get(0);
            int n = a.size();
            if (op.equals("origin") || op.equals("cache") || op.equals("pmem")) {
                if (started) {
                    throw new ScriptException(name, lineNo, "device declarations must come first", line);
                }
                if (n != 2) {
                    throw new ScriptException(name, lineNo, "usage: " + op + " SIZE", line);
                }
                long b = bytes(a.get(1));
                if (b < 0) {
                    throw new ScriptException(name, lineNo, "bad size", line);
                }
                if (dev.containsKey(op)) {
                    throw new ScriptException(name, lineNo, "duplicate " + op, line);
                }
                if (op.equals("pmem") && (b % (16 << 20) != 0 || b < (16 << 20))) {
                    throw new ScriptException(name, lineNo, "pmem SIZE must be a multiple of 16M (the NVDIMM region alignment)", line);
                }
                if (!op.equals("pmem") && (b % 4096 != 0 || b == 0)) {
                    throw new ScriptException(name, lineNo, op + " SIZE must be a positive multiple of 4K", line);
                }
                dev.put(op, b);
                continue;
            }
            if (!started) {
                if (!dev.containsKey("origin")) {
                    throw new ScriptException(name, lineNo, "no origin declared", line);
                }
                if (dev.containsKey("cache") == dev.containsKey("pmem")) {
                    throw new ScriptException(name, lineNo, "declare exactly one of cache / pmem", line);
                }
                if ("p".equals(mode) && dev.containsKey("cache")) {
                    long b = dev.remove("cache") + (2 << 20);
                    dev.put("pmem", (b + (16 << 20) - 1) / (16 << 20) * (16 << 20));
                }
                if ("s".equals(mode) && dev.containsKey("pmem")) {
                    dev.put("cache", dev.remove("pmem") - (2 << 20));
                }
                origin = dev.get("origin");
                lines.add("origin " + fmt(origin));
                if (dev.containsKey("cache")) {
                    cache = dev.get("cache");
                    lines.add("cache " + fmt(cache));
                } else {
                    pmem = dev.get("pmem");
                    lines.add("pmem " + fmt(pmem));
                }
                started = true;
            }
            String defmode = cache >= 0 ? "s" : "p";
            switch (op) {
                case "table":
                    if (n < 4) {
                        throw new ScriptException(name, lineNo, "usage: table MODE BLOCK_SIZE NFEAT [FEATURE ...]", line);
                    }
                    if (a.get(1).equals("@") || (mode != null && a.get(1).matches("[spSP]"))) {
                        a.set(1, mode != null ? mode : defmode);
                        line = String.join(" ", a);
                    }
                    break;
                case "create": case "remove": case "reload": case "suspend": case "resume":
                case "flush": case "status": case "settle": case "crash":
                    if (n != 1) {
                        throw new ScriptException(name, lineNo, op + " takes no arguments", line);
                    }
                    break;
                case "write":
                    if (n != 4 && n != 5) {
                        throw new ScriptException(name, lineNo, "usage: write SECTOR NSECT TAG [fua]", line);
                    }
                    if (!isNum(a.get(1)) || !nsectOk(a.get(2))) {
                        throw new ScriptException(name, lineNo, "bad SECTOR/NSECT (NSECT 1.." + MAX_NSECT + ")", line);
                    }
                    if (a.get(3).length() > 8 || !a.get(3).matches("[!-~]+")) {
                        throw new ScriptException(name, lineNo, "TAG must be 1-8 printable ASCII characters", line);
                    }
                    if (n == 5 && !a.get(4).equals("fua")) {
                        throw new ScriptException(name, lineNo, "only fua may follow the tag", line);
                    }
                    break;
                case "read": case "discard":
                    if (n != 3 || !isNum(a.get(1)) || !nsectOk(a.get(2))) {
                        throw new ScriptException(name, lineNo, "usage: " + op + " SECTOR NSECT (NSECT 1.." + MAX_NSECT + ")", line);
                    }
                    break;
                case "dump":
                    if (n != 4 || !(a.get(1).equals("origin") || a.get(1).equals("cache")) || !isNum(a.get(2))
                            || !nsectOk(a.get(3))) {
                        throw new ScriptException(name, lineNo, "usage: dump origin|cache SECTOR NSECT (NSECT 1.." + MAX_NSECT
                                + ")", line);
                    }
                    break;
                case "message":
                    if (n < 2) {
                        throw new ScriptException(name, lineNo, "usage: message TEXT", line);
                    }
                    break;
                case "sleep":
                    if (n != 2 || !isNum(a.get(1)) || Long.parseLong(a.get(1)) > 600000) {
                        throw new ScriptException(name, lineNo, "usage: sleep MS (<= 600000)", line);
                    }
                    break;
                default:
                    throw new ScriptException(name, lineNo, "unknown op", line);
            }
            ops.add(a);
            lines.add(line);
        }
        if (!started) {
            throw new ScriptException(name, lineNo, "no ops", "");
        }
        return new WcScript(origin, cache, pmem, ops, lines);
    }
}
