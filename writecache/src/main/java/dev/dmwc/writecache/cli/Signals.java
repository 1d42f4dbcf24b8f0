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
