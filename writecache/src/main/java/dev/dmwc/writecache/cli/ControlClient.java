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

    @Command(name = "status", mixinStandardHelpOptions = true, header = "Status of a running dmwc serve (dmsetup status, named fields, counters).",
            description = {"The status of a running dmwc serve: dmsetup's status and table lines, the 14 fields by name, "
                + "writeback totals and the server's counters."})
    static final class Status implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        Target target;

        @Option(names = "--json", description = "Print the JSON object.")
        boolean json;

        @Override
        public Integer call() {
            String reply = request(target.control, target.listen, "status");
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
                    System.out.printf("  %-28s %s%n", k, e.getValue());
                }
            }
            return 0;
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
