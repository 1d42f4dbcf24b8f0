package dev.dmwc.daxlib;

/**
 * Process-wide protection: the mapping is {@code PROT_NONE} while no thread holds access and
 * read-write while any does. It cannot tell threads apart: a stray access from thread B while
 * thread A holds access succeeds. A stray access while nobody holds access is a real SIGSEGV.
 */
final class MprotectKeys implements ProtectionKeys {
    private long addr;
    private long len;
    private int holders;

    @Override public Backend backend() { return Backend.MPROTECT; }
    @Override public int key() { return SoftwareKeys.EMULATED_KEY; }

    @Override
    public synchronized void attach(long addr, long len) {
        this.addr = addr;
        this.len = len;
        protect(Posix.PROT_NONE);
    }

    @Override
    public synchronized void open() {
        if (holders++ == 0) {
            protect(Posix.PROT_READ | Posix.PROT_WRITE);
        }
    }

    @Override
    public synchronized void close() {
        if (--holders == 0) {
            protect(Posix.PROT_NONE);
        }
    }

    private void protect(int prot) {
        if (len != 0 && Posix.mprotect(addr, len, prot) != 0) {
            throw new IllegalStateException("mprotect(0x" + Long.toHexString(addr) + ", " + len + ", " + prot
                    + ") failed: errno " + Posix.errno());
        }
    }

    @Override public boolean checkedInSoftware() { return false; }

    @Override
    public synchronized void detach() {
        protect(Posix.PROT_READ | Posix.PROT_WRITE);
        len = 0;
    }
}
