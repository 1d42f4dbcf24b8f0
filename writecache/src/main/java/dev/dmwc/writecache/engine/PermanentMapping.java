package dev.dmwc.writecache.engine;

import dev.dmwc.daxlib.CrashDomain;
import dev.dmwc.daxlib.DaxAccessor;
import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.Pmem;
import java.io.IOException;
import net.openhft.chronicle.bytes.MappedBytesStore;
import net.openhft.chronicle.bytes.MappedFile;
import net.openhft.chronicle.core.io.BackgroundResourceReleaser;
import net.openhft.chronicle.core.io.ReferenceOwner;

/**
 * dm-writecache's own mapping of the pmem pages (the kernel's {@code vmap(pages, PAGE_KERNEL)}
 * alias, which the pgmap key does not cover), made with Chronicle Bytes over the same backing
 * file; over a device-dax, which Chronicle Bytes cannot map (it maps regular files only), a second
 * {@code mmap} of the device ({@link DaxDevice#mapAlias()}). Used when the dax range is
 * {@code map_protected} or came back in pieces; the protected {@code kaddr} is never touched again.
 */
final class PermanentMapping implements AutoCloseable {
    private final MappedFile file;
    private final MappedBytesStore store;
    private final DaxDevice.Alias alias;
    private final ReferenceOwner owner = ReferenceOwner.temporary("dmwc-permanent-mapping");
    private final DaxAccessor door;

    PermanentMapping(DaxDevice dax, CrashDomain crashDomain) throws IOException {
        if (dax.deviceDax()) {
            this.file = null;
            this.store = null;
            this.alias = dax.mapAlias();
            this.door = new DaxAccessor(alias.address(), dax.size(), null, Pmem.best(), crashDomain);
            return;
        }
        this.alias = null;
        MappedFile f = MappedFile.ofSingle(dax.path().toFile(), dax.size(), false);
        boolean ok = false;
        try {
            this.file = f;
            this.store = f.acquireByteStore(owner, 0);
            long address = store.addressForWrite(0);
            this.door = new DaxAccessor(address, dax.size(), null, Pmem.best(), crashDomain);
            ok = true;
        } finally {
            if (!ok) {
                f.releaseLast();
            }
        }
    }

    /** What made the mapping, for the log. */
    String maker() {
        return alias != null ? "a second mmap of the device-dax" : "Chronicle Bytes";
    }

    DaxAccessor door() {
        return door;
    }

    @Override
    public void close() {
        if (alias != null) {
            alias.close();
            return;
        }
        store.release(owner);
        file.releaseLast();
        // Chronicle Bytes 2.27ea9: a single-mapping file keeps its reference to the store after its
        // own release, and the pages stayed mapped until exit (a pmem cache file deleted after a
        // run, as `script` does for its next run, kept its blocks: session 22 filled the disk with
        // them). Drop that reference, and let the releaser unmap now, not on its own thread later.
        if (store.refCount() > 0) {
            store.releaseLast();
        }
        BackgroundResourceReleaser.releasePendingResources();
    }
}
