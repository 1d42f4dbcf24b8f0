package dev.dmwc.writecache.nbd;

import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A fixed-newstyle NBD server for one export: the write-back cache. Options: EXPORT_NAME, ABORT,
 * LIST, INFO, GO (INFO_EXPORT, INFO_BLOCK_SIZE); anything else gets ERR_UNSUP. Commands: READ,
 * WRITE (FUA), FLUSH, TRIM, WRITE_ZEROES, DISC. Simple replies. CAN_MULTI_CONN: every connection
 * shares the one cache, so a flush is a global commit. Requests not aligned to the cache block
 * are read-modify-written. A client that breaks the protocol (bad magic, oversized request) is
 * disconnected; the server goes on serving the others.
 */
public final class NbdServer implements AutoCloseable {
    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final long OPT_REPLY_MAGIC = 0x3e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_INFO = 6;
    static final int OPT_GO = 7;
    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_ERR_UNSUP = 0x80000001;
    static final int REP_ERR_INVALID = 0x80000003;
    static final int REP_ERR_UNKNOWN = 0x80000006;
    static final int INFO_EXPORT = 0;
    static final int INFO_BLOCK_SIZE = 3;
    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_WRITE_ZEROES = 6;
    static final int CMD_FLAG_FUA = 1;
    static final int EIO = 5;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int ENOTSUP = 95;
    static final int MAX_PAYLOAD = 32 << 20;
    /** HAS_FLAGS, SEND_FLUSH, SEND_FUA, SEND_TRIM, SEND_WRITE_ZEROES, CAN_MULTI_CONN. */
    static final short TRANSMISSION_FLAGS = (short) (1 | 4 | 8 | 32 | 64 | 256);

    private final EngineLoop engine;
    private final String exportName;
    private final long size;
    private final int blockSize;
    private final Consumer<String> log;
    private final ServerSocketChannel server;
    private final Path unixPath;
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private volatile boolean closed;

