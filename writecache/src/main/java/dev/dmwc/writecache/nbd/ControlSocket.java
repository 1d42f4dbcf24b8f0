package dev.dmwc.writecache.nbd;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * The control channel of a running {@code dmwc serve} ({@code dmwc status}, {@code dmwc message}):
 * a Unix socket where a client writes one request line and reads the reply until the server
 * closes. Requests are served one at a time.
 */
public final class ControlSocket implements AutoCloseable {
    private static final int MAX_LINE = 4096;

    private final Path path;
    private final ServerSocketChannel server;
    private final Function<String, String> handler;
    private volatile boolean closed;

    public ControlSocket(Path path, Function<String, String> handler) throws IOException {
        this.path = path;
        this.handler = handler;
        server = UnixSocketPaths.bind(path);
        Thread t = new Thread(this::serve, "dmwc-control");
        t.setDaemon(true);
        t.start();
    }

    /** The control socket beside an NBD listen address: {@code unix:P} → {@code P.ctl}, TCP → by port in the temp dir. */
    public static Path defaultPath(String listen) {
        if (listen.startsWith("unix:")) {
            return Path.of(listen.substring(5) + ".ctl");
        }
        String port = listen.substring(listen.lastIndexOf(':') + 1);
        return Path.of(System.getProperty("java.io.tmpdir"), "dmwc-serve-" + port + ".ctl");
    }

    public Path path() {
        return path;
    }

    private void serve() {
        while (!closed) {
            try (SocketChannel ch = server.accept()) {
                String line = readLine(ch);
                String reply = line == null ? "error: request line longer than " + MAX_LINE + " bytes\n" : handler.apply(line);
                ByteBuffer b = ByteBuffer.wrap(reply.getBytes(StandardCharsets.UTF_8));
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            } catch (IOException | RuntimeException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private static String readLine(SocketChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(MAX_LINE);
        while (b.hasRemaining()) {
            int n = ch.read(b);
            if (n < 0) {
                break;
            }
            for (int i = b.position() - n; i < b.position(); i++) {
                if (b.get(i) == '\n') {
                    return new String(b.array(), 0, i, StandardCharsets.UTF_8);
                }
            }
        }
        return b.hasRemaining() ? new String(b.array(), 0, b.position(), StandardCharsets.UTF_8) : null;
    }

    /** Client side: send {@code request}, return the whole reply. */
    public static String request(Path path, String request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            ByteBuffer b = ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            return new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        Files.deleteIfExists(path);
    }
}
