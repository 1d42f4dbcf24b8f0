package dev.dmwc.writecache.trace;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Which column holds what, and in which unit. Presets for the public trace families
 * (reference.md §1.5–1.8) and the user's {@code --format csv:KEY=VALUE,…}:
 * {@code time=N[:s|ms|us|ns|filetime] offset=N[:bytes|sectors|blocks4096…] size=N[:…] op=N
 * volume=N[+M] delimiter=,|tab|space header=true|false read=CODE write=CODE} (columns are 1-based).
 */
public record CsvLayout(String name, String delimiter, boolean header, int timeCol, String timeUnit, int offsetCol,
        long offsetUnit, int sizeCol, long sizeUnit, int opCol, int[] volumeCols, String readCode, String writeCode) {

    /** MSR Cambridge: Timestamp(FILETIME),Hostname,DiskNumber,Type,Offset(bytes),Size(bytes),ResponseTime. */
    public static final CsvLayout MSR = new CsvLayout("msr", ",", false, 1, "filetime", 5, 1, 6, 1, 4, new int[] {2, 3}, null, null);
    /** SPC/UMass: ASU,LBA(512-byte blocks),Size(bytes),Opcode,Timestamp(s)[,...]. */
    public static final CsvLayout SPC = new CsvLayout("spc", ",", false, 5, "s", 2, 512, 3, 1, 4, new int[] {1}, null, null);
    /** Alibaba 2020: device_id,opcode,offset(bytes),length(bytes),timestamp(µs epoch). */
    public static final CsvLayout ALIBABA = new CsvLayout("alibaba", ",", false, 5, "us", 3, 1, 4, 1, 2, new int[] {1}, null, null);
    /** Tencent CBS: Timestamp(s),Offset(sectors),Size(sectors),IOType(0 read/1 write),VolumeID. */
    public static final CsvLayout TENCENT = new CsvLayout("tencent", ",", false, 1, "s", 2, 512, 3, 512, 4, new int[] {5}, "0", "1");

    public String delimiterRegex() {
        return delimiter.equals(" ") ? "\\s+" : java.util.regex.Pattern.quote(delimiter);
    }

    public int maxColumn() {
        int m = Math.max(Math.max(timeCol, offsetCol), Math.max(sizeCol, opCol));
        for (int v : volumeCols) {
            m = Math.max(m, v);
        }
        return m;
    }

    boolean numericOps() {
        return readCode != null;
    }

    String opsExpected() {
        return numericOps() ? readCode + " (read) or " + writeCode + " (write)" : "R/Read, W/Write, D/Trim or F/Flush";
    }

    public String describe() {
        return (timeCol > 0 ? "time in column " + timeCol + " (" + timeUnit + "), " : "") + "op in " + opCol + ", offset in "
                + offsetCol + " (×" + offsetUnit + " bytes), size in " + sizeCol + " (×" + sizeUnit + " bytes)";
    }

    /** Parse {@code csv:time=1:us,offset=3,size=4,op=2,volume=1}. */
    public static CsvLayout parse(String spec) {
        String body = spec.startsWith("csv:") ? spec.substring(4) : spec.equals("csv") ? "" : spec;
        Map<String, String> kv = new LinkedHashMap<>();
        // the delimiter itself may be ','; write it as delimiter=comma|tab|space|semicolon
        for (String part : body.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--format csv: expected KEY=VALUE, got '" + part + "'");
            }
            kv.put(part.substring(0, eq).trim().toLowerCase(Locale.ROOT), part.substring(eq + 1).trim());
        }
        for (String k : kv.keySet()) {
            if (!java.util.Set.of("time", "offset", "size", "op", "volume", "delimiter", "header", "read", "write").contains(k)) {
                throw new IllegalArgumentException("--format csv: unknown key '" + k
                        + "' (known: time, offset, size, op, volume, delimiter, header, read, write)");
            }
        }
        for (String k : new String[] {"offset", "size", "op"}) {
            if (!kv.containsKey(k)) {
                throw new IllegalArgumentException("--format csv: '" + k + "=COLUMN' is required, e.g. "
                        + "csv:time=1:us,op=2,offset=3,size=4");
            }
        }
        String delim = switch (kv.getOrDefault("delimiter", "comma")) {
            case "comma", "," -> ",";
            case "tab" -> "\t";
            case "space" -> " ";
            case "semicolon", ";" -> ";";
            default -> throw new IllegalArgumentException("--format csv: delimiter must be comma, tab, space or semicolon");
        };
        int timeCol = 0;
        String timeUnit = "s";
        if (kv.containsKey("time")) {
            String[] t = kv.get("time").split(":");
            timeCol = column(t[0], "time");
            timeUnit = t.length > 1 ? t[1] : "s";
            if (!java.util.Set.of("s", "ms", "us", "ns", "filetime").contains(timeUnit)) {
                throw new IllegalArgumentException("--format csv: time unit must be s, ms, us, ns or filetime, not '" + timeUnit + "'");
            }
        }
        String[] o = kv.get("offset").split(":");
        String[] z = kv.get("size").split(":");
        int[] vol = kv.containsKey("volume")
                ? Arrays.stream(kv.get("volume").split("\\+")).mapToInt(c -> column(c, "volume")).toArray() : new int[0];
        String read = kv.get("read");
        String write = kv.get("write");
        if ((read == null) != (write == null)) {
            throw new IllegalArgumentException("--format csv: give both read=CODE and write=CODE, or neither");
        }
        return new CsvLayout("csv", delim, Boolean.parseBoolean(kv.getOrDefault("header", "false")), timeCol, timeUnit,
                column(o[0], "offset"), unit(o.length > 1 ? o[1] : "bytes"), column(z[0], "size"),
                unit(z.length > 1 ? z[1] : "bytes"), column(kv.get("op"), "op"), vol, read, write);
    }

    private static int column(String s, String what) {
        try {
            int c = Integer.parseInt(s.trim());
            if (c >= 1) {
                return c;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new IllegalArgumentException("--format csv: " + what + " column must be a number ≥ 1, not '" + s + "'");
    }

    private static long unit(String u) {
        if (u.equals("bytes")) {
            return 1;
        }
        if (u.equals("sectors")) {
            return 512;
        }
        if (u.startsWith("blocks")) {
            try {
                long b = Long.parseLong(u.substring(6));
                if (b > 0) {
                    return b;
                }
            } catch (NumberFormatException e) {
                // fall through
            }
        }
        throw new IllegalArgumentException("--format csv: unit must be bytes, sectors or blocksN (e.g. blocks4096), not '" + u + "'");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CsvLayout c && c.name.equals(name) && c.toString().equals(toString());
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name + "[" + describe() + ", volume " + Arrays.toString(volumeCols) + "]";
    }
}
