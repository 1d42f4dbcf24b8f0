package dev.dmwc.writecache.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A fixed-newstyle NBD server for one export ({@code NetworkBlockDevice/nbd:doc/proto.md}).
 *
 * <p>Negotiation: EXPORT_NAME, ABORT, LIST, INFO and GO (INFO_EXPORT, INFO_BLOCK_SIZE); every
 * other option gets {@code ERR_UNSUP}, so clients fall back to simple replies. Transmission: READ,
 * WRITE, FLUSH, TRIM, WRITE_ZEROES (each with FUA) and DISC. The flags advertise CAN_MULTI_CONN:
 * all connections share the one cache, and a FLUSH is a commit of it.
 *
 * <p>Each connection has a reader thread that decodes requests and hands them to a shared worker
 * pool, so requests are served concurrently and replied to as they finish, matched by cookie. A
 * client breaking the protocol (bad magic, an option or write too long to skip) is disconnected
 * with a log line; requests with bad offsets or unknown commands get the errno the protocol
 * prescribes; neither touches the export, and the server keeps serving everyone else.
 */
public final class NbdServer implements AutoCloseable {
    /** HAS_FLAGS, SEND_FLUSH, SEND_FUA, SEND_TRIM, SEND_WRITE_ZEROES, CAN_MULTI_CONN. */
    static final int TRANSMISSION_FLAGS = Nbd.FLAG_HAS_FLAGS | Nbd.FLAG_SEND_FLUSH | Nbd.FLAG_SEND_FUA
            | Nbd.FLAG_SEND_TRIM | Nbd.FLAG_SEND_WRITE_ZEROES | Nbd.FLAG_CAN_MULTI_CONN;

    /** Server settings. */
    public static final class Options {
        String exportName = "";
        int workers = Math.max(2, Runtime.getRuntime().availableProcessors());
        boolean inline = true;
        int maxConnections = 64;
        Consumer<String> log = m -> { };

        public Options exportName(String v) {
            exportName = v;
            return this;
        }

        /** Threads of the shared pool that serves requests not served inline (at least 1). */
        public Options workers(int v) {
            workers = Math.max(1, v);
            return this;
        }

        /**
         * True (the default): reads, writes, trims and zeroing run on the connection's reader
         * thread and their replies are sent in batches, while flushes and FUA requests (which
         * commit) go to the pool; false: every request goes to the pool.
         */
        public Options inline(boolean v) {
            inline = v;
            return this;
        }

        public Options maxConnections(int v) {
            maxConnections = v;
            return this;
        }

        public Options log(Consumer<String> v) {
            log = v;
            return this;
        }
    }

    /** Counters since start, all monotonic except {@code connectionsOpen}. */
    public static final class Stats {
        public final AtomicLong connections = new AtomicLong();
        public final AtomicInteger connectionsOpen = new AtomicInteger();
        public final AtomicLong reads = new AtomicLong();
        public final AtomicLong writes = new AtomicLong();
        public final AtomicLong flushes = new AtomicLong();
        public final AtomicLong trims = new AtomicLong();
        public final AtomicLong writeZeroes = new AtomicLong();
        public final AtomicLong bytesRead = new AtomicLong();
        public final AtomicLong bytesWritten = new AtomicLong();
        public final AtomicLong errorReplies = new AtomicLong();
        public final AtomicLong protocolErrors = new AtomicLong();

        public long requests() {
            return reads.get() + writes.get() + flushes.get() + trims.get() + writeZeroes.get();
        }
    }

    private final Export export;
    private final Options opts;
    private final ServerSocketChannel server;
    private final Path unixPath;
    private final ExecutorService workers;
    private final Set<Connection> live = ConcurrentHashMap.newKeySet();
    private final Stats stats = new Stats();
    private volatile boolean closed;

    /** A bound listening socket, made before anything else so a busy address changes nothing. */
    public record Listener(ServerSocketChannel channel, Path unixPath) {
    }

