package dev.dmwc.writecache.cli;

import picocli.CommandLine.Option;

/** The options that say how to read a trace, shared by replay, trace stats and trace convert. */
final class TraceInput {
    @Option(names = "--format", paramLabel = "F",
            description = "blkparse, blktrace, fio2, fio3, msr, spc, alibaba, tencent, or csv:op=N,offset=N[:unit],"
                    + "size=N[:unit][,time=N:s|ms|us|ns|filetime][,volume=N][,delimiter=…][,header=true] (default: detect)")
    String format;

    @Option(names = "--events", paramLabel = "Q|D", defaultValue = "Q",
            description = "blkparse/blktrace events: Q (bios as submitted) or D (requests as issued). Default: ${DEFAULT-VALUE}")
    String events;

    /**
     * {@link dev.dmwc.writecache.trace.Traces#resolve}: a file, or a directory of one blktrace capture; else a usage error.
     * '-' is standard input, copied to a scratch file first (a trace is read more than once: its extent, then the requests).
     */
    static java.nio.file.Path resolve(java.nio.file.Path given) throws java.io.IOException {
        if (given.toString().equals("-")) {
            return fromStdin();
        }
        try {
            return dev.dmwc.writecache.trace.Traces.resolve(given);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
    }

    /** {@link #resolve} of each; '-' (standard input) at most once. */
    static java.util.List<java.nio.file.Path> resolveAll(java.util.List<java.nio.file.Path> given) throws java.io.IOException {
        if (given.stream().filter(p -> p.toString().equals("-")).count() > 1) {
            throw new Main.UsageError("'-' (standard input) can be one of the traces only once");
        }
        java.util.List<java.nio.file.Path> resolved = new java.util.ArrayList<>();
        for (java.nio.file.Path t : given) {
            resolved.add(resolve(t));
        }
        return resolved;
    }

    /** Standard input copied to {@code stdin} in a scratch directory of the temporary directory, removed at exit. */
    private static java.nio.file.Path fromStdin() throws java.io.IOException {
        java.nio.file.Path fd0 = java.nio.file.Path.of("/proc/self/fd/0");
        if (java.nio.file.Files.isSymbolicLink(fd0)) {
            String to = java.nio.file.Files.readSymbolicLink(fd0).toString();
            if (to.startsWith("/dev/pts/") || to.startsWith("/dev/tty")) {
                throw new Main.UsageError("'-' reads the trace from standard input, which is a terminal: pipe a trace in "
                        + "(blkparse -i - | dmwc …) or name the file");
            }
        }
        java.nio.file.Path dir = dev.dmwc.writecache.block.ScratchFiles.createDirectory(
                java.nio.file.Path.of(System.getProperty("java.io.tmpdir")), "stdin");
        java.nio.file.Path file = dev.dmwc.writecache.block.ScratchFiles.register(dir.resolve("stdin"));
        try (java.io.OutputStream o = java.nio.file.Files.newOutputStream(file)) {
            System.in.transferTo(o);
        }
        if (java.nio.file.Files.size(file) == 0) {
            throw new Main.UsageError("'-': standard input was empty, no trace in it");
        }
        dev.dmwc.writecache.trace.Traces.stdinCopy(file);
        return file;
    }
}
