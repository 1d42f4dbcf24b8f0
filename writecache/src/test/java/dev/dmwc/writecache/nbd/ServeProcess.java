package dev.dmwc.writecache.nbd;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code dmwc serve} in a child JVM, as a user runs it; stopped with SIGTERM. */
public final class ServeProcess implements AutoCloseable {
    final Process process;
    final String uri;
    private final StringBuffer output = new StringBuffer();
    private final Thread drain;

    public ServeProcess(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String f : System.getProperty("dmwc.test.jvmFlags", "").split(" ")) {
            if (!f.isBlank()) {
                cmd.add(f);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.dmwc.writecache.cli.Main");
        cmd.add("serve");
        cmd.addAll(args);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String found = null;
        long deadline = System.currentTimeMillis() + 60_000;
        String line;
        while (System.currentTimeMillis() < deadline && (line = r.readLine()) != null) {
            output.append(line).append('\n');
            int at = line.indexOf("listening on ");
            if (at >= 0) {
                found = line.substring(at + "listening on ".length()).trim();
                break;
            }
        }
        if (found == null) {
            process.destroyForcibly();
            throw new IOException("dmwc serve did not start:\n" + output);
        }
        uri = found;
        drain = new Thread(() -> {
            try {
                String l;
                while ((l = r.readLine()) != null) {
                    output.append(l).append('\n');
                }
            } catch (IOException e) {
                // process gone
            }
        }, "serve-output");
        drain.setDaemon(true);
        drain.start();
    }

    /** SIGTERM, wait for the exit; returns the exit code. */
    public int stop() throws InterruptedException {
        process.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("dmwc serve ignored SIGTERM:\n" + output);
        }
        drain.join(10_000); // the last lines
        return process.exitValue();
    }

    /** SIGKILL, as a crash of the process: no handler runs, nothing is suspended or committed. Returns the exit code. */
    public int kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("dmwc serve survived SIGKILL");
        }
        drain.join(10_000);
        return process.exitValue();
    }

    public String output() {
        return output.toString();
    }

    /** Run an external command; returns its exit code, output in {@code out}. */
    static int run(StringBuilder out, long timeoutSeconds, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] b = p.getInputStream().readAllBytes();
        out.append(new String(b, StandardCharsets.UTF_8));
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + " timed out:\n" + out);
        }
        return p.exitValue();
    }

    /** Whether {@code tool} is on the PATH. */
    static boolean installed(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            try {
                stop();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
