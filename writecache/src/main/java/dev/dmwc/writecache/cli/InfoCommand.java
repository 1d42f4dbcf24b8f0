package dev.dmwc.writecache.cli;

import dev.dmwc.daxlib.CpuFeatures;
import dev.dmwc.daxlib.Pmem;
import dev.dmwc.daxlib.ProtectionKeys;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "info", header = "Java, OS, CPU features, persistence, protection backends, DAX file systems, device-dax.",
        mixinStandardHelpOptions = true,
        description = "Java and OS versions, CPU features, the persistence implementation, the protection backend and why, "
                + "the mounted DAX file systems (a pmem cache file on one is real persistent memory, mapped MAP_SYNC), and the "
                + "device-dax devices (/dev/daxN.M, each usable as a pmem cache itself).")
final class InfoCommand implements Callable<Integer> {
    @Option(names = "--json", description = "JSON output.")
    boolean json;

    @Override
    public Integer call() {
        CpuFeatures f = CpuFeatures.current();
        ProtectionKeys.Backend best = ProtectionKeys.Backend.best();
        Map<String, Object> backends = new LinkedHashMap<>();
        for (ProtectionKeys.Backend b : ProtectionKeys.Backend.values()) {
            Map<String, Object> one = new LinkedHashMap<>();
            String why = b.unavailableReason();
            one.put("available", why == null);
            one.put("unavailable_because", why);
            one.put("semantics", switch (b) {
                case PKU -> "hardware user pkeys, per thread";
                case SOFTWARE -> "per thread, enforced by the accessor";
                case MPROTECT -> "process-wide, cannot tell threads apart";
                case NONE -> "no protection (PGMAP_PROTECTION not set)";
            });
            backends.put(b.id(), one);
        }
        Map<String, Object> cpu = new LinkedHashMap<>(f.asMap());
        cpu.put("source", f.source());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dmwc", "0.1.0");
        m.put("target", "dm-writecache target 1.6.0, Linux 6.1");
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        m.put("cpu_features", cpu);
        m.put("persistence", Pmem.best().describe());
        java.util.List<dev.dmwc.daxlib.DaxFileSystems.Mount> dax = dev.dmwc.daxlib.DaxFileSystems.mounted();
        java.util.List<Object> daxJson = new java.util.ArrayList<>();
        for (dev.dmwc.daxlib.DaxFileSystems.Mount d : dax) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("mount_point", d.mountPoint());
            one.put("type", d.type());
            one.put("device", d.device());
            one.put("option", d.daxOption());
            daxJson.add(one);
        }
        m.put("dax_file_systems", daxJson);
        java.util.List<dev.dmwc.daxlib.DeviceDax.Found> devdax = dev.dmwc.daxlib.DeviceDax.present();
        java.util.List<Object> devdaxJson = new java.util.ArrayList<>();
        for (dev.dmwc.daxlib.DeviceDax.Found d : devdax) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("path", d.path().toString());
            one.put("size", d.size());
            one.put("align", d.align());
            devdaxJson.add(one);
        }
        m.put("device_dax", devdaxJson);
        m.put("protection_default", best.id());
        m.put("protection_backends", backends);
        if (json) {
            System.out.print(Json.of(m));
            return 0;
        }
        line("dmwc", m.get("dmwc") + " (" + m.get("target") + ")");
        line("java", m.get("java"));
        line("os", m.get("os"));
        line("cpu features", f.asMap() + " (from " + f.source() + ")");
        line("persistence", m.get("persistence"));
        line("dax file systems", dax.isEmpty() ? "none (a pmem cache file on one is real persistent memory, mapped MAP_SYNC)"
                : String.join("; ", dax.stream().map(dev.dmwc.daxlib.DaxFileSystems.Mount::describe).toList()));
        line("device-dax", devdax.isEmpty() ? "none (ndctl create-namespace --mode=devdax makes one; it can be a pmem cache: --cache /dev/daxN.M)"
                : String.join("; ", devdax.stream().map(dev.dmwc.daxlib.DeviceDax.Found::describe).toList()));
        line("protection backend", best.id() + " (default)");
        backends.forEach((id, v) -> {
            @SuppressWarnings("unchecked")
            Map<String, Object> one = (Map<String, Object>) v;
            line("  " + id, ((Boolean) one.get("available") ? "available" : "unavailable: " + one.get("unavailable_because"))
                    + " - " + one.get("semantics"));
        });
        return 0;
    }

    private static void line(String key, Object value) {
        System.out.printf("%-34s %s%n", key + ":", value);
    }
}
