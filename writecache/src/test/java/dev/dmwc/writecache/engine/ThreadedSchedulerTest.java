package dev.dmwc.writecache.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.MemoryBlockDevice;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/** What wakes a context waiting on the freelist when the engine runs on real threads. */
class ThreadedSchedulerTest {
    /**
     * A work item still running when the target goes (dtr) may submit I/O on its way out: shutdown
     * waits for the work queues before closing the I/O pool, so nothing is refused and reported as
     * a failure. (It closed the I/O first: stress saw "engine work failed: RejectedExecutionException"
     * when stopped.) Work queued or I/O submitted after the shutdown is dropped quietly.
     */
    @Test
    void shutdownLetsRunningWorkSubmitItsLastIo() throws Exception {
        List<Throwable> failures = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        ThreadedScheduler sched = new ThreadedScheduler(failures::add);
        CountDownLatch running = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean ioRan = new java.util.concurrent.atomic.AtomicBoolean();
        Scheduler.Work w = sched.newWork("writeback", "last", () -> {
            running.countDown();
            try {
                Thread.sleep(200); // the shutdown begins meanwhile
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sched.submitIo(() -> ioRan.set(true));
        });
        w.queue();
        assertTrue(running.await(10, TimeUnit.SECONDS));
        sched.shutdown();
        assertEquals(List.of(), failures);
        assertTrue(ioRan.get(), "the last I/O ran before the pool closed");
        w.queue();
        sched.submitIo(() -> { });
        assertEquals(List.of(), failures, "after the shutdown: dropped, not failed");
    }

    /** awaitTimer returns once the timer has fired (a sleep nothing cuts short), at once when none is pending. */
    @Test
    void awaitTimerReturnsOnceTheTimerHasFired() {
        ThreadedScheduler sched = new ThreadedScheduler(t -> { });
        try {
            java.util.concurrent.atomic.AtomicBoolean fired = new java.util.concurrent.atomic.AtomicBoolean();
            Scheduler.Timer t = sched.newTimer("pause", () -> fired.set(true));
            sched.awaitTimer(t); // not pending: at once
            assertFalse(fired.get());
            long t0 = System.nanoTime();
            t.mod(200);
            sched.awaitTimer(t);
            assertTrue(fired.get(), "returned only after the timer fired");
            assertTrue(System.nanoTime() - t0 >= 190_000_000L, "it waited out the timeout");
        } finally {
            sched.shutdown();
        }
    }

    /**
     * awaitTimer returns only once the timer's body has run, not as soon as the timer stops being
     * pending: a message flush waits out a writeback asleep in its pause this way, and the body is
     * what queues the work the flush then waits for. (It returned between the two, and BenchTest
     * saw a phase start with 141 of 1,020 blocks free after the message flush that cleans it.)
     */
    @Test
    void awaitTimerWaitsForTheTimersBodyToFinish() throws Exception {
        ThreadedScheduler sched = new ThreadedScheduler(t -> { });
        try {
            CountDownLatch inBody = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Scheduler.Timer t = sched.newTimer("pause", () -> {
                inBody.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            t.mod(10);
            CountDownLatch returned = new CountDownLatch(1);
            Thread waiter = new Thread(() -> {
                sched.awaitTimer(t);
                returned.countDown();
            });
            waiter.start();
            assertTrue(inBody.await(10, TimeUnit.SECONDS), "the timer fired");
            assertFalse(t.pending(), "timer_pending() is false in the callback, as in the kernel");
            assertFalse(returned.await(200, TimeUnit.MILLISECONDS), "awaitTimer returned while the body still ran");
            release.countDown();
            assertTrue(returned.await(10, TimeUnit.SECONDS), "awaitTimer returned after the body");
            waiter.join();
        } finally {
            sched.shutdown();
        }
    }

    /**
     * The I/O depth is how many submitted I/Os run at once: all of them while they fit (the
     * kernel's bios do not wait for one another), the rest queued until one ends, as bios wait
     * for a tag of the device's queue.
     */
    @Test
    void ioRunsAsManyAtOnceAsTheDepthAndNoMore() throws Exception {
        int depth = 6;
        ThreadedScheduler sched = new ThreadedScheduler(depth, t -> { });
        assertEquals(depth, sched.ioDepth());
        java.util.concurrent.atomic.AtomicInteger now = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger most = new java.util.concurrent.atomic.AtomicInteger();
        CountDownLatch started = new CountDownLatch(depth);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(3 * depth);
        try {
            for (int i = 0; i < 3 * depth; i++) {
                sched.submitIo(() -> {
                    most.accumulateAndGet(now.incrementAndGet(), Math::max);
                    started.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    now.decrementAndGet();
                    done.countDown();
                });
            }
            assertTrue(started.await(10, TimeUnit.SECONDS), "as many as the depth run together");
            Thread.sleep(100);
            assertEquals(depth, now.get(), "the others wait for a slot");
            release.countDown();
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertEquals(depth, most.get());
        } finally {
            release.countDown();
            sched.shutdown();
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new ThreadedScheduler(0, t -> { }));
    }

    /**
     * The kernel wakes {@code freelist_wait} when entries are freed, not when any work item ends.
     * A waiter woken by every write-back completion takes {@code wc_lock} for nothing, and counts
     * another {@code writes_blocked_on_freelist} each time.
     */
    @Test
    void aWaiterSleepsThroughOtherWorkAndWakesWhenEntriesAreFreed() throws Exception {
        ThreadedScheduler sched = new ThreadedScheduler(ThreadedScheduler.DEFAULT_IO_DEPTH, t -> { }, TimeUnit.MINUTES.toMillis(10));
        ReentrantLock lock = new ReentrantLock();
        Thread waiter = startWaiting(sched, lock);
        try {
            Scheduler.Work other = sched.newWork("writeback", "other", () -> { });
            other.queue();
            sched.submitIo(() -> { });
            sched.flushQueue("writeback");
            waiter.join(300);
            assertTrue(waiter.isAlive(), "woken by a work item that freed nothing");

            lock.lock(); // what the engine holds when it frees an entry
            try {
                sched.wakeWaiters();
            } finally {
                lock.unlock();
            }
            waiter.join(TimeUnit.SECONDS.toMillis(30));
            assertFalse(waiter.isAlive(), "not woken when entries were freed");
        } finally {
            sched.shutdown();
            waiter.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    /**
     * Writes into a full pmem cache wait on the freelist; only the entries write-back frees wake
     * them (the waiters' own re-check would take ten minutes here).
     */
    @Test
    void writersWaitingOnAFullCacheAreWokenByTheEntriesWritebackFrees() throws Exception {
        ThreadedScheduler sched = new ThreadedScheduler(ThreadedScheduler.DEFAULT_IO_DEPTH, t -> { }, TimeUnit.MINUTES.toMillis(10));
        Path pmemFile = Files.createTempFile("dmwc-wake-", ".pmem");
        try (RandomAccessFile raf = new RandomAccessFile(pmemFile.toFile(), "rw")) {
            raf.setLength(512 << 10);
        }
        Map<String, Object> devs = new HashMap<>();
        MemoryBlockDevice origin = new MemoryBlockDevice("origin", 8 << 20);
        devs.put("o", origin);
        try (DaxDevice dax = DaxDevice.open(pmemFile, new DaxDevice.Options().backend(ProtectionKeys.Backend.SOFTWARE))) {
            devs.put("c", dax);
            WritecacheTarget t = WritecacheTarget.create(List.of("p", "o", "c", "4096", "0"), devs, sched, null, m -> { });
            int blocks = (8 << 20) / 4096;
            ByteBuffer data = ByteBuffer.allocateDirect(4096);
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                for (int b = 0; b < blocks; b++) {
                    data.clear();
                    data.putInt(0, b + 1);
                    assertNull(t.submit(Bio.Op.WRITE, 0, b * 8L, 4096, data.duplicate()), "write of block " + b);
                }
                t.message(new String[] {"flush"});
            }, "writers waiting on the freelist were not woken");
            assertTrue(t.engine().stats.writesBlockedOnFreelist > 0, "the cache never filled: nothing waited");
            t.remove();
            byte[] got = origin.snapshot();
            for (int b = 0; b < blocks; b++) {
                assertEquals(b + 1, ByteBuffer.wrap(got, b * 4096, 4).getInt(), "block " + b + " on the origin");
            }
        } finally {
            sched.shutdown();
            Files.deleteIfExists(pmemFile);
        }
    }

    @Test
    void shutdownWakesAWaiter() throws Exception {
        ThreadedScheduler sched = new ThreadedScheduler(ThreadedScheduler.DEFAULT_IO_DEPTH, t -> { }, TimeUnit.MINUTES.toMillis(10));
        Thread waiter = startWaiting(sched, new ReentrantLock());
        sched.shutdown();
        waiter.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(waiter.isAlive(), "a waiter outlived shutdown");
    }

    /** A context that takes the lock and waits; returned once it has given the lock up to wait. */
    private static Thread startWaiting(ThreadedScheduler sched, ReentrantLock lock) throws InterruptedException {
        CountDownLatch holding = new CountDownLatch(1);
        Thread waiter = new Thread(() -> {
            lock.lock();
            try {
                holding.countDown();
                sched.waitForProgress(lock);
            } finally {
                lock.unlock();
            }
        }, "waiter");
        waiter.start();
        assertTrue(holding.await(30, TimeUnit.SECONDS), "the waiter never took the lock");
        while (lock.isLocked()) {
            Thread.onSpinWait();
        }
        return waiter;
    }
}
