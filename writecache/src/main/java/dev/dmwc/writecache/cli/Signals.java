package dev.dmwc.writecache.cli;

import java.lang.reflect.Proxy;

/**
 * SIGINT/SIGTERM as a request to stop, so a long-running command can finish cleanly and report.
 * Uses {@code sun.misc.Signal} (module jdk.unsupported) reflectively, keeping the build free of
 * its compile-time warning; where it is missing, a shutdown hook runs the action instead.
 *
 * <p>One handler per signal is installed for the process, the first time a command asks; it runs
 * the action of the command running now. {@link #reset} (after every command, {@link Main}) goes
 * back to the JVM's own behaviour: the shutdown hooks run and the process exits 130 (SIGINT) or
 * 143 (SIGTERM). So a command run in-process (the tests) leaves no handler of its own behind.
 */
final class Signals {
    private Signals() {
    }

    /** The running command's action, or null: exit as the JVM would. */
    private static volatile java.util.function.Consumer<String> current;
    private static boolean installed;
    private static boolean hookOnly;

    /** After a command: signals stop the process again, as they did before it asked for them. */
    static void reset() {
        current = null;
    }

    /**
     * A long run's Ctrl-C: the first SIGINT or SIGTERM prints "dmwc COMMAND: SIG: WHAT (again to quit
     * now)" and runs {@code first}, which makes the run end early and report; a second one exits at
     * once with 130 (the exit hook still removes the scratch files). The reference holds the first
     * signal's name once one came.
     */
    static java.util.concurrent.atomic.AtomicReference<String> stopGracefully(String command, String what, Runnable first) {
        return stopGracefully(command, what, sig -> first.run());
    }

    /** {@link #stopGracefully(String, String, Runnable)} whose {@code first} is told the signal ("SIGINT", "SIGTERM"). */
    static java.util.concurrent.atomic.AtomicReference<String> stopGracefully(String command, String what,
            java.util.function.Consumer<String> first) {
        java.util.concurrent.atomic.AtomicReference<String> stoppedBy = new java.util.concurrent.atomic.AtomicReference<>();
        onStop(sig -> {
            if (!stoppedBy.compareAndSet(null, sig)) {
                System.exit(130);
            }
            System.err.println("dmwc " + command + ": " + sig + ": " + what + " (again to quit now)");
            first.accept(sig);
        });
        return stoppedBy;
    }

    /**
     * Run {@code action} (once per signal) on SIGINT and SIGTERM until {@link #reset}. Returns false
     * if only a shutdown hook could be used (it then runs once, at exit).
     */
    static synchronized boolean onStop(java.util.function.Consumer<String> action) {
        if (!installed) {
            installed = true;
            hookOnly = !install();
        }
        if (hookOnly) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> action.accept("shutdown"), "dmwc-stop"));
            return false;
        }
        current = action;
        return true;
    }

    private static boolean install() {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            for (String name : new String[] {"INT", "TERM"}) {
                int exit = name.equals("INT") ? 130 : 143;
                Object h = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handler}, (proxy, m, args) -> {
                    if (m.getName().equals("handle")) {
                        java.util.function.Consumer<String> c = current;
                        if (c == null) {
                            System.exit(exit); // no command asked: what the JVM does by default
                        } else {
                            c.accept("SIG" + name);
                        }
                    }
                    return null;
                });
                Object sig = signal.getConstructor(String.class).newInstance(name);
                signal.getMethod("handle", signal, handler).invoke(null, sig, h);
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }
}
