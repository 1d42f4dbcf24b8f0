package dev.dmwc.daxlib;

/**
 * A protection backend for one pgmap: how "this thread may access the range" is made true and
 * false again. Implementations: {@link Backend#PKU} (x86 user pkeys, per thread), {@link
 * Backend#SOFTWARE} (per thread, checked by {@link DaxAccessor}), {@link Backend#MPROTECT}
 * (process-wide), {@link Backend#NONE}.
 */
public interface ProtectionKeys {
    enum Backend {
        PKU, SOFTWARE, MPROTECT, NONE;

        public static Backend parse(String s) {
            for (Backend b : values()) {
                if (b.name().equalsIgnoreCase(s)) {
                    return b;
                }
            }
            throw new IllegalArgumentException("unknown protection backend '" + s + "' (pku|software|mprotect|none)");
        }

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** Null when this backend can be used here, else the reason it cannot. */
        public String unavailableReason() {
            switch (this) {
                case PKU:
                    return PkuKeys.unavailableReason();
                case MPROTECT:
                    try {
                        Posix.requireLoaded();
                        return null;
                    } catch (IllegalStateException e) {
                        return e.getMessage();
                    }
                default:
                    return null;
            }
        }

        /** The best available: {@code pku} where the CPU and kernel have it, else {@code software}. */
        public static Backend best() {
            return PKU.unavailableReason() == null ? PKU : SOFTWARE;
        }
    }

    Backend backend();

    /** The key number (pku: the allocated pkey; others: a fixed emulated key). */
    int key();

    /** Apply the key to the mapping {@code [addr, addr+len)}; access starts closed. */
    void attach(long addr, long len);

    /** Open access for the calling thread (its first {@code setReadwrite}). */
    void open();

    /** Close access for the calling thread (its last {@code setNoaccess}). */
    void close();

    /** Whether {@link DaxAccessor} must check the calling thread's rights itself on each access. */
    boolean checkedInSoftware();

    /** Remove the key from the mapping (device close). */
    void detach();
}
