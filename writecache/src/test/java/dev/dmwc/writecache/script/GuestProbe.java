package dev.dmwc.writecache.script;

import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.ProtectionKeys;
import java.nio.file.Path;

/**
 * Run inside the oracle's VM, whose CPU has pku ({@link GuestHardwareKernelIT}): one access to a
 * protected DAX file through the {@code pku} backend, {@code java … GuestProbe FILE CASE}, saying what
 * happened on stdout. {@code window}: a store and a load inside {@code setReadwrite} …
 * {@code setNoaccess} reach the file. {@code closed}: a store after the window closed must fault.
 * {@code other-thread}: while this thread holds the window open, another thread's store must fault
 * (PKRU is per thread: what mprotect cannot tell apart). A fault ends the JVM with SIGSEGV; a store
 * that gets through prints {@code STRAY STORE DONE}. {@code relaxed}: with the relaxed fault mode a
 * stray store from a thread without the window is granted and counted, at {@link #RELAXED_OFFSET}.
 * {@code permanent}: a durable store at {@link #PERMANENT_OFFSET} through a second mapping of the file
 * made as the engine's permanent mapping is (Chronicle Bytes, no MAP_SYNC), after the device opened.
 */
public final class GuestProbe {
    static final long WINDOW_VALUE = 0x5AFE5AFE5AFE5AFEL;
    static final long STRAY_VALUE = 0xBADBADBADBADBADL;
    static final long RELAXED_OFFSET = 8192;
    static final long PERMANENT_OFFSET = 12288;

    private GuestProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        dev.dmwc.daxlib.FaultMode mode = args[1].equals("relaxed") ? dev.dmwc.daxlib.FaultMode.RELAXED : dev.dmwc.daxlib.FaultMode.STRICT;
        try (DaxDevice d = DaxDevice.open(file, new DaxDevice.Options().backend(ProtectionKeys.Backend.PKU).faultMode(mode))) {
            System.out.println("backend " + d.protection().describe() + ", map_protected " + d.mapProtected() + ", map_sync "
                    + d.mapSync());
            System.out.flush();
            switch (args[1]) {
                case "window" -> {
                    d.setReadwrite();
                    try {
                        d.accessor().pmemAssign(4096, WINDOW_VALUE);
                        d.accessor().drain();
                        System.out.println("window store and load: " + Long.toHexString(d.accessor().getLong(4096)));
                    } finally {
                        d.setNoaccess();
                    }
                }
                case "closed" -> {
                    System.out.println("storing with the window closed");
                    System.out.flush();
                    d.accessor().putLong(4096, STRAY_VALUE);
                    System.out.println("STRAY STORE DONE");
                }
                case "other-thread" -> {
                    d.setReadwrite();
                    try {
                        System.out.println("window open on " + Thread.currentThread().getName() + "; storing from another thread");
                        System.out.flush();
                        Thread t = new Thread(() -> {
                            d.accessor().putLong(4096, STRAY_VALUE);
                            System.out.println("STRAY STORE DONE");
                        }, "stray");
                        t.start();
                        t.join();
                    } finally {
                        d.setNoaccess();
                    }
                }
                case "relaxed" -> {
                    Thread t = new Thread(() -> {
                        d.accessor().putLong(RELAXED_OFFSET, STRAY_VALUE);
                        System.out.println("relaxed stray store done, strays counted " + d.pgmap().strayAccesses());
                    }, "stray");
                    t.start();
                    t.join();
                }
                case "permanent" -> {
                    // as the engine's permanent mapping does: Chronicle Bytes maps the same file (no MAP_SYNC)
                    // and the value goes in with the pmem primitives; it stays mapped until the JVM ends
                    net.openhft.chronicle.bytes.MappedFile f = net.openhft.chronicle.bytes.MappedFile.ofSingle(file.toFile(), d.size(), false);
                    net.openhft.chronicle.bytes.MappedBytesStore store = f.acquireByteStore(
                            net.openhft.chronicle.core.io.ReferenceOwner.temporary("probe"), 0);
                    dev.dmwc.daxlib.DaxAccessor door = new dev.dmwc.daxlib.DaxAccessor(store.addressForWrite(0), d.size(), null,
                            dev.dmwc.daxlib.Pmem.best(), null);
                    door.pmemAssign(PERMANENT_OFFSET, WINDOW_VALUE);
                    door.drain();
                    System.out.println("permanent store and load: " + Long.toHexString(door.getLong(PERMANENT_OFFSET)));
                }
                default -> throw new IllegalArgumentException("no case " + args[1]);
            }
        }
        System.out.println("probe ended");
    }
}
