package dev.dmwc.daxlib;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Faulting a shared mapping's pages in, writable, before they are used, contents unchanged. One
 * {@code madvise(MADV_POPULATE_WRITE)} (Linux 5.14 and later) does a whole range inside the
 * kernel; touching each page instead takes one fault, a trap into the kernel and back, per page,
 * which on the VMs here costs 15–30 µs a page (1 GiB of /dev/shm: 4–7 s against 0.12–0.25 s).
 * Where the kernel lacks the call, or refuses it for the range, each page is touched instead: a
 * store of the bytes already there. {@link #beforeUse} adds the touch after a populate, for a
 * benchmark's devices.
 *
 * <p>On a DAX file system's {@code MAP_SYNC} mapping the populate takes the same write fault a
 * store would, so the file system commits each block before it returns, as {@link DaxDevice} needs.
 */
public final class Prefault {
    private Prefault() {}

    /** How a range was faulted in. */
    public enum How {
        /** {@code madvise(MADV_POPULATE_WRITE)}, one call. */
        POPULATE,
        /** A store to every page of the bytes already there. */
        TOUCH
    }

    /**
     * Fault {@code [address, address + length)} of a shared mapping in, writable.
     *
     * @param what names the mapping in an error
     * @throws IOException the kernel could not back a page (no space left on the file's file
     *     system, no memory), named with its errno; nothing was written
     */
    public static How writable(long address, long length, String what) throws IOException {
        if (length <= 0) {
            return How.POPULATE;
        }
        if (populate(address, length, what)) {
            return How.POPULATE;
        }
        Pointer p = new Pointer(address); // native calls: nothing the JIT can drop
        for (long off = 0; off < length; off = (off | (DaxDevice.PAGE_SIZE - 1)) + 1) {
            p.setByte(off, p.getByte(off));
        }
        p.setByte(length - 1, p.getByte(length - 1));
        return How.TOUCH;
    }

    /** The same over a direct buffer's memory, e.g. a {@link java.nio.MappedByteBuffer}. */
    public static How writable(ByteBuffer view, String what) throws IOException {
        if (!view.isDirect()) {
            throw new IllegalArgumentException("not a direct buffer: " + what);
        }
        if (view.capacity() == 0 || populate(DirectAddress.of(view), view.capacity(), what)) {
            return How.POPULATE;
        }
        touchEachPage(view);
        return How.TOUCH;
    }

    /**
     * Fault a direct buffer's pages in so that later accesses, which a benchmark times, pay nothing
     * for them: {@link #writable} and then a touch of every page. The touch costs next to nothing
     * where the CPU walks the page tables the populate filled (10–15 ms a GiB here once touched), but
     * a VM that shadows the guest's page tables in its hypervisor, as the machines here do, takes an
     * exit on the first user access of every page even after the populate: measured in C over 1 GiB
     * of /dev/shm, populate 120–136 ms, then a pass over every page 2.0–2.3 s, against 4.2 s for
     * touching alone. Both together are the faster way to the same state.
     */
    public static How beforeUse(ByteBuffer view, String what) throws IOException {
        How how = writable(view, what);
        if (how == How.POPULATE && view.capacity() > 0) {
            touchEachPage(view);
        }
        return how;
    }

    /**
     * An atomic add of zero to an 8-byte word: a store the JIT cannot drop. A plain
     * {@code put(i, get(i))} changes nothing, and C2, compiling the loop on stack part way through a
     * large mapping, removed it, load and all: the rest of the mapping was never faulted in, and a
     * timed replay paid for it (BENCHMARKS.md, replay section, session 19).
     */
    private static final VarHandle WORD = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

    /** The fallback: a store to every page of the view, its bytes unchanged. */
    static void touchEachPage(ByteBuffer view) {
        long length = view.capacity();
        long address = DirectAddress.of(view);
        for (long page = address & -DaxDevice.PAGE_SIZE; page < address + length; page += DaxDevice.PAGE_SIZE) {
            long from = Math.max(page, address) - address; // the view's part of this page: [from, to)
            long to = Math.min(page + DaxDevice.PAGE_SIZE, address + length) - address;
            long word = from + ((-(address + from)) & 7);  // its first 8-byte-aligned word
            if (word + 8 <= to) {
                WORD.getAndAdd(view, (int) word, 0L);
            } else { // a sliver of a page at an end of an unaligned view: a native store, which stays too
                Pointer b = new Pointer(address + from);
                b.setByte(0, b.getByte(0));
            }
        }
    }

    /**
     * One madvise over the range (widened to whole pages). False: not done, the caller touches
     * each page (EINVAL: a kernel before 5.14, an address not page-aligned, or a mapping the call
     * does not take).
     */
    private static boolean populate(long address, long length, String what) throws IOException {
        if (!Posix.loaded()) {
            return false;
        }
        long start = address & ~(long) (DaxDevice.PAGE_SIZE - 1);
        if (Posix.madvise(start, length + (address - start), Posix.MADV_POPULATE_WRITE) == 0) {
            return true;
        }
        int errno = Posix.errno();
        if (errno == Posix.EINVAL) {
            return false;
        }
        throw new IOException("cannot fault in the pages of " + what + ": madvise(MADV_POPULATE_WRITE) failed, errno "
                + errno + (errno == Posix.EFAULT ? " (EFAULT: a page could not be backed, e.g. no space left on its file system)"
                        : errno == Posix.ENOMEM ? " (ENOMEM)" : ""));
    }
}