    /** Bind {@code listen}: {@code unix:PATH} or {@code tcp:HOST:PORT} (port 0: any free port). */
    public static Listener bind(String listen) throws IOException {
        int port = checkListen(listen);
        if (port < 0) {
            Path unixPath = Path.of(listen.substring(5));
            return new Listener(UnixSocketPaths.bind(unixPath), unixPath);
        }
        String hp = listen.substring(4);
        String host = hp.substring(0, hp.lastIndexOf(':'));
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("--listen " + listen + ": no such host '" + host + "'");
        }
        ServerSocketChannel ch = ServerSocketChannel.open();
        try {
            ch.bind(address);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return new Listener(ch, null);
    }

    /** {@code listen}: {@code unix:PATH} or {@code tcp:HOST:PORT} (port 0: any free port). */
    public NbdServer(Export export, String listen, Options opts) throws IOException {
        this(export, bind(listen), opts);
    }

    public NbdServer(Export export, Listener listener, Options opts) {
        this.export = export;
        this.opts = opts;
        this.server = listener.channel();
        this.unixPath = listener.unixPath();
        AtomicInteger n = new AtomicInteger();
        workers = Executors.newFixedThreadPool(opts.workers, r -> {
            Thread t = new Thread(r, "nbd-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Check a listen address: {@code unix:PATH} (returns -1) or {@code tcp:HOST:PORT} (returns the
     * port); anything else is an IllegalArgumentException naming the expected forms.
     */
    public static int checkListen(String listen) {
        if (listen.startsWith("unix:") && listen.length() > 5) {
            return -1;
        }
        if (listen.startsWith("tcp:")) {
            String hp = listen.substring(4);
            int c = hp.lastIndexOf(':');
            if (c <= 0) {
                throw new IllegalArgumentException("--listen tcp:HOST:PORT needs a host and a port, not '" + listen + "'");
            }
            String digits = hp.substring(c + 1);
            int port = digits.matches("[0-9]{1,5}") ? Integer.parseInt(digits) : -1;
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("--listen " + listen + ": the port must be a number 0..65535 (0: any free port), not '"
                        + digits + "'");
            }
            return port;
        }
        throw new IllegalArgumentException("--listen must be unix:PATH or tcp:HOST:PORT, not '" + listen + "'");
    }

    public SocketAddress address() throws IOException {
        return server.getLocalAddress();
    }

    /** The address as an NBD URI ({@code nbd://…} or {@code nbd+unix:///?socket=…}). */
    public String uri() throws IOException {
        String name = opts.exportName;
        if (unixPath != null) {
            return "nbd+unix:///" + name + "?socket=" + unixPath.toAbsolutePath();
        }
        InetSocketAddress a = (InetSocketAddress) server.getLocalAddress();
        return "nbd://" + a.getHostString() + ":" + a.getPort() + "/" + name;
    }

    public Stats stats() {
        return stats;
    }

    /** Accept connections until {@link #close()}; each gets a reader thread. */
    public void serve() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    opts.log.accept("accept failed: " + e.getMessage());
                }
                return;
            }
            long id = stats.connections.incrementAndGet();
            if (live.size() >= opts.maxConnections) {
                opts.log.accept("connection " + id + ": refused, " + opts.maxConnections + " already open");
                closeQuietly(ch);
                continue;
            }
            Connection c = new Connection(ch, id);
            live.add(c);
            Thread th = new Thread(c, "nbd-conn-" + id);
            th.setDaemon(true);
            th.start();
        }
    }

    /** Serve on a daemon thread. */
    public Thread start() {
        Thread t = new Thread(this::serve, "nbd-accept");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Stop accepting, disconnect every client, and wait up to {@code timeoutMs} for the requests
     * already taken in to finish (their replies may no longer reach anyone).
     */
    public void shutdown(long timeoutMs) {
        closed = true;
        closeQuietly(server);
        for (Connection c : live) {
            c.hangUp();
        }
        long deadline = System.currentTimeMillis() + timeoutMs;
        for (Connection c : live) {
            c.awaitIdle(Math.max(1, deadline - System.currentTimeMillis()));
        }
        workers.shutdown();
        try {
            workers.awaitTermination(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws IOException {
        shutdown(30_000);
        if (unixPath != null) {
            Files.deleteIfExists(unixPath);
        }
    }

    /**
     * A connection's end for the log. A peer that closes its socket while the server writes to it
     * (a port probe during the handshake) or resets it (a killed client) shows up as the errno
     * text; say what happened.
     */
    static String failure(IOException e, boolean transmitting) {
        String why = String.valueOf(e.getMessage());
        if (why.equals("Broken pipe") || why.startsWith("Connection reset")) { // Java says "Connection reset" for ECONNRESET
            return "the client hung up" + (transmitting ? "" : " during the handshake") + " (" + why + ")";
        }
        return why;
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /** A protocol violation after which the connection is dropped. */
    private static final class ProtocolError extends Exception {
        private static final long serialVersionUID = 1L;

        ProtocolError(String message) {
            super(message);
        }
    }

    /** One client: negotiation, then requests until DISC or hang-up. */
    private final class Connection implements Runnable {
        private final SocketChannel ch;
        private final long id;
        private final ByteBuffer in = ByteBuffer.allocateDirect(1 << 16).flip();
        private final Object sendLock = new Object();
        /** Replies waiting to be sent together (under sendLock). */
        private final ByteBuffer out = ByteBuffer.allocateDirect(1 << 18);
        /**
         * The payload of the request being served inline (direct memory: pmem's copy is then one
         * non-temporal native copy, not a Java copy plus a write-back pass). One inline request runs
         * at a time per connection, and its reply is sent or copied before the next is read.
         */
        private ByteBuffer inlineBuf = ByteBuffer.allocateDirect(1 << 20);

        private ByteBuffer inlineBuffer(int len) {
            if (inlineBuf.capacity() < len) {
                inlineBuf = ByteBuffer.allocateDirect(len);
            }
            return inlineBuf.clear().limit(len);
        }
        private final Object idle = new Object();
        private int inFlight;
        private volatile boolean dead;

        Connection(SocketChannel ch, long id) {
            this.ch = ch;
            this.id = id;
        }

        @Override
        public void run() {
            stats.connectionsOpen.incrementAndGet();
            boolean transmitting = false;
            try {
                if (negotiate()) {
                    transmitting = true;
                    transmission();
                }
            } catch (ProtocolError e) {
                stats.protocolErrors.incrementAndGet();
                opts.log.accept("connection " + id + ": " + e.getMessage() + ": disconnecting");
            } catch (EOFException | ClosedChannelException e) {
                // the client hung up (or we are shutting down)
            } catch (IOException e) {
                if (!dead) {
                    opts.log.accept("connection " + id + ": " + failure(e, transmitting));
                }
            } finally {
                awaitIdle(60_000);
                hangUp();
                live.remove(this);
                stats.connectionsOpen.decrementAndGet();
            }
        }

        void hangUp() {
            dead = true;
            closeQuietly(ch);
        }

        void awaitIdle(long timeoutMs) {
            long deadline = System.currentTimeMillis() + timeoutMs;
            synchronized (idle) {
                while (inFlight > 0) {
                    long left = deadline - System.currentTimeMillis();
                    if (left <= 0) {
                        return;
                    }
                    try {
                        idle.wait(left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }

        // ------------------------------------------------------------------ input

        private void fill(int n) throws IOException {
            if (in.remaining() >= n) {
                return;
            }
            flushReplies(); // about to wait for the client: let it see what is done
            in.compact();
            while (in.position() < n) {
                if (ch.read(in) < 0) {
                    in.flip();
                    throw new EOFException();
                }
            }
            in.flip();
        }

        private int readInt() throws IOException {
            fill(4);
            return in.getInt();
        }

        private long readLong() throws IOException {
            fill(8);
            return in.getLong();
        }

        private void readFully(ByteBuffer dst) throws IOException {
            if (dst.remaining() > in.remaining()) {
                flushReplies();
            }
            int take = Math.min(in.remaining(), dst.remaining());
            if (take > 0) {
                ByteBuffer part = in.slice(in.position(), take);
                dst.put(part);
                in.position(in.position() + take);
            }
            while (dst.hasRemaining()) {
                if (ch.read(dst) < 0) {
                    throw new EOFException();
                }
            }
        }

        // ------------------------------------------------------------------ output

        private void flushReplies() throws IOException {
            synchronized (sendLock) {
                out.flip();
                while (out.hasRemaining()) {
                    ch.write(out);
                }
                out.clear();
            }
        }

        private void send(ByteBuffer... bufs) throws IOException {
            synchronized (sendLock) {
                if (out.position() > 0) {
                    out.flip();
                    while (out.hasRemaining()) {
                        ch.write(out);
                    }
                    out.clear();
                }
                long left = 0;
                for (ByteBuffer b : bufs) {
                    left += b.remaining();
                }
                while (left > 0) {
                    left -= ch.write(bufs);
                }
            }
        }

        private void optionReply(int option, int type, byte[] data) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(20 + data.length);
            b.putLong(Nbd.OPT_REPLY_MAGIC).putInt(option).putInt(type).putInt(data.length).put(data).flip();
            send(b);
        }

        // ------------------------------------------------------------------ negotiation

        /** True when the client moved to transmission. */
        private boolean negotiate() throws IOException, ProtocolError {
            ByteBuffer hello = ByteBuffer.allocate(18);
            hello.putLong(Nbd.NBDMAGIC).putLong(Nbd.IHAVEOPT).putShort((short) (Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES)).flip();
            send(hello);
            int clientFlags = readInt();
            if ((clientFlags & ~(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES)) != 0) {
                throw new ProtocolError("unknown client flags 0x" + Integer.toHexString(clientFlags));
            }
            boolean noZeroes = (clientFlags & Nbd.FLAG_NO_ZEROES) != 0;
            while (true) {
                long magic = readLong();
                if (magic != Nbd.IHAVEOPT) {
                    throw new ProtocolError("bad option magic 0x" + Long.toHexString(magic));
                }
                int option = readInt();
                long length = readInt() & 0xffffffffL;
                if (length > Nbd.MAX_OPTION) {
                    throw new ProtocolError("option " + option + " of " + length + " bytes (limit " + Nbd.MAX_OPTION + ")");
                }
                ByteBuffer data = ByteBuffer.allocate((int) length);
                readFully(data);
                data.flip();
                switch (option) {
                    case Nbd.OPT_EXPORT_NAME -> {
                        String name = StandardCharsets.UTF_8.decode(data).toString();
                        if (!name.equals(opts.exportName)) {
                            throw new ProtocolError("EXPORT_NAME '" + name + "' is not exported");
                        }
                        ByteBuffer b = ByteBuffer.allocate(noZeroes ? 10 : 134);
                        b.putLong(export.size()).putShort((short) TRANSMISSION_FLAGS).position(b.capacity()).flip();
                        send(b);
                        return true;
                    }
                    case Nbd.OPT_ABORT -> {
                        optionReply(option, Nbd.REP_ACK, new byte[0]);
                        return false;
                    }
                    case Nbd.OPT_LIST -> {
                        if (length != 0) {
                            optionReply(option, Nbd.REP_ERR_INVALID, new byte[0]);
                            continue;
                        }
                        byte[] n = opts.exportName.getBytes(StandardCharsets.UTF_8);
                        optionReply(option, Nbd.REP_SERVER, ByteBuffer.allocate(4 + n.length).putInt(n.length).put(n).array());
                        optionReply(option, Nbd.REP_ACK, new byte[0]);
                    }
                    case Nbd.OPT_INFO, Nbd.OPT_GO -> {
                        int check = checkInfoRequest(data);
                        if (check != 0) {
                            optionReply(option, check, new byte[0]);
                            continue;
                        }
                        optionReply(option, Nbd.REP_INFO, ByteBuffer.allocate(12).putShort((short) Nbd.INFO_EXPORT)
                                .putLong(export.size()).putShort((short) TRANSMISSION_FLAGS).array());
                        optionReply(option, Nbd.REP_INFO, ByteBuffer.allocate(14).putShort((short) Nbd.INFO_BLOCK_SIZE)
                                .putInt(1).putInt(export.preferredBlockSize()).putInt(Nbd.MAX_PAYLOAD).array());
                        optionReply(option, Nbd.REP_ACK, new byte[0]);
                        if (option == Nbd.OPT_GO) {
                            return true;
                        }
                    }
                    default -> optionReply(option, Nbd.REP_ERR_UNSUP, new byte[0]);
                }
            }
        }

        /** 0 if an INFO/GO payload is well formed and names this export, else the error reply. */
        private int checkInfoRequest(ByteBuffer d) {
            if (d.remaining() < 6) {
                return Nbd.REP_ERR_INVALID;
            }
            long nameLen = d.getInt() & 0xffffffffL;
            if (nameLen > d.remaining() - 2) {
                return Nbd.REP_ERR_INVALID;
            }
            byte[] nb = new byte[(int) nameLen];
            d.get(nb);
            int nInfos = d.getShort() & 0xffff;
            if (d.remaining() != 2 * nInfos) {
                return Nbd.REP_ERR_INVALID;
            }
            return new String(nb, StandardCharsets.UTF_8).equals(opts.exportName) ? 0 : Nbd.REP_ERR_UNKNOWN;
        }

        // ------------------------------------------------------------------ transmission

        private void transmission() throws IOException, ProtocolError {
            long size = export.size();
            while (true) {
                fill(28);
                int magic = in.getInt();
                if (magic != Nbd.REQUEST_MAGIC) {
                    throw new ProtocolError("bad request magic 0x" + Integer.toHexString(magic));
                }
                int flags = in.getShort() & 0xffff;
                int type = in.getShort() & 0xffff;
                long cookie = in.getLong();
                long offset = in.getLong();
                long length = in.getInt() & 0xffffffffL;
                if (type == Nbd.CMD_DISC) {
                    flushReplies();
                    return; // run() waits for what is in flight, then closes
                }
                ByteBuffer payload = null;
                boolean commits = type == Nbd.CMD_FLUSH || (flags & Nbd.CMD_FLAG_FUA) != 0;
                boolean inline = opts.inline && !commits;
                if (type == Nbd.CMD_WRITE) {
                    if (length > Nbd.MAX_PAYLOAD) {
                        throw new ProtocolError("WRITE of " + length + " bytes (limit " + Nbd.MAX_PAYLOAD + ")");
                    }
                    payload = inline ? inlineBuffer((int) length) : ByteBuffer.allocate((int) length);
                    readFully(payload);
                    payload.flip();
                }
                int err = validate(type, offset, length, size);
                if (err != 0) {
                    stats.errorReplies.incrementAndGet();
                    reply(cookie, err, null, true);
                    continue;
                }
                Request r = new Request(type, flags, cookie, offset, length, payload);
                synchronized (idle) {
                    inFlight++;
                }
                if (inline) {
                    r.batched = true;
                    if (type == Nbd.CMD_READ) {
                        r.readBuf = inlineBuffer((int) length);
                    }
                    r.run();
                } else {
                    try {
                        workers.execute(r);
                    } catch (RejectedExecutionException e) {
                        r.finished();
                        return; // shutting down
                    }
                }
            }
        }

        private int validate(int type, long offset, long length, long size) {
            switch (type) {
                case Nbd.CMD_READ, Nbd.CMD_WRITE, Nbd.CMD_TRIM, Nbd.CMD_WRITE_ZEROES -> {
                    if (type == Nbd.CMD_READ && length > Nbd.MAX_PAYLOAD) {
                        return Nbd.EINVAL;
                    }
                    if (offset < 0 || offset > size || length > size - offset) {
                        return type == Nbd.CMD_READ ? Nbd.EINVAL : Nbd.ENOSPC;
                    }
                    return 0;
                }
                case Nbd.CMD_FLUSH -> {
                    return 0;
                }
                default -> {
                    return Nbd.EINVAL;
                }
            }
        }

        /** Send a simple reply; {@code batched}: it may wait in the reply buffer until the reader would block. */
        private void reply(long cookie, int err, ByteBuffer data, boolean batched) {
            if (dead) {
                return;
            }
            try {
                synchronized (sendLock) {
                    int dataLength = data == null ? 0 : data.remaining();
                    if (batched && dataLength <= 16384) {
                        if (out.remaining() < 16 + dataLength) {
                            flushReplies();
                        }
                        out.putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(err).putLong(cookie);
                        if (data != null) {
                            out.put(data);
                        }
                        return;
                    }
                    ByteBuffer h = ByteBuffer.allocate(16);
                    h.putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(err).putLong(cookie).flip();
                    if (data == null) {
                        send(h);
                    } else {
                        send(h, data);
                    }
                }
            } catch (IOException e) {
                hangUp(); // the client went away; what is in flight still completes
            }
        }

        /** One decoded request, carried out on a worker. */
        private final class Request implements Runnable {
            final int type;
            final int flags;
            final long cookie;
            final long offset;
            final long length;
            final ByteBuffer payload;
            boolean batched;
            /** Where a READ's data goes, when the connection lends its buffer (inline). */
            ByteBuffer readBuf;

            Request(int type, int flags, long cookie, long offset, long length, ByteBuffer payload) {
                this.type = type;
                this.flags = flags;
                this.cookie = cookie;
                this.offset = offset;
                this.length = length;
                this.payload = payload;
            }

            @Override
            public void run() {
                try {
                    boolean fua = (flags & Nbd.CMD_FLAG_FUA) != 0;
                    ByteBuffer data = null;
                    int err;
                    switch (type) {
                        case Nbd.CMD_READ -> {
                            data = readBuf != null ? readBuf : ByteBuffer.allocate((int) length);
                            err = export.read(offset, data);
                            data.position(0).limit((int) length);
                            stats.reads.incrementAndGet();
                            stats.bytesRead.addAndGet(length);
                        }
                        case Nbd.CMD_WRITE -> {
                            err = export.write(offset, payload, fua);
                            stats.writes.incrementAndGet();
                            stats.bytesWritten.addAndGet(length);
                        }
                        case Nbd.CMD_FLUSH -> {
                            err = export.flush();
                            stats.flushes.incrementAndGet();
                        }
                        case Nbd.CMD_TRIM -> {
                            err = export.trim(offset, length, fua);
                            stats.trims.incrementAndGet();
                        }
                        case Nbd.CMD_WRITE_ZEROES -> {
                            err = export.writeZeroes(offset, length, fua);
                            stats.writeZeroes.incrementAndGet();
                        }
                        default -> err = Nbd.EINVAL;
                    }
                    if (err != 0) {
                        stats.errorReplies.incrementAndGet();
                        data = null;
                    }
                    reply(cookie, err, data, batched);
                } catch (RuntimeException e) {
                    opts.log.accept("connection " + id + ": " + Nbd.commandName(type) + " at " + offset + ": " + e);
                    stats.errorReplies.incrementAndGet();
                    reply(cookie, Nbd.EIO, null, batched);
                } finally {
                    finished();
                }
            }

            void finished() {
                synchronized (idle) {
                    if (--inFlight == 0) {
                        idle.notifyAll();
                    }
                }
            }
        }
    }
}
