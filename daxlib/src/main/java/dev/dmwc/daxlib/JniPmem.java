package dev.dmwc.daxlib;

import com.sun.jna.Platform;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The hot persistence primitives of libdmwcnative called through JNI rather than JNA: the same
 * library, copied from the class path and linked with {@link System#load}. A JNA direct call pays
 * for its generic argument dispatch on every call (measured in BENCHMARKS.md: as much as the 4 KiB
 * copy it makes); a JNI static method with primitive arguments does not. Everything else in
 * daxlib (mmap, pkeys, cpuid) stays on JNA. {@link #available()} is false, with
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
                drain(); // links the symbols now: an old library without them fails here, not later
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
}
