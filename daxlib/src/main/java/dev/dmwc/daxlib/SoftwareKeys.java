package dev.dmwc.daxlib;

/** Per-thread rights enforced by the accessor: exact PKS semantics, no hardware. */
final class SoftwareKeys implements ProtectionKeys {
    static final int EMULATED_KEY = 1;

    @Override public Backend backend() { return Backend.SOFTWARE; }
    @Override public int key() { return EMULATED_KEY; }
    @Override public void attach(long addr, long len) {}
    @Override public void open() {}
    @Override public void close() {}
    @Override public boolean checkedInSoftware() { return true; }
    @Override public void detach() {}
}
