package dev.dmwc.daxlib;

import com.sun.jna.Platform;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The hot persistence primitives of libdmwcnative called through JNI rather than JNA: the same
 * library, copied from the class path and linked with {@link System#load}. A JNA direct call pays
 * for its generic argument dispatch on every call (measured in BENCHMARKS.md: as much as the 4 KiB
 * copy it makes); a JNI static method with primitive arguments does not. The pku window switch
 * is the other hot call ({@link JniPkeys}, linked from this library); everything else in daxlib
 * (mmap, pkey allocation, cpuid) stays on JNA. {@link #available()} is false, with
 * {@link #loadError()} saying why, when the library or the JNI symbols are missing; callers then
 * use {@link NativeLib}.
 */
final class JniPmem {
    private static final String LOAD_ERROR;

    static {
        String err;
        if (!NativeLib.available()) {
            err = "libdmwcnative not loaded: " + NativeLib.loadError();
        } else if (Boolean.getBoolean("dmwc.jni.disable")) {
            err = "disabled by -Ddmwc.jni.disable=true";
        } else {
            try {
                loadFromClassPath();
                linkAll(); // an old library without the symbols fails here, not at the first store
                err = null;
            } catch (Throwable t) {
                err = t.getClass().getSimpleName() + ": " + t.getMessage();
            }
        }
        LOAD_ERROR = err;
    }

    private JniPmem() {}

    /** JNA removes the file it extracted once loaded: copy the library out again, load it, remove the copy. */
    private static void loadFromClassPath() throws java.io.IOException {
        String res = "/" + Platform.RESOURCE_PREFIX + "/libdmwcnative.so";
        try (java.io.InputStream in = JniPmem.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new java.io.FileNotFoundException(res + " is not on the class path");
            }
            Path tmp = Files.createTempFile("dmwcnative-jni", ".so");
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                System.load(tmp.toAbsolutePath().toString());
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Call every entry point once (into a scratch buffer), so that all of them are linked. */
    private static void linkAll() {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(128);
        long a = (DirectAddress.of(b) + 63) & ~63L;
        assign8(a, 0);
        assign16(a, 0, 0);
        assign16MemcpyFlushcache(a, 0, 0, a + 32, a + 64, 16);
        memcpy(a + 32, a, 16);
        memcpyFlushcache(a + 32, a, 16);
        flush(a, 64);
        drain();
    }

    static boolean available() {
        return LOAD_ERROR == null;
    }

    static String loadError() {
        return LOAD_ERROR;
    }

    static native void flush(long addr, long len);

    static native void drain();

    static native void memcpyFlushcache(long dst, long src, long len);

    static native void memcpy(long dst, long src, long len);

    static native void assign8(long dst, long value);

    static native void assign16(long dst, long lo, long hi);

    static native void assign16MemcpyFlushcache(long entry, long lo, long hi, long dst, long src, long len);
}
