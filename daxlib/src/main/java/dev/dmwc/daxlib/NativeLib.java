package dev.dmwc.daxlib;

import com.sun.jna.Native;

/**
 * libdmwcnative.so (built from native/ by the Maven build into the class path under
 * {@code linux-x86-64/}). {@link #available()} is false, with {@link #loadError()} saying why,
 * when it could not be loaded; daxlib then runs the Java fallback.
 */
final class NativeLib {
    static final int F_CLFLUSH = 1;
    static final int F_CLFLUSHOPT = 1 << 1;
    static final int F_CLWB = 1 << 2;
    static final int F_PKU = 1 << 3;
    static final int F_OSPKE = 1 << 4;

    private static final String LOAD_ERROR;

    static {
        String err = null;
        if (Boolean.getBoolean("dmwc.native.disable")) {
            err = "disabled by -Ddmwc.native.disable=true";
        } else {
            try {
                Native.register(NativeLib.class, "dmwcnative");
            } catch (Throwable t) {
                err = t.getClass().getSimpleName() + ": " + t.getMessage();
            }
        }
        LOAD_ERROR = err;
    }

    private NativeLib() {}

    static boolean available() {
        return LOAD_ERROR == null;
    }

    static String loadError() {
        return LOAD_ERROR;
    }

    static native int dmwc_cpu_features();

    static native int dmwc_flush_method();

    static native void dmwc_flush(long addr, long len);

    static native void dmwc_drain();

    static native void dmwc_memcpy_flushcache(long dst, long src, long len);

    static native void dmwc_memcpy_flushcache_clflushopt(long dst, long src, long len);

    static native void dmwc_memcpy(long dst, long src, long len);

    static native void dmwc_assign8(long dst, long value);

    static native void dmwc_assign16(long dst, long lo, long hi);

    static native void dmwc_assign16_memcpy_flushcache(long entry, long lo, long hi, long dst, long src, long len);
}
