package dev.dmwc.daxlib;

import java.nio.file.Path;

/**
 * Run in a child JVM by {@link MprotectStrayAccessTest}: opens the device with the mprotect
 * backend, makes an allowed access inside a setReadwrite/setNoaccess bracket, reports it, then
 * stores through the protected address without opening access. That store must kill the JVM with
 * SIGSEGV; if it returns, this prints "stray store survived" and exits 0 (the test then fails).
 */
public final class StrayWriterMain {
    private StrayWriterMain() {}

    public static void main(String[] args) throws Exception {
        try (DaxDevice d = DaxDevice.open(Path.of(args[0]),
                new DaxDevice.Options().backend(ProtectionKeys.Backend.MPROTECT))) {
            long seen;
            d.setReadwrite();
            try {
                d.accessor().pmemAssign(0, 0x5eedL);
                d.accessor().drain();
                seen = d.accessor().getLong(0);
            } finally {
                d.setNoaccess();
            }
            System.out.println("allowed access ok: " + Long.toHexString(seen));
            System.out.flush();
            long kaddr = d.directAccess(0, 1).kaddr();
            new com.sun.jna.Pointer(kaddr).setLong(8, 0xdeadL);
            System.out.println("stray store survived");
        }
    }
}
