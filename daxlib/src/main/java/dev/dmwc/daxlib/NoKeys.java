package dev.dmwc.daxlib;

/** No protection: {@code PGMAP_PROTECTION} not set. */
final class NoKeys implements ProtectionKeys {
    @Override public Backend backend() { return Backend.NONE; }
    @Override public int key() { return 0; }
    @Override public void attach(long addr, long len) {}
    @Override public void open() {}
    @Override public void close() {}
    @Override public boolean checkedInSoftware() { return false; }
    @Override public void detach() {}
}
