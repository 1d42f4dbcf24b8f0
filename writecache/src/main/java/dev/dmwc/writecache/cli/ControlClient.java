package dev.dmwc.writecache.cli;

import dev.dmwc.writecache.nbd.ControlSocket;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dmwc status} and {@code dmwc message}: talk to a running {@code dmwc serve}. */
final class ControlClient {
    private ControlClient() {
    }

    static String request(Path control, String listen, String line) {
        Path p = control != null ? control : ControlSocket.defaultPath(listen);
        try {
            return ControlSocket.request(p, line);
        } catch (IOException e) {
            throw new Main.UsageError("no dmwc serve answers on " + p + " (" + e.getMessage() + "); is it running, with this --listen?");
        }
    }

    /** The serve's status reply; one it cannot give yet (still opening its devices) is an error that says so. */
    static String status(Target target) {
        String reply = request(target.control, target.listen, "status");
        if (reply.contains("\"ok\": false")) {
            throw new Main.UsageError("status: " + flatten(reply).getOrDefault("error", reply.trim()));
        }
        return reply;
    }

    @Command(name = "status", mixinStandardHelpOptions = true, header = "Status of a running dmwc serve (dmsetup status, named fields, counters).",
            description = {"The status of a running dmwc serve: dmsetup's status and table lines, the 14 fields by name, "
                + "writeback totals and the server's counters."})
    static final class Status implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        Target target;

        @Option(names = "--json", description = "Print the JSON object (with --watch: one object a line, JSON Lines).")
        boolean json;

        @Option(names = "--watch", paramLabel = "SECONDS",
                description = "Print a line every SECONDS (like iostat): blocks used and under writeback, and over the "
                        + "interval reads and writes per second (blocks, as the status counts them) with their hit ratios, writes around the cache and blocked on "
                        + "the freelist, write-back MB/s, NBD requests and MB/s. Ends with --count, Ctrl-C, or when the serve stops.")
        Double watch;

        @Option(names = "--count", paramLabel = "N", description = "With --watch: stop after N lines.")
        Integer count;

        @Override
        public Integer call() throws InterruptedException, Main.OutputError {
            if (count != null && watch == null) {
                throw new Main.UsageError("--count needs --watch");
            }
            if (watch != null) {
                if (!(watch > 0 && watch <= 3600)) {
                    throw new Main.UsageError("--watch must be more than 0 and at most 3600 seconds, not " + watch);
                }
                if (count != null && count < 1) {
                    throw new Main.UsageError("--count must be at least 1, not " + count);
                }
                return watch();
            }
            String reply = status(target);
            if (json) {
                System.out.print(reply);
                return 0;
            }
            java.util.Map<String, String> flat = flatten(reply);
            System.out.println("table:  " + flat.get("table"));
            System.out.println("status: " + flat.get("status"));
            for (var e : flat.entrySet()) {
                if (!e.getKey().equals("table") && !e.getKey().equals("status")) {
                    String k = e.getKey().startsWith("fields.") ? e.getKey().substring(7) : e.getKey();
                    String v = e.getValue() == null || e.getValue().equals("null") ? "-" : e.getValue(); // no error text: none yet
                    System.out.printf("  %-28s %s%n", k, v);
                }
            }
            return 0;
        }

        /** A sample's counters by name (the flattened status; server counters as "server.…"). */
        private static java.util.Map<String, Long> numbers(String reply) {
            java.util.Map<String, Long> out = new java.util.HashMap<>();
            for (var e : flatten(reply).entrySet()) {
                try {
                    out.put(e.getKey().startsWith("fields.") ? e.getKey().substring(7) : e.getKey(), Long.parseLong(e.getValue()));
                } catch (NumberFormatException notACounter) {
                    // the table and status lines, error_text, uptime
                }
            }
            return out;
        }

        private static final String[] SERVER_REQUESTS = {"server.reads", "server.writes", "server.flushes", "server.trims",
            "server.write_zeroes"};

