package dev.dmwc.daxlib;

import java.nio.file.Path;

/**
 * Run in a child JVM by {@link HardwareStrayAccessTest}: opens the device (argument 1) with the
 * backend named by argument 2 ({@code mprotect} or {@code pku}), makes an allowed access inside a setReadwrite/setNoaccess bracket, reports it, then
 * stores through the protected address without opening access. That store must kill the JVM with
 * SIGSEGV; if it returns, this prints "stray store survived" and exits 0 (the test then fails).
 */
public final class StrayWriterMain {
    private StrayWriterMain() {}

    public static void main(String[] args) throws Exception {
        try (DaxDevice d = DaxDevice.open(Path.of(args[0]),
                new DaxDevice.Options().backend(ProtectionKeys.Backend.parse(args[1])))) {
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
