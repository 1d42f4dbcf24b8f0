package dev.dmwc.daxlib;

/**
 * The pku backend's window switch ({@code pkey_set}) through JNI rather than JNA: every bracketed
 * access opens and closes the window, and a JNA direct call costs a generic dispatch each time
 * (the pku row of BENCHMARKS.md, daxlib). The library is the one {@link JniPmem} links; the JVM
 * finds this class's symbol in it since both classes share a class loader. {@link #available()} is
 * false, with {@link #loadError()} saying why, when JNI is unavailable or the library predates the
 * symbol; {@link PkuKeys} then calls glibc through JNA.
 */
final class JniPkeys {
    private static final String LOAD_ERROR;

    static {
        String err;
        if (!JniPmem.available()) {
            err = "JNI library unavailable: " + JniPmem.loadError();
        } else {
            try {
                set(-1, 0); // links the symbol now (an old library fails here, not at the first switch); -1 is refused
                err = null;
            } catch (Throwable t) {
                err = t.getClass().getSimpleName() + ": " + t.getMessage();
            }
        }
        LOAD_ERROR = err;
    }

    private JniPkeys() {}

    static boolean available() {
        return LOAD_ERROR == null;
    }

    static String loadError() {
        return LOAD_ERROR;
    }

    /** glibc's {@code pkey_set}: 0, or -1 (EINVAL) for a key or rights out of range. Needs a CPU and kernel with pkeys. */
    static native int set(int pkey, int accessRights);
}
