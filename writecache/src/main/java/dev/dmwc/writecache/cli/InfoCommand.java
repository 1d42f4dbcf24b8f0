package dev.dmwc.writecache.cli;

import dev.dmwc.daxlib.CpuFeatures;
import dev.dmwc.daxlib.Pmem;
import dev.dmwc.daxlib.ProtectionKeys;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Java and OS versions, CPU features, the persistence implementation, the protection backend and why.")
final class InfoCommand implements Callable<Integer> {
    @Option(names = "--json", description = "JSON output.")
    boolean json;

    @Override
    public Integer call() {
        CpuFeatures f = CpuFeatures.current();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("dmwc", "0.1.0 (dm-writecache target 1.6.0, Linux 6.1)");
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        m.put("cpu features (" + f.source() + ")", f.asMap().toString());
        m.put("persistence", Pmem.best().describe());
        ProtectionKeys.Backend best = ProtectionKeys.Backend.best();
        m.put("protection backend", best.id() + " (default)");
        for (ProtectionKeys.Backend b : ProtectionKeys.Backend.values()) {
            String why = b.unavailableReason();
            String note = switch (b) {
                case PKU -> "hardware user pkeys, per thread";
                case SOFTWARE -> "per thread, enforced by the accessor";
                case MPROTECT -> "process-wide, cannot tell threads apart";
                case NONE -> "no protection (PGMAP_PROTECTION not set)";
            };
            m.put("  " + b.id(), (why == null ? "available" : "unavailable: " + why) + " - " + note);
        }
        if (json) {
            StringBuilder sb = new StringBuilder("{");
            m.forEach((k, v) -> sb.append(sb.length() > 1 ? "," : "").append(Json.str(k.trim())).append(':').append(Json.str(v)));
            System.out.println(sb.append('}'));
        } else {
            m.forEach((k, v) -> System.out.printf("%-34s %s%n", k + ":", v));
        }
        return 0;
    }
}
