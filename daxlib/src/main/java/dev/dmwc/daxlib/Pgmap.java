package dev.dmwc.daxlib;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * {@code struct dev_pagemap} as the PKS/PMEM series (V9/V10) shaped it: a range, flags with
 * {@link #PGMAP_PROTECTION}, and {@link #setReadwrite()} / {@link #setNoaccess()} with the calling
 * thread's nesting count ({@code current->pgmap_prot_count}). The first readwrite of a thread opens
 * the key for that thread, the last noaccess closes it.
 *
 * <p>The count is kept per pgmap here (the kernel keeps one per task for its one
 * {@code PKS_KEY_PGMAP_PROTECTION}); with one protected device per process that is the same.
 */
public final class Pgmap {
    public static final int PGMAP_PROTECTION = 1 << 1;
    private static final Logger LOG = Logger.getLogger(Pgmap.class.getName());

    private final long start;
    private final long length;
    private final int flags;
    private final ProtectionKeys keys;
    private final FaultMode faultMode;
    private final ThreadLocal<ThreadState> threads = ThreadLocal.withInitial(ThreadState::new);
    private final AtomicLong strayAccesses = new AtomicLong();
    private final AtomicBoolean warned = new AtomicBoolean();
    /**
     * Fast path of {@link #threadHasAccess()}: the thread that last opened access, while it holds
     * it. Only a thread writes itself here (on its first readwrite) and only it clears itself (on
     * its last noaccess), so {@code fastOwner == currentThread} implies the count is positive; any
     * other answer falls back to the thread-local count.
     */
    private final AtomicReference<Thread> fastOwner = new AtomicReference<>();

    private static final class ThreadState {
        int pgmapProtCount;
        boolean grantedByFault;
    }

    /**
     * {@code memremap_pages}: with {@code PGMAP_PROTECTION} requested where the backend cannot
     * provide it this fails, as the kernel returns {@code -EINVAL}.
     */
    Pgmap(long start, long length, int flags, ProtectionKeys.Backend backend, FaultMode faultMode) {
        this.start = start;
        this.length = length;
        this.flags = flags;
        this.faultMode = faultMode;
        if ((flags & PGMAP_PROTECTION) != 0) {
            if (backend == ProtectionKeys.Backend.NONE) {
                throw new IllegalArgumentException("PGMAP_PROTECTION requested with protection backend 'none' (-EINVAL)");
            }
            String why = backend.unavailableReason();
            if (why != null) {
                throw new IllegalArgumentException("PGMAP_PROTECTION requested but backend '" + backend.id()
                        + "' is unavailable: " + why + " (-EINVAL)");
            }
            this.keys = backend == ProtectionKeys.Backend.PKU ? new PkuKeys()
                    : backend == ProtectionKeys.Backend.MPROTECT ? new MprotectKeys() : new SoftwareKeys();
        } else {
            this.keys = new NoKeys();
        }
    }

    /** {@code pgmap_protection_available()} for a backend. */
    public static boolean protectionAvailable(ProtectionKeys.Backend backend) {
        return backend != ProtectionKeys.Backend.NONE && backend.unavailableReason() == null;
    }

    public int flags() { return flags; }
    public long start() { return start; }
    public long length() { return length; }
    public FaultMode faultMode() { return faultMode; }
    public ProtectionKeys.Backend backend() { return keys.backend(); }
    public boolean isProtected() { return (flags & PGMAP_PROTECTION) != 0; }

    ProtectionKeys keys() { return keys; }

    /** {@code __pgmap_set_readwrite}: the first call of this thread opens access for it only. */
    public void setReadwrite() {
        if (!isProtected()) {
            return;
        }
        ThreadState t = threads.get();
        if (t.pgmapProtCount++ == 0) {
            keys.open();
            fastOwner.set(Thread.currentThread());
        }
    }

    /** {@code __pgmap_set_noaccess}: the last call of this thread closes access. Unbalanced: error. */
    public void setNoaccess() {
        if (!isProtected()) {
            return;
        }
        ThreadState t = threads.get();
        if (t.pgmapProtCount == 0) {
            throw new IllegalStateException("unbalanced setNoaccess on pgmap [0x" + Long.toHexString(start) + "+"
                    + length + "]: thread " + Thread.currentThread().getName() + " holds no access (count 0)");
        }
        if (--t.pgmapProtCount == 0) {
            fastOwner.compareAndSet(Thread.currentThread(), null);
            t.grantedByFault = false;
            keys.close();
        }
    }

    /**
     * Closes the key for the calling thread, which holds no window ({@link DaxAccessor}: a pku thread
     * started inside another thread's window inherited its open register).
     */
    void closeForThisThread() {
        if (isProtected()) {
            keys.close();
        }
    }

    /** This thread's nesting count. */
    public int threadCount() {
        return threads.get().pgmapProtCount;
    }

    /** Whether the calling thread may touch the range now. */
    public boolean threadHasAccess() {
        if (!isProtected() || fastOwner.get() == Thread.currentThread()) {
            return true;
        }
        ThreadState t = threads.get();
        return t.pgmapProtCount > 0 || t.grantedByFault;
    }

    /** Stray accesses granted (relaxed) or refused (strict) so far. */
    public long strayAccesses() {
        return strayAccesses.get();
    }

    /**
     * Called by the accessor for an access without rights: {@code pgmap_pks_fault_callback}.
     * Strict: refused. Relaxed: warn once, grant this thread access until its next final
     * {@code setNoaccess}, count.
     */
    void fault(long address) {
        strayAccesses.incrementAndGet();
        if (faultMode == FaultMode.STRICT) {
            throw new StrayAccessException(address, Thread.currentThread().getName(), keys.key(), keys.backend().id());
        }
        if (warned.compareAndSet(false, true)) {
            LOG.warning("Page map protection being disabled (stray access at 0x" + Long.toHexString(address)
                    + " by thread " + Thread.currentThread().getName() + ")");
        }
        ThreadState t = threads.get();
        if (!t.grantedByFault) {
            t.grantedByFault = true;
            if (t.pgmapProtCount == 0) {
                keys.open();
            }
        }
    }
}