        private int watch() throws InterruptedException, Main.OutputError {
            Path control = target.control != null ? target.control : ControlSocket.defaultPath(target.listen);
            String first = status(target);
            String[] table = flatten(first).getOrDefault("table", "").split("\\s+");
            long blockSize = table.length > 6 && table[6].matches("\\d+") ? Long.parseLong(table[6]) : 4096;
            java.util.Map<String, Long> prev = numbers(first);
            long prevNanos = System.nanoTime();
            long intervalNanos = (long) (watch * 1e9);
            String header = String.format(java.util.Locale.ROOT, "%-8s %9s %6s %8s %9s %6s %9s %6s %9s %9s %8s %9s %8s %8s",
                    "time", "used", "used", "under wb", "reads/s", "hit", "writes/s", "hit", "around/s", "blocked/s", "wb MB/s",
                    "nbd req/s", "in MB/s", "out MB/s");
            for (int line = 0; count == null || line < count; line++) {
                long next = prevNanos + intervalNanos;
                for (long left = next - System.nanoTime(); left > 0; left = next - System.nanoTime()) {
                    Thread.sleep(Math.max(1, left / 1_000_000L));
                }
                String reply;
                try {
                    reply = ControlSocket.request(control, "status");
                } catch (IOException e) {
                    System.err.println("dmwc: the serve no longer answers on " + control + " (" + e.getMessage() + "): stopped watching");
                    return 0;
                }
                long now = System.nanoTime();
                java.util.Map<String, Long> cur = numbers(reply);
                java.util.Map<String, Object> row = interval(prev, cur, (now - prevNanos) / 1e9, blockSize);
                if (json) {
                    System.out.print(Json.line(row));
                } else {
                    if (line % 20 == 0) {
                        System.out.println(header);
                    }
                    System.out.printf(java.util.Locale.ROOT, "%-8s %9d %5.1f%% %8d %9.0f %6s %9.0f %6s %9.0f %9.0f %8.1f %9.0f %8.1f %8.1f%n",
                            row.get("time"), row.get("used_blocks"), (long) row.get("blocks") == 0 ? 0.0
                                    : 100.0 * (long) row.get("used_blocks") / (long) row.get("blocks"),
                            row.get("blocks_under_writeback"), row.get("reads_per_s"), percent(row.get("read_hit_ratio")),
                            row.get("writes_per_s"), percent(row.get("write_hit_ratio")), row.get("writes_around_per_s"),
                            row.get("writes_blocked_on_freelist_per_s"), row.get("writeback_mb_per_s"), row.get("nbd_requests_per_s"),
                            row.get("nbd_write_mb_per_s"), row.get("nbd_read_mb_per_s"));
                }
                if (System.out.checkError()) { // its reader gone (status --watch 1 | head): watching on would go nowhere, forever
                    throw new Main.OutputError(Main.OutputError.STDOUT);
                }
                prev = cur;
                prevNanos = now;
            }
            return 0;
        }

