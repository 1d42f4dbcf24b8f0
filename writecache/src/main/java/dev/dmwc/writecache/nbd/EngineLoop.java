package dev.dmwc.writecache.nbd;

import dev.dmwc.writecache.engine.VirtualScheduler;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The one thread that touches the target. Engine work (commits, writeback, endio) runs on the
 * engine's scheduler after each call and on a 10 ms tick that lets the engine's clock follow the
 * wall clock.
 */
public final class EngineLoop implements AutoCloseable {
    private final ScheduledExecutorService exec = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "dmwc-engine");
        t.setDaemon(true);
        return t;
    });
    private final VirtualScheduler sched;
    private final WritecacheTarget target;
    private final long startNanos = System.nanoTime();

    public EngineLoop(WritecacheTarget target, VirtualScheduler sched) {
        this.target = target;
        this.sched = sched;
        exec.scheduleAtFixedRate(this::tick, 10, 10, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        long wallMs = (System.nanoTime() - startNanos) / 1_000_000L;
        if (wallMs > sched.nowMs()) {
            sched.advance(wallMs - sched.nowMs());
        }
        sched.runPending();
    }

    public WritecacheTarget target() {
        return target;
    }

    /** Run {@code c} on the engine thread, then the work it queued. */
    public <T> CompletableFuture<T> submit(Callable<T> c) {
        CompletableFuture<T> f = new CompletableFuture<>();
        exec.execute(() -> {
            try {
                T v = c.call();
                sched.runPending();
                f.complete(v);
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    public <T> T call(Callable<T> c) throws Exception {
        try {
            return submit(c).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw e;
        }
    }

    @Override
    public void close() {
        exec.shutdown();
        try {
            exec.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