    /** {@code listen}: {@code unix:PATH} or {@code tcp:HOST:PORT}. */
    public NbdServer(EngineLoop engine, String exportName, String listen, Consumer<String> log) throws IOException {
        this.engine = engine;
        this.exportName = exportName;
        this.log = log;
        WritecacheTarget t = engine.target();
        this.size = t.lengthSectors() * 512;
        this.blockSize = t.engine().blockSize();
        if (listen.startsWith("unix:")) {
            unixPath = Path.of(listen.substring(5));
            Files.deleteIfExists(unixPath);
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(unixPath));
        } else if (listen.startsWith("tcp:")) {
            String hp = listen.substring(4);
            int c = hp.lastIndexOf(':');
            if (c < 0) {
                throw new IllegalArgumentException("--listen tcp:HOST:PORT, not '" + listen + "'");
            }
            unixPath = null;
            server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress(hp.substring(0, c), Integer.parseInt(hp.substring(c + 1))));
        } else {
            throw new IllegalArgumentException("--listen must be unix:PATH or tcp:HOST:PORT, not '" + listen + "'");
        }
    }

    public SocketAddress address() throws IOException {
        return server.getLocalAddress();
    }

    public long requests() {
        return requests.get();
    }

    /** Accept connections until closed; each is served on its own thread. */
    public void serve() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.accept("accept failed: " + e.getMessage());
                }
                return;
            }
            long id = connections.incrementAndGet();
            Thread th = new Thread(() -> connection(ch, id), "nbd-conn-" + id);
            th.setDaemon(true);
            th.start();
        }
    }

    private void connection(SocketChannel ch, long id) {
        try (ch) {
            DataInputStream in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(ch), 1 << 16));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16));
            if (!handshake(in, out)) {
                return;
            }
            transmission(in, out, id);
        } catch (EOFException e) {
            // the client hung up
        } catch (IOException | RuntimeException e) {
            log.accept("connection " + id + ": " + e.getMessage());
        }
    }

    /** Fixed newstyle negotiation; true when the client entered transmission. */
    private boolean handshake(DataInputStream in, DataOutputStream out) throws IOException {
        out.writeLong(NBDMAGIC);
        out.writeLong(IHAVEOPT);
        out.writeShort(1 | 2); // FIXED_NEWSTYLE | NO_ZEROES
        out.flush();
        int clientFlags = in.readInt();
        if ((clientFlags & ~3) != 0) {
            log.accept("client flags 0x" + Integer.toHexString(clientFlags) + " unknown: closing");
            return false;
        }
        boolean noZeroes = (clientFlags & 2) != 0;
        while (true) {
            long magic = in.readLong();
            if (magic != IHAVEOPT) {
                log.accept("bad option magic 0x" + Long.toHexString(magic) + ": closing");
                return false;
            }
            int opt = in.readInt();
            int len = in.readInt();
            if (len < 0 || len > 65536) {
                log.accept("option " + opt + " with length " + len + ": closing");
                return false;
            }
            byte[] data = new byte[len];
            in.readFully(data);
            ByteBuffer d = ByteBuffer.wrap(data);
            switch (opt) {
                case OPT_EXPORT_NAME -> {
                    String name = new String(data, StandardCharsets.UTF_8);
                    if (!name.isEmpty() && !name.equals(exportName)) {
                        return false;
                    }
                    out.writeLong(size);
                    out.writeShort(TRANSMISSION_FLAGS);
                    if (!noZeroes) {
                        out.write(new byte[124]);
                    }
                    out.flush();
                    return true;
                }
                case OPT_ABORT -> {
                    optReply(out, opt, REP_ACK, new byte[0]);
                    return false;
                }
                case OPT_LIST -> {
                    byte[] n = exportName.getBytes(StandardCharsets.UTF_8);
                    ByteBuffer b = ByteBuffer.allocate(4 + n.length).putInt(n.length).put(n);
                    optReply(out, opt, REP_SERVER, b.array());
                    optReply(out, opt, REP_ACK, new byte[0]);
                }
                case OPT_INFO, OPT_GO -> {
                    if (len < 6) {
                        optReply(out, opt, REP_ERR_INVALID, new byte[0]);
                        continue;
                    }
                    int nameLen = d.getInt();
                    if (nameLen < 0 || nameLen > len - 6) {
                        optReply(out, opt, REP_ERR_INVALID, new byte[0]);
                        continue;
                    }
                    byte[] nb = new byte[nameLen];
                    d.get(nb);
                    String name = new String(nb, StandardCharsets.UTF_8);
                    if (!name.isEmpty() && !name.equals(exportName)) {
                        optReply(out, opt, REP_ERR_UNKNOWN, new byte[0]);
                        continue;
                    }
                    ByteBuffer ex = ByteBuffer.allocate(12).putShort((short) INFO_EXPORT).putLong(size).putShort(TRANSMISSION_FLAGS);
                    optReply(out, opt, REP_INFO, ex.array());
                    ByteBuffer bsz = ByteBuffer.allocate(14).putShort((short) INFO_BLOCK_SIZE).putInt(blockSize)
                            .putInt(blockSize).putInt(MAX_PAYLOAD);
                    optReply(out, opt, REP_INFO, bsz.array());
                    optReply(out, opt, REP_ACK, new byte[0]);
                    if (opt == OPT_GO) {
                        return true;
                    }
                }
                default -> optReply(out, opt, REP_ERR_UNSUP, new byte[0]);
            }
        }
    }

    private static void optReply(DataOutputStream out, int opt, int type, byte[] data) throws IOException {
        out.writeLong(OPT_REPLY_MAGIC);
        out.writeInt(opt);
        out.writeInt(type);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    private void transmission(DataInputStream in, DataOutputStream out, long id) throws IOException {
        CompletableFuture<?> last = CompletableFuture.completedFuture(null);
        while (true) {
            int magic = in.readInt();
            if (magic != REQUEST_MAGIC) {
                log.accept("connection " + id + ": bad request magic 0x" + Integer.toHexString(magic) + ": closing");
                return;
            }
            int flags = in.readUnsignedShort();
            int type = in.readUnsignedShort();
            long cookie = in.readLong();
            long offset = in.readLong();
            long length = in.readInt() & 0xffffffffL;
            if (type == CMD_DISC) {
                last.join(); // finish what is outstanding
                return;
            }
            byte[] payload = null;
            if (type == CMD_WRITE) {
                if (length > MAX_PAYLOAD) {
                    log.accept("connection " + id + ": write of " + length + " bytes exceeds " + MAX_PAYLOAD + ": closing");
                    return;
                }
                payload = new byte[(int) length];
                in.readFully(payload);
            }
            requests.incrementAndGet();
            byte[] data = payload;
            last = engine.submit(() -> {
                reply(out, cookie, type, flags, offset, length, data);
                return null;
            });
        }
    }

    /** On the engine thread: carry out one command and send its reply. */
    private void reply(DataOutputStream out, long cookie, int type, int flags, long offset, long length, byte[] data)
            throws IOException {
        WritecacheTarget t = engine.target();
        int err = 0;
        byte[] readData = null;
        if (type != CMD_FLUSH && (offset < 0 || offset + length > size || length > MAX_PAYLOAD)) {
            err = type == CMD_WRITE || type == CMD_WRITE_ZEROES ? ENOSPC : EINVAL;
        } else {
            switch (type) {
                case CMD_READ -> {
                    readData = new byte[(int) length];
                    err = rmwRead(t, offset, readData);
                }
                case CMD_WRITE -> err = write(t, offset, data, (flags & CMD_FLAG_FUA) != 0);
                case CMD_WRITE_ZEROES -> err = write(t, offset, new byte[(int) length], (flags & CMD_FLAG_FUA) != 0);
                case CMD_FLUSH -> err = code(t.flush());
                case CMD_TRIM -> {
                    long a = (offset + blockSize - 1) / blockSize * blockSize;
                    long b = (offset + length) / blockSize * blockSize;
                    if (b > a) {
                        err = code(t.submit(Bio.Op.DISCARD, 0, a >> 9, (int) (b - a), null));
                    }
                    if (err == 0 && (flags & CMD_FLAG_FUA) != 0) {
                        err = code(t.flush());
                    }
                }
                default -> err = EINVAL;
            }
        }
        synchronized (out) {
            out.writeInt(SIMPLE_REPLY_MAGIC);
            out.writeInt(err);
            out.writeLong(cookie);
            if (type == CMD_READ && err == 0) {
                out.write(readData);
            }
            out.flush();
        }
    }

    private static int code(String errno) {
        if (errno == null) {
            return 0;
        }
        return switch (errno) {
            case "EINVAL" -> EINVAL;
            case "ENOSPC" -> ENOSPC;
            default -> EIO;
        };
    }

    private int rmwRead(WritecacheTarget t, long offset, byte[] dst) {
        long a0 = offset / blockSize * blockSize;
        long a1 = (offset + dst.length + blockSize - 1) / blockSize * blockSize;
        ByteBuffer b = ByteBuffer.allocate((int) (a1 - a0));
        int err = code(t.submit(Bio.Op.READ, 0, a0 >> 9, (int) (a1 - a0), b));
        if (err == 0) {
            System.arraycopy(b.array(), (int) (offset - a0), dst, 0, dst.length);
        }
        return err;
    }

    private int write(WritecacheTarget t, long offset, byte[] src, boolean fua) {
        long a0 = offset / blockSize * blockSize;
        long a1 = (offset + src.length + blockSize - 1) / blockSize * blockSize;
        ByteBuffer b;
        if (a0 == offset && a1 == offset + src.length) {
            b = ByteBuffer.wrap(src);
        } else {
            byte[] whole = new byte[(int) (a1 - a0)];
            int err = rmwRead(t, a0, whole);
            if (err != 0) {
                return err;
            }
            System.arraycopy(src, 0, whole, (int) (offset - a0), src.length);
            b = ByteBuffer.wrap(whole);
        }
        return code(t.submit(Bio.Op.WRITE, fua ? Bio.REQ_FUA : 0, a0 >> 9, (int) (a1 - a0), b));
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        if (unixPath != null) {
            Files.deleteIfExists(unixPath);
        }
    }
}
