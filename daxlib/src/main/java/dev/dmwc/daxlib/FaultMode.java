package dev.dmwc.daxlib;

/** {@code memremap.pks_fault_mode}: what a stray access to a protected pgmap does. */
public enum FaultMode {
    /** The access is refused ({@link StrayAccessException}; hardware backends: the process faults). */
    STRICT,
    /** Warn once, grant the faulting thread access, count it (the series' default). */
    RELAXED;

    public static FaultMode parse(String s) {
        for (FaultMode m : values()) {
            if (m.name().equalsIgnoreCase(s)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown fault mode '" + s + "' (strict|relaxed)");
    }
}