        /**
         * One line of {@code --watch}: the state now and, over the {@code seconds} since {@code prev},
         * the rates (counters that went down were reset by {@code clear_stats}: then all of the count is
         * since the reset).
         */
        static java.util.Map<String, Object> interval(java.util.Map<String, Long> prev, java.util.Map<String, Long> cur,
                double seconds, long blockSize) {
            java.util.Map<String, Long> d = new java.util.HashMap<>();
            for (var e : cur.entrySet()) {
                long before = prev.getOrDefault(e.getKey(), 0L);
                d.put(e.getKey(), e.getValue() >= before ? e.getValue() - before : e.getValue());
            }
            long reads = d.getOrDefault("reads", 0L);
            long writes = d.getOrDefault("writes", 0L);
            long writeHits = d.getOrDefault("write_hits_uncommitted", 0L) + d.getOrDefault("write_hits_committed", 0L);
            long nbdRequests = 0;
            for (String k : SERVER_REQUESTS) {
                nbdRequests += d.getOrDefault(k, 0L);
            }
            long blocks = cur.getOrDefault("blocks", 0L);
            java.util.Map<String, Object> row = new java.util.LinkedHashMap<>();
            row.put("time", java.time.LocalTime.now().withNano(0).toString());
            row.put("interval_s", seconds);
            row.put("blocks", blocks);
            row.put("used_blocks", blocks - cur.getOrDefault("free_blocks", 0L));
            row.put("blocks_under_writeback", cur.getOrDefault("blocks_under_writeback", 0L));
            row.put("reads_per_s", reads / seconds);
            row.put("read_hit_ratio", reads == 0 ? null : (double) d.getOrDefault("read_hits", 0L) / reads);
            row.put("writes_per_s", writes / seconds);
            row.put("write_hit_ratio", writes == 0 ? null : (double) writeHits / writes);
            row.put("writes_around_per_s", d.getOrDefault("writes_around", 0L) / seconds);
            row.put("writes_blocked_on_freelist_per_s", d.getOrDefault("writes_blocked_on_freelist", 0L) / seconds);
            row.put("writeback_mb_per_s", d.getOrDefault("writeback_blocks", 0L) * blockSize / seconds / 1e6);
            row.put("nbd_requests_per_s", nbdRequests / seconds);
            row.put("nbd_write_mb_per_s", d.getOrDefault("server.bytes_written", 0L) / seconds / 1e6);
            row.put("nbd_read_mb_per_s", d.getOrDefault("server.bytes_read", 0L) / seconds / 1e6);
            return row;
        }

        private static String percent(Object ratio) {
            return ratio == null ? "-" : String.format(java.util.Locale.ROOT, "%.1f%%", 100 * (double) ratio);
        }
    }

    @Command(name = "message", mixinStandardHelpOptions = true, header = "Send a dmsetup message to a running dmwc serve.",
            description = {"Send a target message to a running dmwc serve, as dmsetup message does: flush, flush_on_suspend, "
                + "cleaner, clear_stats."})
    static final class Message implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        Target target;

        @Parameters(arity = "1..*", paramLabel = "MSG", description = "The message and its arguments.")
        java.util.List<String> message;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            String reply = request(target.control, target.listen, "message " + String.join(" ", message));
            if (reply.contains("\"ok\": true")) {
                return 0;
            }
            spec.commandLine().getErr().println("dmwc: message refused: " + flatten(reply).getOrDefault("error", reply.trim()));
            return 1;
        }
    }

    /** Where the serve is. */
    static final class Target {
        @Option(names = "--listen", paramLabel = "unix:PATH|tcp:HOST:PORT", defaultValue = "tcp:127.0.0.1:10809",
                description = "The serve's --listen (finds its control socket). Default: ${DEFAULT-VALUE}")
        String listen;

        @Option(names = "--control", paramLabel = "PATH", description = "The serve's control socket, if it was given one.")
        Path control;
    }

    /** The leaves of our own JSON output as "key" → text, in order (nested keys joined by '.'). */
    static java.util.Map<String, String> flatten(String json) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        java.util.Deque<String> path = new java.util.ArrayDeque<>();
        for (String raw : json.split("\n")) {
            String line = raw.trim();
            if (line.startsWith("}")) {
                if (!path.isEmpty()) {
                    path.removeLast();
                }
                continue;
            }
            int colon = line.indexOf("\": ");
            if (!line.startsWith("\"") || colon < 0) {
                continue;
            }
            String key = line.substring(1, colon);
            String value = line.substring(colon + 3);
            if (value.endsWith(",")) {
                value = value.substring(0, value.length() - 1);
            }
            if (value.equals("{")) {
                path.addLast(key);
                continue;
            }
            if (value.startsWith("\"") && value.endsWith("\"")) {
                value = value.substring(1, value.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
            }
            String full = path.isEmpty() ? key : String.join(".", path) + "." + key;
            out.put(full, value);
        }
        return out;
    }
}
