package dev.dmwc.daxlib;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The CPU features persistence and protection depend on. Read from CPUID by the native library
 * when it is loaded, else from {@code /proc/cpuinfo}; {@link #source()} says which.
 */
public final class CpuFeatures {
    private final boolean clflush;
    private final boolean clflushopt;
    private final boolean clwb;
    private final boolean pku;
    private final boolean ospke;
    private final String source;

    private static volatile CpuFeatures current;

    CpuFeatures(boolean clflush, boolean clflushopt, boolean clwb, boolean pku, boolean ospke, String source) {
        this.clflush = clflush;
        this.clflushopt = clflushopt;
        this.clwb = clwb;
        this.pku = pku;
        this.ospke = ospke;
        this.source = source;
    }

    /** The features of this machine (computed once). */
    public static CpuFeatures current() {
        CpuFeatures c = current;
        if (c == null) {
            c = detect();
            current = c;
        }
        return c;
    }

    private static CpuFeatures detect() {
        Set<String> flags = procCpuinfoFlags();
        // ospke: CPUID says whether the OS enabled pkeys; /proc/cpuinfo lists it as "ospke".
        if (NativeLib.available()) {
            int f = NativeLib.dmwc_cpu_features();
            return new CpuFeatures((f & NativeLib.F_CLFLUSH) != 0, (f & NativeLib.F_CLFLUSHOPT) != 0,
                    (f & NativeLib.F_CLWB) != 0, (f & NativeLib.F_PKU) != 0, (f & NativeLib.F_OSPKE) != 0,
                    "cpuid via libdmwcnative");
        }
        return new CpuFeatures(flags.contains("clflush"), flags.contains("clflushopt"), flags.contains("clwb"),
                flags.contains("pku"), flags.contains("ospke"), "/proc/cpuinfo");
    }

    static Set<String> procCpuinfoFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    int colon = line.indexOf(':');
                    return new TreeSet<>(Arrays.asList(line.substring(colon + 1).trim().split("\\s+")));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no /proc: no flags
        }
        return new TreeSet<>();
    }

    public boolean clflush() { return clflush; }
    public boolean clflushopt() { return clflushopt; }
    public boolean clwb() { return clwb; }
    public boolean pku() { return pku; }
    public boolean ospke() { return ospke; }
    public String source() { return source; }

    /** Best cache-line write-back instruction: {@code clwb}, {@code clflushopt}, {@code clflush} or none. */
    public String flushInstruction() {
        return clwb ? "clwb" : clflushopt ? "clflushopt" : clflush ? "clflush" : "none";
    }

    public Map<String, Boolean> asMap() {
        Map<String, Boolean> m = new LinkedHashMap<>();
        m.put("clwb", clwb);
        m.put("clflushopt", clflushopt);
        m.put("clflush", clflush);
        m.put("pku", pku);
        m.put("ospke", ospke);
        return m;
    }
}
