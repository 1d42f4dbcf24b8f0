package dev.dmwc.writecache.nbd;

import dev.dmwc.writecache.block.MemoryBlockDevice;
import dev.dmwc.writecache.block.ScratchFiles;
import dev.dmwc.writecache.crash.Fuzzer;
import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.engine.ThreadedScheduler;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Mangled NBD sessions against a live server: a valid session (negotiation, then writes, reads,
 * flush, trim, zeroes, disconnect) with bytes flipped, fields set to extremes, slices dropped,
 * repeated or inserted, or cut short. Every case must end with the server closing the
 * connection (after the client stops sending) within 5 s, no internal error may be logged, and
 * a well-behaved client must still be served correctly afterwards.
 */
public final class NbdFuzzer {
    private final Path workDir;

    public NbdFuzzer(Path workDir) {
        this.workDir = workDir;
    }

    /** The bytes a well-behaved client sends in one session. */
    static byte[] validSession(SplittableRandom r) {
        ByteBuffer b = ByteBuffer.allocate(64 << 10);
        b.putInt(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
        b.putLong(Nbd.IHAVEOPT).putInt(8).putInt(0); // STRUCTURED_REPLY: refused, goes on
        b.putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_GO).putInt(8).putInt(0).putShort((short) 1).putShort((short) Nbd.INFO_BLOCK_SIZE);
        long cookie = 1;
        for (int i = 0; i < 6; i++) {
            long off = (long) r.nextInt(4096) * 512;
            int type = new int[] {Nbd.CMD_WRITE, Nbd.CMD_READ, Nbd.CMD_FLUSH, Nbd.CMD_TRIM, Nbd.CMD_WRITE_ZEROES, Nbd.CMD_WRITE}[i];
            int len = type == Nbd.CMD_FLUSH ? 0 : 512 * (1 + r.nextInt(16));
            b.putInt(Nbd.REQUEST_MAGIC).putShort((short) (r.nextInt(4) == 0 ? Nbd.CMD_FLAG_FUA : 0)).putShort((short) type)
                    .putLong(cookie++).putLong(type == Nbd.CMD_FLUSH ? 0 : off).putInt(len);
            if (type == Nbd.CMD_WRITE) {
                byte[] d = new byte[len];
                r.nextBytes(d);
                b.put(d);
            }
        }
        b.putInt(Nbd.REQUEST_MAGIC).putShort((short) 0).putShort((short) Nbd.CMD_DISC).putLong(cookie).putLong(0).putInt(0);
        return Arrays.copyOf(b.array(), b.position());
    }

