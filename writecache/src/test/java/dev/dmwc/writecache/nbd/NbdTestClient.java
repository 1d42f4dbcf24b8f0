package dev.dmwc.writecache.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/** A raw NBD client for tests: it sends what it is told, well formed or not. */
public final class NbdTestClient implements AutoCloseable {
    final SocketChannel ch;

    NbdTestClient(SocketAddress address) throws IOException {
        ch = SocketChannel.open(address);
    }

    /** Greeting, client flags, GO with the empty name: ready for requests. Returns the export size. */
    static NbdTestClient connected(SocketAddress address) throws IOException {
        NbdTestClient c = new NbdTestClient(address);
        c.greeting();
        c.writeInt(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
        c.option(Nbd.OPT_GO, ByteBuffer.allocate(6).putInt(0).putShort((short) 0).array());
        while (true) {
            OptionReply r = c.optionReply();
            if (r.type == Nbd.REP_ACK) {
                return c;
            }
            if (r.type != Nbd.REP_INFO) {
                throw new IOException("GO failed: reply type 0x" + Integer.toHexString(r.type));
            }
        }
    }

    ByteBuffer read(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new EOFException("server closed after " + b.position() + " of " + n + " bytes");
            }
        }
        return b.flip();
    }

    void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    void writeInt(int v) throws IOException {
        write(ByteBuffer.allocate(4).putInt(v).flip());
    }

    /** Reads the 18-byte greeting and checks its magic numbers. */
    int greeting() throws IOException {
        ByteBuffer g = read(18);
        if (g.getLong() != Nbd.NBDMAGIC || g.getLong() != Nbd.IHAVEOPT) {
            throw new IOException("bad greeting");
        }
        return g.getShort();
    }

    void option(int option, byte[] data) throws IOException {
        write(ByteBuffer.allocate(16 + data.length).putLong(Nbd.IHAVEOPT).putInt(option).putInt(data.length).put(data).flip());
    }

    record OptionReply(int option, int type, byte[] data) {
    }

    OptionReply optionReply() throws IOException {
        ByteBuffer h = read(20);
        if (h.getLong() != Nbd.OPT_REPLY_MAGIC) {
            throw new IOException("bad option reply magic");
        }
        int option = h.getInt();
        int type = h.getInt();
        int len = h.getInt();
        byte[] d = new byte[len];
        read(len).get(d);
        return new OptionReply(option, type, d);
    }

    void request(int flags, int type, long cookie, long offset, int length, byte[] payload) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(28 + (payload == null ? 0 : payload.length));
        b.putInt(Nbd.REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(cookie).putLong(offset).putInt(length);
        if (payload != null) {
            b.put(payload);
        }
        write(b.flip());
    }

    record Reply(int error, long cookie) {
    }

    Reply reply() throws IOException {
        ByteBuffer h = read(16);
        if (h.getInt() != Nbd.SIMPLE_REPLY_MAGIC) {
            throw new IOException("bad reply magic");
        }
        return new Reply(h.getInt(), h.getLong());
    }

    /** WRITE and wait for its reply; returns the error. */
    /**
     * For tests elsewhere: write 4 KiB blocks at random offsets of the first {@code span} bytes of
     * the export at {@code address}, one at a time, until {@code stop} says so. Returns how many.
     */
    public static long writeUntil(SocketAddress address, long span, java.util.function.BooleanSupplier stop) throws IOException {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(1);
        byte[] block = new byte[4096];
        long n = 0;
        try (NbdTestClient c = connected(address)) {
            while (!stop.getAsBoolean()) {
                if (c.pwrite(rnd.nextLong(span / 4096) * 4096, block, false) != 0) {
                    throw new IOException("write refused");
                }
                n++;
            }
        }
        return n;
    }

    int pwrite(long offset, byte[] data, boolean fua) throws IOException {
        request(fua ? Nbd.CMD_FLAG_FUA : 0, Nbd.CMD_WRITE, offset, offset, data.length, data);
        return reply().error;
    }

    byte[] pread(long offset, int length) throws IOException {
        request(0, Nbd.CMD_READ, offset, offset, length, null);
        Reply r = reply();
        if (r.error != 0) {
            throw new IOException("read error " + r.error);
        }
        byte[] d = new byte[length];
        read(length).get(d);
        return d;
    }

    int flush() throws IOException {
        request(0, Nbd.CMD_FLUSH, 7, 0, 0, null);
        return reply().error;
    }

    /** True if the server has closed the connection (reads EOF within a second). */
    boolean closedByServer() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1);
        ch.configureBlocking(false);
        long deadline = System.currentTimeMillis() + 5000;
        try {
            while (System.currentTimeMillis() < deadline) {
                int n;
                try {
                    n = ch.read(b);
                } catch (IOException e) {
                    return true; // reset
                }
                if (n < 0) {
                    return true;
                }
                if (n > 0) {
                    return false;
                }
                Thread.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            ch.configureBlocking(true);
        }
        return false;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
