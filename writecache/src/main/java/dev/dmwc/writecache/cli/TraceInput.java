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

    /** {@link dev.dmwc.writecache.trace.Traces#resolve}: a file, or a directory of one blktrace capture; else a usage error. */
    static java.nio.file.Path resolve(java.nio.file.Path given) throws java.io.IOException {
        try {
            return dev.dmwc.writecache.trace.Traces.resolve(given);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
    }
}
