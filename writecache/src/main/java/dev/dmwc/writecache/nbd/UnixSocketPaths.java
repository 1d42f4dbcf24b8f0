package dev.dmwc.writecache.nbd;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Binding a Unix socket at a path: a socket left there by a server that is gone is replaced; a
 * socket a server still listens on (another {@code dmwc serve}) or a file that is not a socket is
 * refused, and left as it is.
 */
final class UnixSocketPaths {
    private UnixSocketPaths() {
    }

    static ServerSocketChannel bind(Path path) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            a = null;
        }
        if (a != null) {
            if (!a.isOther()) {
                throw new IOException(path + " exists and is not a socket (" + (a.isDirectory() ? "a directory" : a.isSymbolicLink()
                        ? "a symbolic link" : "a file") + "); not replaced");
            }
            if (listening(path)) {
                throw new IOException(path + " is in use: a server listens on it (another dmwc serve?)");
            }
            Files.delete(path); // left by a server that is gone
        }
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return ch;
    }

    private static boolean listening(Path path) {
        SocketChannel c;
        try {
            c = SocketChannel.open(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            return false; // refused: nobody listens
        }
        try {
            c.close();
        } catch (IOException e) {
            // connected is what counts
        }
        return true;
    }
}