    static byte[] mangle(byte[] s, SplittableRandom r) {
        byte[] m = s.clone();
        switch (r.nextInt(6)) {
            case 0 -> {
                for (int k = 1 + r.nextInt(8); k > 0; k--) {
                    m[r.nextInt(m.length)] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 1 -> { // a 32-bit field to an extreme
                int at = r.nextInt(m.length - 4);
                int v = new int[] {-1, 0, Integer.MAX_VALUE, Integer.MIN_VALUE, Nbd.MAX_PAYLOAD + 1, 1}[r.nextInt(6)];
                ByteBuffer.wrap(m).putInt(at, v);
            }
            case 2 -> m = Arrays.copyOf(m, r.nextInt(m.length)); // cut short
            case 3 -> { // drop a slice
                int a = r.nextInt(m.length);
                int b = Math.min(m.length, a + 1 + r.nextInt(64));
                byte[] n = new byte[m.length - (b - a)];
                System.arraycopy(m, 0, n, 0, a);
                System.arraycopy(m, b, n, a, m.length - b);
                m = n;
            }
            case 4 -> { // repeat a slice
                int a = r.nextInt(m.length);
                int b = Math.min(m.length, a + 1 + r.nextInt(64));
                byte[] n = new byte[m.length + (b - a)];
                System.arraycopy(m, 0, n, 0, b);
                System.arraycopy(m, a, n, b, m.length - a);
                m = n;
            }
            default -> { // insert garbage
                int a = r.nextInt(m.length);
                byte[] g = new byte[1 + r.nextInt(32)];
                r.nextBytes(g);
                byte[] n = new byte[m.length + g.length];
                System.arraycopy(m, 0, n, 0, a);
                System.arraycopy(g, 0, n, a, g.length);
                System.arraycopy(m, a, n, a + g.length, m.length - a);
                m = n;
            }
        }
        return m;
    }

    /** Told the number of sessions begun so far, as each begins (a progress bar). */
    public java.util.function.LongConsumer progress = n -> { };

    /** Set by a Ctrl-C: the run ends after the session in progress, with what it has done. */
    public volatile boolean stopRequested;

    public Fuzzer.Result run(long seed, int cases) throws IOException, DmError {
        Fuzzer.Result res = new Fuzzer.Result();
        MemoryBlockDevice origin = new MemoryBlockDevice("origin", 4L << 20);
        MemoryBlockDevice cache = new MemoryBlockDevice("cache", 1L << 20);
        WritecacheTarget t = WritecacheTarget.create(List.of("s", "o", "c", "4096", "0"), Map.of("o", origin, "c", cache),
                new ThreadedScheduler(e -> res.fail("engine work failed: " + e)), null, m -> { });
        List<String> internal = new CopyOnWriteArrayList<>();
        Path sock = ScratchFiles.createFile(workDir, "nbdfuzz", ".sock");
        java.nio.file.Files.delete(sock); // the name is ours (and still registered); the server binds its socket there
        ExecutorService drain = Executors.newCachedThreadPool(r -> {
            Thread th = new Thread(r, "nbd-fuzz-drain");
            th.setDaemon(true);
            return th;
        });
        try (NbdServer server = new NbdServer(new CacheExport(t), "unix:" + sock, new NbdServer.Options().log(m -> {
            if (m.contains("Exception") || m.contains("Error:")) {
                internal.add(m);
            }
        }))) {
            server.start();
            SocketAddress address = server.address();
            for (int i = 0; i < cases && !stopRequested; i++) {
                SplittableRandom r = new SplittableRandom(seed + i);
                byte[] stream = mangle(validSession(r), r);
                res.cases++;
                progress.accept(res.cases);
                String where = "nbd seed " + (seed + i);
                try (SocketChannel ch = SocketChannel.open(address)) {
                    Future<Long> replies = drain.submit(() -> {
                        ByteBuffer sink = ByteBuffer.allocate(1 << 16);
                        long n = 0;
                        while (true) {
                            sink.clear();
                            int k = ch.read(sink);
                            if (k < 0) {
                                return n;
                            }
                            n += k;
                        }
                    });
                    ByteBuffer out = ByteBuffer.wrap(stream);
                    try {
                        while (out.hasRemaining()) {
                            ch.write(out);
                        }
                        ch.shutdownOutput();
                    } catch (IOException e) {
                        // the server hung up first: fine
                    }
                    try {
                        replies.get(5, TimeUnit.SECONDS);
                        res.refused++;
                    } catch (TimeoutException e) {
                        res.fail(where + ": the server neither replied to the end nor closed within 5 s");
                    } catch (Exception e) {
                        res.refused++; // reset by the server
                    }
                }
                if (!internal.isEmpty()) {
                    res.fail(where + ": internal error: " + internal);
                    internal.clear();
                }
                if (i % 50 == 49 || i == cases - 1) {
                    String bad = wellBehavedRoundTrip(address, i);
                    if (bad != null) {
                        res.fail(where + ": afterwards " + bad);
                    }
                }
            }
        } finally {
            drain.shutdownNow();
            ScratchFiles.delete(sock);
        }
        String bad = t.engine().checkInvariants();
        if (bad != null) {
            res.fail("invariants after fuzzing: " + bad);
        }
        if (t.engine().statusFields()[0] != 0) {
            res.fail("the target is in the error state after fuzzing: " + t.engine().errorText());
        }
        res.loaded = res.cases - res.refused - res.failures;
        t.remove();
        return res;
    }

    /** Null if a clean client can write and read back a block. */
    private static String wellBehavedRoundTrip(SocketAddress address, int i) {
        try (SocketChannel ch = SocketChannel.open(address)) {
            byte[] block = new byte[4096];
            Arrays.fill(block, (byte) i);
            ByteBuffer b = ByteBuffer.allocate(1 << 14);
            b.putInt(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
            b.putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_GO).putInt(6).putInt(0).putShort((short) 0);
            b.putInt(Nbd.REQUEST_MAGIC).putShort((short) 0).putShort((short) Nbd.CMD_WRITE).putLong(1).putLong(3L << 20).putInt(4096).put(block);
            b.putInt(Nbd.REQUEST_MAGIC).putShort((short) 0).putShort((short) Nbd.CMD_READ).putLong(2).putLong(3L << 20).putInt(4096);
            b.flip();
            while (b.hasRemaining()) {
                ch.write(b);
            }
            // greeting 18, then INFO (20+12), INFO (20+14), ACK (20), two replies (16, 16 + 4096)
            ByteBuffer in = ByteBuffer.allocate(18 + 32 + 34 + 20 + 16 + 16 + 4096);
            while (in.hasRemaining()) {
                if (ch.read(in) < 0) {
                    return "a clean session was cut after " + in.position() + " bytes";
                }
            }
            in.flip();
            byte[] got = Arrays.copyOfRange(in.array(), in.limit() - 4096, in.limit());
            return Arrays.equals(got, block) ? null : "a clean write was not read back";
        } catch (IOException e) {
            return "a clean session failed: " + e;
        }
    }
}
