package dev.dmwc.writecache.cli;

import java.lang.reflect.Proxy;

/**
 * SIGINT/SIGTERM as a request to stop, so a long-running command can finish cleanly and exit 0.
 * Uses {@code sun.misc.Signal} (module jdk.unsupported) reflectively, keeping the build free of
 * its compile-time warning; where it is missing, a shutdown hook runs the action instead.
 */
final class Signals {
    private Signals() {
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

    /** Run {@code action} (once per signal) on SIGINT and SIGTERM. Returns false if only the hook could be used. */
    static boolean onStop(java.util.function.Consumer<String> action) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            for (String name : new String[] {"INT", "TERM"}) {
                Object h = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handler}, (proxy, m, args) -> {
                    if (m.getName().equals("handle")) {
                        action.accept("SIG" + name);
                    }
                    return null;
                });
                Object sig = signal.getConstructor(String.class).newInstance(name);
                signal.getMethod("handle", signal, handler).invoke(null, sig, h);
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> action.accept("shutdown"), "dmwc-stop"));
            return false;
        }
    }
}
