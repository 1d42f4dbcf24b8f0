package dev.dmwc.writecache.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.writecache.block.MemoryBlockDevice;
import dev.dmwc.writecache.engine.ThreadedScheduler;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The NBD server over a real (threaded) target: negotiation, commands, hostile clients, concurrency. */
class NbdServerTest {
    static final long ORIGIN = 64L << 20;
    static final long CACHE = 4L << 20; // small: concurrent writes drive writeback

    @TempDir
    Path dir;
    MemoryBlockDevice origin;
    MemoryBlockDevice cache;
    WritecacheTarget target;
    NbdServer server;
    SocketAddress address;
    final List<String> log = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        origin = new MemoryBlockDevice("origin", ORIGIN);
        cache = new MemoryBlockDevice("cache", CACHE);
        target = WritecacheTarget.create(List.of("s", "origin", "cache", "4096", "0"), Map.of("origin", origin, "cache", cache),
                new ThreadedScheduler(Throwable::printStackTrace), null, log::add);
        server = new NbdServer(new CacheExport(target), "unix:" + dir.resolve("s.sock"),
                new NbdServer.Options().log(log::add).exportName(""));
        address = server.address();
        server.start();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        target.remove();
    }

    long[] status() {
        return target.engine().statusFields();
    }

    @Test
    void writeReadFlushTrimAndZeroesRoundTrip() throws Exception {
        try (NbdTestClient c = NbdTestClient.connected(address)) {
            byte[] a = pattern(1, 8192);
            assertEquals(0, c.pwrite(4096, a, false));
            assertArrayEquals(a, c.pread(4096, 8192));
            byte[] odd = pattern(2, 1000); // unaligned: read-modify-write
            assertEquals(0, c.pwrite(4096 + 100, odd, true));
            byte[] expect = a.clone();
            System.arraycopy(odd, 0, expect, 100, 1000);
            assertArrayEquals(expect, c.pread(4096, 8192));
            assertArrayEquals(Arrays.copyOfRange(expect, 50, 1150), c.pread(4096 + 50, 1100));
            assertEquals(0, c.flush());
            c.request(0, Nbd.CMD_WRITE_ZEROES, 1, 4096, 4096, null);
            assertEquals(0, c.reply().error());
            assertArrayEquals(new byte[4096], c.pread(4096, 4096));
            c.request(0, Nbd.CMD_TRIM, 2, 8192, 4096, null);
            assertEquals(0, c.reply().error());
            assertArrayEquals(new byte[4096], c.pread(8192, 4096));
            c.request(0, Nbd.CMD_DISC, 3, 0, 0, null);
            assertTrue(c.closedByServer());
        }
        assertTrue(status()[12] >= 1, "a FLUSH reached the target");
    }

    @Test
    void negotiationListInfoAndUnknownOptions() throws Exception {
        try (NbdTestClient c = new NbdTestClient(address)) {
            assertEquals(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES, c.greeting());
            c.writeInt(Nbd.FLAG_FIXED_NEWSTYLE);
            c.option(8, new byte[0]); // STRUCTURED_REPLY: not supported
            assertEquals(Nbd.REP_ERR_UNSUP, c.optionReply().type());
            c.option(10, new byte[20]); // SET_META_CONTEXT
            assertEquals(Nbd.REP_ERR_UNSUP, c.optionReply().type());
            c.option(Nbd.OPT_LIST, new byte[0]);
            NbdTestClient.OptionReply server = c.optionReply();
            assertEquals(Nbd.REP_SERVER, server.type());
            assertEquals(Nbd.REP_ACK, c.optionReply().type());
            byte[] other = NbdTestClient.utf8("other");
            c.option(Nbd.OPT_INFO, ByteBuffer.allocate(4 + other.length + 2).putInt(other.length).put(other).putShort((short) 0).array());
            assertEquals(Nbd.REP_ERR_UNKNOWN, c.optionReply().type());
            c.option(Nbd.OPT_INFO, new byte[3]); // too short
            assertEquals(Nbd.REP_ERR_INVALID, c.optionReply().type());
            c.option(Nbd.OPT_INFO, ByteBuffer.allocate(6).putInt(0).putShort((short) 0).array());
            NbdTestClient.OptionReply info = c.optionReply();
            assertEquals(Nbd.REP_INFO, info.type());
            ByteBuffer d = ByteBuffer.wrap(info.data());
            assertEquals(Nbd.INFO_EXPORT, d.getShort());
            assertEquals(ORIGIN, d.getLong());
            int flags = d.getShort();
            assertEquals(NbdServer.TRANSMISSION_FLAGS, flags);
            assertTrue((flags & Nbd.FLAG_CAN_MULTI_CONN) != 0);
            assertEquals(Nbd.REP_INFO, c.optionReply().type()); // block size
            assertEquals(Nbd.REP_ACK, c.optionReply().type());
            c.option(Nbd.OPT_ABORT, new byte[0]);
            assertEquals(Nbd.REP_ACK, c.optionReply().type());
            assertTrue(c.closedByServer());
        }
        // the oldest form: EXPORT_NAME, then size, flags and (without NO_ZEROES) 124 zero bytes
        try (NbdTestClient c = new NbdTestClient(address)) {
            c.greeting();
            c.writeInt(Nbd.FLAG_FIXED_NEWSTYLE);
            c.option(Nbd.OPT_EXPORT_NAME, new byte[0]);
            ByteBuffer r = c.read(134);
            assertEquals(ORIGIN, r.getLong());
            assertEquals(NbdServer.TRANSMISSION_FLAGS, r.getShort());
            assertEquals(0, c.flush());
        }
    }

    @Test
    void hostileClientsAreRefusedAndChangeNothing() throws Exception {
        long writesBefore = status()[6];
        // unknown client flags
        try (NbdTestClient c = new NbdTestClient(address)) {
            c.greeting();
            c.writeInt(0x80);
            assertTrue(c.closedByServer());
        }
        // bad option magic
        try (NbdTestClient c = new NbdTestClient(address)) {
            c.greeting();
            c.writeInt(1);
            c.write(ByteBuffer.allocate(16).putLong(0x1234).putInt(7).putInt(0).flip());
            assertTrue(c.closedByServer());
        }
        // an option longer than anything legitimate
        try (NbdTestClient c = new NbdTestClient(address)) {
            c.greeting();
            c.writeInt(1);
            c.write(ByteBuffer.allocate(16).putLong(Nbd.IHAVEOPT).putInt(7).putInt(0x7fffffff).flip());
            assertTrue(c.closedByServer());
        }
        // unknown export by EXPORT_NAME
        try (NbdTestClient c = new NbdTestClient(address)) {
            c.greeting();
            c.writeInt(1);
            c.option(Nbd.OPT_EXPORT_NAME, NbdTestClient.utf8("nope"));
            assertTrue(c.closedByServer());
        }
        try (NbdTestClient c = NbdTestClient.connected(address)) {
            // read and write past the end, overflowing offsets, reads too long, unknown commands
            c.request(0, Nbd.CMD_READ, 1, ORIGIN - 512, 4096, null);
            assertEquals(new NbdTestClient.Reply(Nbd.EINVAL, 1), c.reply());
            c.request(0, Nbd.CMD_WRITE, 2, ORIGIN, 4096, new byte[4096]);
            assertEquals(new NbdTestClient.Reply(Nbd.ENOSPC, 2), c.reply());
            c.request(0, Nbd.CMD_WRITE, 3, Long.MAX_VALUE - 10, 512, new byte[512]);
            assertEquals(new NbdTestClient.Reply(Nbd.ENOSPC, 3), c.reply());
            c.request(0, Nbd.CMD_READ, 4, 0, 0x7fffffff, null);
            assertEquals(new NbdTestClient.Reply(Nbd.EINVAL, 4), c.reply());
            c.request(0, 99, 5, 0, 4096, null);
            assertEquals(new NbdTestClient.Reply(Nbd.EINVAL, 5), c.reply());
            c.request(0, Nbd.CMD_TRIM, 6, ORIGIN - 4096, 8192, null);
            assertEquals(new NbdTestClient.Reply(Nbd.ENOSPC, 6), c.reply());
            // still in step: a good request works
            assertArrayEquals(new byte[512], c.pread(0, 512));
            // a write announcing more than the maximum payload: disconnected
            c.request(0, Nbd.CMD_WRITE, 7, 0, Nbd.MAX_PAYLOAD + 1, null);
            assertTrue(c.closedByServer());
        }
        try (NbdTestClient c = NbdTestClient.connected(address)) {
            c.write(ByteBuffer.allocate(28).putInt(0xdeadbeef).position(28).flip()); // bad request magic
            assertTrue(c.closedByServer());
        }
        assertEquals(writesBefore, status()[6], "no write reached the target");
        assertTrue(log.stream().anyMatch(l -> l.contains("bad request magic 0xdeadbeef")), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("bad option magic")), log.toString());
        // and the server still serves
        try (NbdTestClient c = NbdTestClient.connected(address)) {
            assertEquals(0, c.pwrite(0, pattern(3, 4096), false));
            assertArrayEquals(pattern(3, 4096), c.pread(0, 4096));
        }
    }

    @Test
    void clientHangingUpWithRequestsInFlightLeavesServerHealthy() throws Exception {
        for (int round = 0; round < 5; round++) {
            NbdTestClient c = NbdTestClient.connected(address);
            for (int i = 0; i < 200; i++) {
                c.request(0, Nbd.CMD_WRITE, i, (long) i * 4096, 4096, pattern(round, 4096));
            }
            c.request(0, Nbd.CMD_FLUSH, 999, 0, 0, null);
            c.close(); // without reading a single reply
        }
        try (NbdTestClient c = NbdTestClient.connected(address)) {
            assertEquals(0, c.flush());
            byte[] last = c.pread(0, 4096);
            assertEquals(4096, last.length);
        }
        assertEquals(null, target.engine().checkInvariants());
        assertEquals(0, status()[0], "no error state");
    }

    @Test
    void concurrentConnectionsOnOneCacheIncludingSubBlockWritesToSharedBlocks() throws Exception {
        int clients = 4;
        int blocks = 3000; // 12 MiB through a 4 MiB cache: writeback runs meanwhile
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> fs = new ArrayList<>();
        for (int k = 0; k < clients; k++) {
            int me = k;
            fs.add(pool.submit(() -> {
                try (NbdTestClient c = NbdTestClient.connected(address)) {
                    // pipelined: 16 in flight, replies matched by cookie
                    int sent = 0;
                    int got = 0;
                    boolean[] seen = new boolean[blocks];
                    while (got < blocks) {
                        while (sent < blocks && sent - got < 16) {
                            // client k owns quarter k of every block (1024 bytes): a read-modify-write
                            long off = (long) sent * 4096 + me * 1024L;
                            c.request(0, Nbd.CMD_WRITE, sent, off, 1024, stamp(sent, me));
                            sent++;
                        }
                        NbdTestClient.Reply r = c.reply();
                        assertEquals(0, r.error());
                        assertTrue(!seen[(int) r.cookie()], "one reply per cookie");
                        seen[(int) r.cookie()] = true;
                        got++;
                    }
                    assertEquals(0, c.flush());
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get();
        }
        pool.shutdown();
        try (NbdTestClient c = NbdTestClient.connected(address)) {
            for (int b = 0; b < blocks; b += 7) {
                byte[] got = c.pread((long) b * 4096, 4096);
                for (int k = 0; k < clients; k++) {
                    assertArrayEquals(stamp(b, k), Arrays.copyOfRange(got, k * 1024, (k + 1) * 1024), "block " + b + " quarter " + k);
                }
            }
        }
        assertTrue(target.engine().writebackBlocks() > 0, "writeback ran");
        assertEquals(null, target.engine().checkInvariants());
    }

    static byte[] stamp(int block, int client) {
        byte[] b = new byte[1024];
        ByteBuffer.wrap(b).putInt(block).putInt(client);
        Arrays.fill(b, 8, 1024, (byte) (block * 31 + client));
        return b;
    }

    static byte[] pattern(int seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /**
     * A TCP client that resets its connection (SO_LINGER 0: a killed client's kernel does the same)
     * while the server waits for its next request: the log says the client hung up, not the bare
     * errno text. (A reply that cannot be sent hangs the connection up without a line.)
     */
    @Test
    void aClientThatResetsItsConnectionIsLoggedAsSuch() throws Exception {
        try (NbdServer tcp = new NbdServer(new CacheExport(target), "tcp:127.0.0.1:0", new NbdServer.Options().log(log::add)
                .exportName(""))) {
            tcp.start();
            NbdTestClient c = NbdTestClient.connected(tcp.address());
            assertEquals(4096, c.pread(0, 4096).length);
            c.ch.setOption(java.net.StandardSocketOptions.SO_LINGER, 0);
            c.close();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (log.stream().noneMatch(l -> l.contains("hung up")) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(log.contains("connection 1: the client hung up (Connection reset)"), String.join("\n", log));
        }
    }

    /** The log line for a peer that went away: what happened, then the errno text; other errors as they are. */
    @Test
    void aClientThatHangsUpIsLoggedAsSuch() {
        assertEquals("the client hung up during the handshake (Broken pipe)",
                NbdServer.failure(new java.io.IOException("Broken pipe"), false));
        assertEquals("the client hung up (Connection reset by peer)",
                NbdServer.failure(new java.io.IOException("Connection reset by peer"), true));
        assertEquals("Input/output error", NbdServer.failure(new java.io.IOException("Input/output error"), true));
    }

    /** A socket path in use, or not a socket, is refused and left alone; a socket left by a server that is gone is replaced. */
    @Test
    void aUnixPathInUseOrNotASocketIsRefused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("notes.txt"), "keep me");
        java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> NbdServer.bind("unix:" + file));
        assertTrue(e.getMessage().contains("exists and is not a socket (a file); not replaced"), e.getMessage());
        org.junit.jupiter.api.Assertions.assertEquals("keep me", java.nio.file.Files.readString(file));
        java.nio.file.Path sock = dir.resolve("s.sock");
        NbdServer.Listener first = NbdServer.bind("unix:" + sock);
        try {
            e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> NbdServer.bind("unix:" + sock));
            assertTrue(e.getMessage().contains("is in use: a server listens on it"), e.getMessage());
            // the first still owns the path: a client reaches it
            try (java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(sock))) {
                assertTrue(c.isConnected());
            }
        } finally {
            first.channel().close(); // gone without removing its socket
        }
        assertTrue(java.nio.file.Files.exists(sock), "a stale socket is left");
        NbdServer.Listener again = NbdServer.bind("unix:" + sock);
        again.channel().close();
    }

    @Test
    void badListenAddressesAreClearErrors() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new NbdServer(new CacheExport(target), "tcp:localhost", new NbdServer.Options()));
        assertTrue(e.getMessage().contains("tcp:HOST:PORT"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new NbdServer(new CacheExport(target), "udp:1", new NbdServer.Options()));
        assertTrue(e.getMessage().contains("unix:PATH or tcp:HOST:PORT"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new NbdServer(new CacheExport(target), "tcp:127.0.0.1:99999", new NbdServer.Options()));
        assertTrue(e.getMessage().contains("the port must be a number 0..65535") && e.getMessage().contains("'99999'"), e.getMessage());
    }

}
