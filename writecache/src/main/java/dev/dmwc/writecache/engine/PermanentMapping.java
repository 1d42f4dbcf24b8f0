package dev.dmwc.writecache.engine;

import dev.dmwc.daxlib.CrashDomain;
import dev.dmwc.daxlib.DaxAccessor;
import dev.dmwc.daxlib.Pmem;
import java.io.IOException;
import java.nio.file.Path;
import net.openhft.chronicle.bytes.MappedBytesStore;
import net.openhft.chronicle.bytes.MappedFile;
import net.openhft.chronicle.core.io.ReferenceOwner;

/**
 * dm-writecache's own mapping of the pmem pages (the kernel's {@code vmap(pages, PAGE_KERNEL)}
 * alias, which the pgmap key does not cover), made with Chronicle Bytes over the same backing
 * file. Used when the dax range is {@code map_protected} or came back in pieces; the protected
 * {@code kaddr} is never touched again.
 */
final class PermanentMapping implements AutoCloseable {
    private final MappedFile file;
    private final MappedBytesStore store;
    private final ReferenceOwner owner = ReferenceOwner.temporary("dmwc-permanent-mapping");
    private final DaxAccessor door;

    PermanentMapping(Path path, long size, CrashDomain crashDomain) throws IOException {
        MappedFile f = MappedFile.ofSingle(path.toFile(), size, false);
        boolean ok = false;
        try {
            this.file = f;
            this.store = f.acquireByteStore(owner, 0);
            long address = store.addressForWrite(0);
            this.door = new DaxAccessor(address, size, null, Pmem.best(), crashDomain);
            ok = true;
        } finally {
            if (!ok) {
                f.releaseLast();
            }
        }
    }

    DaxAccessor door() {
        return door;
    }

    @Override
    public void close() {
        store.release(owner);
        file.releaseLast();
    }
}
