package dev.dmwc.writecache.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code dmwc}: the entry point. Bad arguments exit 2 with a one-line error. */
@Command(name = "dmwc", mixinStandardHelpOptions = true, version = "dmwc 0.1.0 (dm-writecache 1.6.0 port)",
        description = "Userspace emulator of Linux dm-writecache: kernel-exact scripts, images, tools.",
        subcommands = {ScriptCommand.class, ReplayCommand.class, TraceCommand.class, ServeCommand.class, BenchCommand.class, ControlClient.Status.class, ControlClient.Message.class, CrashtestCommand.class, StressCommand.class, FuzzCommand.class, DumpCommand.class, CheckCommand.class, InfoCommand.class,
            CommandLine.HelpCommand.class, picocli.AutoComplete.GenerateCompletion.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("dmwc: " + ex.getMessage());
            c.getErr().println("try: " + c.getCommandSpec().qualifiedName() + " --help");
            return 2;
        });
        cl.setExecutionStrategy(parsed -> {
            int code;
            try {
                code = new CommandLine.RunLast().execute(parsed);
            } finally {
                Signals.reset(); // a command's Ctrl-C handling ends with it
            }
            // PrintStream keeps its write errors to itself: a report cut short on a full disk would exit 0
            return code == 0 && System.out.checkError() ? stdoutFailed(parsed.commandSpec().commandLine().getErr()) : code;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (ex instanceof UsageError) {
                c.getErr().println("dmwc: " + dev.dmwc.writecache.trace.Traces.shown(ex.getMessage()));
                return 2;
            }
            if (ex instanceof OutputError) {
                return stdoutFailed(c.getErr());
            }
            if (ex instanceof java.nio.file.FileSystemException f && f.getFile() != null) {
                // a file the system refuses (read-only file system, permission, no such file): where, and why
                String why = f.getReason() != null ? f.getReason()
                        : f instanceof java.nio.file.NoSuchFileException ? "no such file or directory"
                        : f instanceof java.nio.file.AccessDeniedException ? "permission denied"
                        : f instanceof java.nio.file.FileAlreadyExistsException ? "it already exists"
                        : f instanceof java.nio.file.NotDirectoryException ? "not a directory"
                        : f.getClass().getSimpleName();
                c.getErr().println("dmwc: cannot use " + dev.dmwc.writecache.trace.Traces.shown(f.getFile()) + ": " + why);
                return 2;
            }
            c.getErr().println("dmwc: " + dev.dmwc.writecache.trace.Traces.shown(ex.toString()));
            return 1;
        });
        return cl;
    }

    /** Held here: a logger's level is lost when nothing references the logger any more. */
    private static final java.util.logging.Logger CHRONICLE_LOG = java.util.logging.Logger.getLogger("net.openhft");

    public static void main(String[] args) {
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        // Chronicle announces itself at INFO ("Chronicle core loaded…", "Took N ms to add mapping…")
        CHRONICLE_LOG.setLevel(java.util.logging.Level.WARNING);
        for (java.util.logging.Handler h : root.getHandlers()) {
            h.setFormatter(new java.util.logging.SimpleFormatter() {
                @Override
                public String format(java.util.logging.LogRecord r) {
                    return r.getLevel() + ": " + r.getMessage() + System.lineSeparator();
                }
            });
        }
        CommandLine cl = commandLine();
        if (!Ascii.charsetHasAll(Ascii.charset("stdout"))) {
            System.setOut(new Ascii(System.out, Ascii.charset("stdout")));
            cl.setOut(Ascii.writer(System.out));
        }
        if (!Ascii.charsetHasAll(Ascii.charset("stderr"))) {
            System.setErr(new Ascii(System.err, Ascii.charset("stderr")));
            cl.setErr(Ascii.writer(System.err));
        }
        System.exit(cl.execute(args));
    }

    /**
     * Output in a locale whose charset lacks the few non-ASCII characters dmwc prints (C or POSIX,
     * i.e. ASCII, as in many containers and CI jobs): "µs" would come out as "?s" and "…" as "?", so
     * they are written as ASCII there ("us", "...").
     */
    static final class Ascii extends java.io.PrintStream {
        /** Each character dmwc's messages use, and what stands for it in ASCII. */
        private static final String[][] TABLE = {{"µ", "u"}, {"…", "..."}, {"×", "x"}, {"≥", ">="}, {"—", "--"}, {"–", "-"},
            {"→", "->"}, {"é", "e"}};

        private Ascii(java.io.PrintStream out, java.nio.charset.Charset cs) {
            super(out, true, cs);
        }

        /** What System.out or System.err encodes with: {@code stdout.encoding} (Java 19+), else as Java 17 chose it. */
        static java.nio.charset.Charset charset(String stream) {
            String name = System.getProperty(stream + ".encoding", System.getProperty("sun." + stream + ".encoding"));
            try {
                return name != null ? java.nio.charset.Charset.forName(name) : java.nio.charset.Charset.defaultCharset();
            } catch (IllegalArgumentException e) {
                return java.nio.charset.Charset.defaultCharset();
            }
        }

        static boolean charsetHasAll(java.nio.charset.Charset cs) {
            java.nio.charset.CharsetEncoder e = cs.newEncoder();
            for (String[] t : TABLE) {
                if (!e.canEncode(t[0])) {
                    return false;
                }
            }
            return true;
        }

        static String ascii(String s) {
            for (String[] t : TABLE) {
                if (s.contains(t[0])) {
                    s = s.replace(t[0], t[1]);
                }
            }
            return s;
        }

        /** picocli's writer over {@code out}: characters, not bytes already encoded, reach {@link #print(String)}. */
        static java.io.PrintWriter writer(java.io.PrintStream out) {
            return new java.io.PrintWriter(new java.io.Writer() {
                @Override
                public void write(char[] c, int off, int len) {
                    out.print(new String(c, off, len));
                }

                @Override
                public void flush() {
                    out.flush();
                }

                @Override
                public void close() {
                    out.flush();
                }
            }, true);
        }

        // println, printf, format and append all come through print(String) in a subclass
        @Override
        public void print(String s) {
            super.print(s == null ? null : ascii(s));
        }

        @Override
        public void print(Object o) {
            print(String.valueOf(o));
        }

        @Override
        public void print(char c) {
            print(String.valueOf(c));
        }

        @Override
        public void print(char[] s) {
            print(new String(s));
        }
    }

    /**
     * Refuses, before any work, an output file ({@code option FILE}) that could not be written at the
     * end: its directory missing or not writable, or the path a directory. {@code null} and "-"
     * (stdout) pass.
     */
    static void checkOutput(java.nio.file.Path file, String option) {
        if (file == null || file.toString().equals("-")) {
            return;
        }
        java.nio.file.Path parent = file.toAbsolutePath().getParent();
        if (java.nio.file.Files.isDirectory(file)) {
            throw new UsageError(option + " " + file + ": is a directory; name a file");
        }
        if (parent == null || !java.nio.file.Files.isDirectory(parent)) {
            throw new UsageError(option + " " + file + ": cannot write it, no directory " + parent);
        }
        if (!java.nio.file.Files.isWritable(parent)) {
            throw new UsageError(option + " " + file + ": cannot write in " + parent + " (permission denied)");
        }
    }

    /**
     * The exit of a command whose standard output could not be written. Into a pipe, that is its reader
     * gone (dmwc … | head): quietly 141, as a process SIGPIPE ends (the JVM ignores SIGPIPE); anything
     * else (a full disk) is an error: 1, said.
     */
    static int stdoutFailed(java.io.PrintWriter err) {
        try {
            if (java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/1")).toString().startsWith("pipe:")) {
                return 141;
            }
        } catch (java.io.IOException | UnsupportedOperationException e) {
            // no /proc: said as an error below
        }
        err.println("dmwc: " + OutputError.STDOUT);
        return 1;
    }

    /** Standard output that could not be written, met part way: {@link #stdoutFailed}. */
    public static final class OutputError extends java.io.IOException {
        private static final long serialVersionUID = 1L;

        static final String STDOUT = "cannot write standard output: what was written there is incomplete";

        public OutputError(String message) {
            super(message);
        }
    }

    /** A bad input that should exit 2 with one line. */
    public static final class UsageError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public UsageError(String message) {
            super(message);
        }
    }
}
