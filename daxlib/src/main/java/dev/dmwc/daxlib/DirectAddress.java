package dev.dmwc.daxlib;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;

/**
 * The native address of a direct buffer, read from {@code java.nio.Buffer.address} with
 * {@code sun.misc.Unsafe} (as Chronicle Bytes does) instead of a JNI call per buffer; JNA's
 * {@code getDirectBufferPointer} when the field cannot be reached. Unsafe is reached by
 * reflection (a method handle the JIT inlines), so nothing here names an internal API.
 */
final class DirectAddress {
    /** {@code unsafe.getLong(Object, long)} bound to the Unsafe instance, or null. */
    private static final MethodHandle GET_LONG;
    private static final long ADDRESS_OFFSET;

    static {
        MethodHandle get = null;
        long off = -1;
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field f = unsafeClass.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            Object unsafe = f.get(null);
            off = (long) unsafeClass.getMethod("objectFieldOffset", Field.class)
                    .invoke(unsafe, Buffer.class.getDeclaredField("address"));
            get = MethodHandles.lookup().findVirtual(unsafeClass, "getLong", MethodType.methodType(long.class, Object.class, long.class))
                    .bindTo(unsafe);
            ByteBuffer probe = ByteBuffer.allocateDirect(8);
            if ((long) get.invokeExact((Object) probe, off) != Pointer.nativeValue(Native.getDirectBufferPointer(probe))) {
                get = null; // not the field we think it is
            }
        } catch (Throwable e) {
            get = null;
        }
        GET_LONG = get;
        ADDRESS_OFFSET = off;
    }

    private DirectAddress() {}

    /** The address of {@code b}'s element 0; {@code b} must be direct. */
    static long of(ByteBuffer b) {
        if (GET_LONG != null) {
            try {
                return (long) GET_LONG.invokeExact((Object) b, ADDRESS_OFFSET);
            } catch (Throwable e) {
                throw new IllegalStateException("reading a direct buffer's address failed", e);
            }
        }
        return Pointer.nativeValue(Native.getDirectBufferPointer(b));
    }
}
