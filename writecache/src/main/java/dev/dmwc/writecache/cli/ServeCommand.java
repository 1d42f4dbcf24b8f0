package dev.dmwc.writecache.cli;

import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.engine.Writecache;
import dev.dmwc.writecache.nbd.CacheExport;
import dev.dmwc.writecache.nbd.ControlSocket;
import dev.dmwc.writecache.nbd.NbdServer;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", header = "Serve the cache as an NBD export (fio, qemu-img, nbdcopy, nbdinfo).", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve the write-back cache as an NBD export for fio --ioengine=nbd, qemu-img, nbdcopy and nbdinfo. "
                + "Existing device files are loaded (the kernel's recovery), missing ones are created sparse. The "
                + "engine runs on real threads in wall-clock time: autocommit, max_age and writeback behave as in the "
                + "kernel. SIGINT/SIGTERM stop accepting, finish what is in flight and suspend the target (a commit) "
                + "before exit, so everything acknowledged is on the devices for the next start. While it runs: dmwc "
                + "status, dmwc message MSG (same --listen) talk to it through its control socket."},
        footer = {"", "Examples:",
            "  ./dmwc serve --listen unix:/tmp/wc.sock --mode p",
            "  fio --name=w --ioengine=nbd --uri='nbd+unix:///?socket=/tmp/wc.sock' --rw=randwrite --bs=4k --iodepth=32 --size=256m",
            "  qemu-img convert -n -f raw -O raw disk.img nbd://127.0.0.1:10809/"})
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--listen", paramLabel = "unix:PATH|tcp:HOST:PORT", defaultValue = "tcp:127.0.0.1:10809",
            description = "Where to listen. Default: ${DEFAULT-VALUE}")
    String listen;

    @Mixin
    DeviceOptions devices;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--export", paramLabel = "NAME", defaultValue = "", description = "Export name (default: the empty name).")
    String export;

    @Option(names = "--workers", paramLabel = "N",
            description = "Threads of the shared request pool (default: the number of CPUs, at least 2).")
    Integer workers;

    @Option(names = "--dispatch", paramLabel = "inline|pool", defaultValue = "inline",
            description = "inline: reads and writes run on each connection's reader thread, replies are batched, flushes and FUA go to the pool; pool: every request goes to the pool. Default: ${DEFAULT-VALUE}")
    String dispatch;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "64", description = "Clients served at once; one more is closed at once (the serve log says so). Default: ${DEFAULT-VALUE}")
    int maxConnections;

    @Option(names = "--control", paramLabel = "PATH",
            description = "Control socket for dmwc status/message (default: the listen path + .ctl, or dmwc-serve-PORT.ctl in the temp dir).")
    Path control;

    @Override
    public Integer call() throws Exception {
        // options first: nothing is created or formatted for a command line that will be refused
        if (!dispatch.equals("inline") && !dispatch.equals("pool")) {
            throw new Main.UsageError("--dispatch must be inline or pool, not '" + dispatch + "'");
        }
        if (workers != null) {
            Checks.within(spec, "--workers", workers, 1, 1024);
        }
        Checks.within(spec, "--max-connections", maxConnections, 1, 65536);
        devices.applyTable();
        NbdServer.Listener listener;
        try {
            listener = NbdServer.bind(listen);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        } catch (java.io.IOException e) {
            throw new Main.UsageError("cannot listen on " + listen + ": " + e.getMessage());
        }
        // the control socket too, before the devices: one in use leaves the devices as they were
        java.nio.file.Path controlPath = control != null ? control : ControlSocket.defaultPath(listen);
        java.util.concurrent.atomic.AtomicReference<java.util.function.Function<String, String>> onControl =
                new java.util.concurrent.atomic.AtomicReference<>(line -> Json.of(Map.of("ok", false, "error", "dmwc serve is starting")));
        ControlSocket ctl;
        try {
            ctl = new ControlSocket(controlPath, line -> onControl.get().apply(line));
        } catch (java.io.IOException e) {
            closeListener(listener);
            throw new Main.UsageError("cannot make the control socket: " + e.getMessage());
        }
        DeviceOptions.Opened d;
        try {
            d = devices.open();
        } catch (RuntimeException | java.io.IOException e) {
            closeListener(listener);
            ctl.close();
            throw e;
        }
        WritecacheTarget t = d.target();
        NbdServer.Options o = new NbdServer.Options().exportName(export).maxConnections(maxConnections)
                .log(m -> System.err.println("nbd: " + m));
        if (workers != null) {
            o.workers(workers);
        }
        o.inline(dispatch.equals("inline"));
        NbdServer server = new NbdServer(new CacheExport(t), listener, o);
        long started = System.nanoTime();
        onControl.set(line -> control(line, t, server, d, started));
        // SIGINT/SIGTERM: stop serving; the main thread then suspends the target and exits 0
        Signals.onStop(sig -> {
            System.err.println("dmwc serve: " + sig + ": finishing requests in flight, then suspending the target");
            server.shutdown(30_000);
        });
        System.err.printf("dmwc serve: table '0 %d writecache %s'%n", t.lengthSectors(), d.tableLine());
        System.err.printf("dmwc serve: origin %s, cache %s%n", d.originDescription(), d.cacheDescription());
        System.err.printf("dmwc serve: control socket %s%n", ctl.path());
        System.err.printf("dmwc serve: listening on %s%n", server.uri());
        System.err.flush();
        server.serve();
        server.close(); // requests in flight finish; the socket file goes
        ctl.close();
        dev.dmwc.daxlib.DaxDevice.Protection protection = d.protection();
        d.close(true); // suspend (commit) and remove, then flush and close the files
        System.err.println("dmwc serve: stopped after " + server.stats().requests()
                + " requests; target suspended, everything acknowledged is on the devices");
        if (protection != null) {
            System.err.println("dmwc serve: protection " + protection.describe());
        }
        return 0;
    }

    private static void closeListener(NbdServer.Listener listener) throws java.io.IOException {
        listener.channel().close();
        if (listener.unixPath() != null) {
            java.nio.file.Files.deleteIfExists(listener.unixPath());
        }
    }

    private static String control(String line, WritecacheTarget t, NbdServer server, DeviceOptions.Opened d, long started) {
        String[] argv = line.trim().split("\\s+");
        switch (argv[0]) {
            case "status" -> {
                return Json.of(statusMap(t, server, d, started));
            }
            case "message" -> {
                if (argv.length < 2) {
                    return Json.of(Map.of("ok", false, "error", "message: no message given"));
                }
                try {
                    t.message(java.util.Arrays.copyOfRange(argv, 1, argv.length));
                    return Json.of(Map.of("ok", true));
                } catch (DmError e) {
                    return Json.of(Map.of("ok", false, "error", e.getMessage(), "errno", e.errno()));
                }
            }
            default -> {
                return Json.of(Map.of("ok", false, "error", "unknown request '" + argv[0] + "' (status, message ARGS)"));
            }
        }
    }

    static Map<String, Object> statusMap(WritecacheTarget t, NbdServer server, DeviceOptions.Opened d, long started) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("table", "0 " + t.lengthSectors() + " writecache " + d.tableLine());
        m.put("status", "0 " + t.lengthSectors() + " writecache " + t.status());
        Map<String, Object> f = new LinkedHashMap<>();
        long[] v = t.engine().statusFields();
        for (int i = 0; i < v.length; i++) {
            f.put(Writecache.STATUS_FIELDS[i], v[i]);
        }
        m.put("fields", f);
        m.put("error_text", t.engine().errorText());
        m.put("writeback_blocks", t.engine().writebackBlocks());
        m.put("writeback_runs", t.engine().writebackRuns());
        if (d.protection() != null) {
            m.put("protection", d.protection().fields());
        }
        NbdServer.Stats s = server.stats();
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("uptime_s", (System.nanoTime() - started) / 1e9);
        n.put("connections", s.connections.get());
        n.put("connections_open", s.connectionsOpen.get());
        n.put("reads", s.reads.get());
        n.put("writes", s.writes.get());
        n.put("flushes", s.flushes.get());
        n.put("trims", s.trims.get());
        n.put("write_zeroes", s.writeZeroes.get());
        n.put("bytes_read", s.bytesRead.get());
        n.put("bytes_written", s.bytesWritten.get());
        n.put("error_replies", s.errorReplies.get());
        n.put("protocol_errors", s.protocolErrors.get());
        m.put("server", n);
        return m;
    }
}
