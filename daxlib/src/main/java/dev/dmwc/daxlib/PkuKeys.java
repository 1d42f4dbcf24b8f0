package dev.dmwc.daxlib;

/**
 * x86 user protection keys (PKRU, per thread): the userspace twin of PKS. {@code pkey_alloc},
 * {@code pkey_mprotect} of the mapping, {@code pkey_set} per thread through glibc.
 */
final class PkuKeys implements ProtectionKeys {
    private final int pkey;
    /** Switch the window through JNI ({@link JniPkeys}) when the library has it, else through JNA. */
    private final boolean jni = JniPkeys.available();

    PkuKeys() {
        String why = unavailableReason();
        if (why != null) {
            throw new IllegalStateException("pku protection unavailable: " + why);
        }
        pkey = Posix.pkey_alloc(0, Posix.PKEY_DISABLE_ACCESS);
        if (pkey < 0) {
            throw new IllegalStateException("pkey_alloc failed: errno " + Posix.errno());
        }
    }

    /** Null when usable, else why not: switched off, CPU flag, OS enablement, or pkey_alloc refusing. */
    static String unavailableReason() {
        if (Boolean.getBoolean("dmwc.pku.disable")) {
            return "disabled by -Ddmwc.pku.disable=true";
        }
        CpuFeatures f = CpuFeatures.current();
        if (!f.pku()) {
            return "the CPU has no pku (protection keys for user pages)";
        }
        if (!f.ospke()) {
            return "the kernel has not enabled pkeys (no ospke)";
        }
        try {
            Posix.requireLoaded();
            int k = Posix.pkey_alloc(0, 0);
            if (k < 0) {
                return "pkey_alloc failed: errno " + Posix.errno();
            }
            Posix.pkey_free(k);
            return null;
        } catch (Throwable t) {
            return "pkey calls unavailable: " + t.getMessage();
        }
    }

    @Override public Backend backend() { return Backend.PKU; }
    @Override public int key() { return pkey; }

    @Override
    public void attach(long addr, long len) {
        if (Posix.pkey_mprotect(addr, len, Posix.PROT_READ | Posix.PROT_WRITE, pkey) != 0) {
            throw new IllegalStateException("pkey_mprotect failed: errno " + Posix.errno());
        }
        setRights(Posix.PKEY_DISABLE_ACCESS);
    }

    @Override public void open() { setRights(0); }
    @Override public void close() { setRights(Posix.PKEY_DISABLE_ACCESS); }

    private void setRights(int rights) {
        if (jni) {
            JniPkeys.set(pkey, rights);
        } else {
            Posix.pkey_set(pkey, rights);
        }
    }

    @Override public boolean checkedInSoftware() { return false; }

    @Override
    public void detach() {
        Posix.pkey_free(pkey);
    }
}
