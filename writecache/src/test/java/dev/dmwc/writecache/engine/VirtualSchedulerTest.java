package dev.dmwc.writecache.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * What runs when in virtual time. The end-to-end checks of the split-bio rules are the kernel's
 * scenarios {@code test-data/kernel/ssd-split-write-second-writeback} and
 * {@code ssd-split-write-throttled-writeback} in {@code KernelEquivalenceTest}.
 */
class VirtualSchedulerTest {
    private final VirtualScheduler sched = new VirtualScheduler();
    private final List<String> ran = new ArrayList<>();

    /**
     * awaitTimer lets virtual time pass to the timer's expiry, running what falls due before it
     * (work queued, earlier timers) in order; a timer not pending is not waited for.
     */
    @Test
    void awaitTimerLetsTimePassToTheTimersExpiry() {
        Scheduler.Work w = sched.newWork("wq", "work", () -> ran.add("work@" + sched.nowMs()));
        Scheduler.Timer early = sched.newTimer("early", () -> {
            ran.add("early@" + sched.nowMs());
            w.queue();
        });
        Scheduler.Timer pause = sched.newTimer("pause", () -> ran.add("pause@" + sched.nowMs()));
        sched.awaitTimer(pause);
        assertEquals(List.of(), ran);
        early.mod(300);
        pause.mod(1000);
        sched.awaitTimer(pause);
        assertEquals(List.of("early@300", "work@300", "pause@1000"), ran);
        assertEquals(1000, sched.nowMs());
    }

    @Test
    void betweenThePartsOfASplitBioOnlyTheWokenQueueRunsAndIoAndEndioWait() {
        sched.submitIo(() -> ran.add("copy 1"));
        Scheduler.Work endio = sched.newWork("endio", "endio", () -> ran.add("endio"));
        endio.queue();
        Scheduler.Work writeback = sched.newWork("wq", "writeback", () -> ran.add("writeback"));
        writeback.queue();

        sched.beforeSplitRemainder("wq");

        assertEquals(List.of("writeback"), ran, "the copy and the endio work were queued first, but only the writeback runs");
        assertFalse(writeback.pending());
        assertTrue(endio.pending());
        assertFalse(sched.idle());
        sched.runPending();
        assertEquals(List.of("writeback", "endio", "copy 1"), ran, "the rest runs afterwards, the device's completion last");
        assertTrue(sched.idle());
    }

    /**
     * A writeback work item that runs {@code n} rounds: each logs itself, queues the next round
     * (WRITEBACK_LATENCY reached: {@code queue_work(writeback_work)}), then submits its runs.
     */
    private Scheduler.Work writebackRounds(int n, java.util.function.IntConsumer submit) {
        int[] rounds = {0};
        Scheduler.Work[] self = new Scheduler.Work[1];
        self[0] = sched.newWork("wq", "writeback", () -> {
            int round = ++rounds[0];
            ran.add("writeback " + round);
            if (round < n) {
                self[0].queue();
            }
            submit.accept(round);
        });
        return self[0];
    }

    @Test
    void workQueuedAfterAnIoRunsBeforeTheIoCompletes() {
        // kernel seed 1677 (pmem, message cleaner): the writeback worker's rounds run back to back,
        // each queuing the next, while the FUA writes of the first rounds are still at the origin
        writebackRounds(3, round -> sched.submitIo(() -> {
            ran.add("write " + round);
            sched.newWork("endio", "endio", () -> ran.add("endio")).queue();
        })).queue();
        sched.runPending();
        assertEquals(List.of("writeback 1", "writeback 2", "writeback 3", "write 1", "endio", "write 2", "endio", "write 3", "endio"), ran,
                "the rounds first, then each completion and the endio work it wakes");
    }

    @Test
    void aWritebackThatQueuesItselfAgainRunsAgainBeforeTheRest() {
        writebackRounds(3, round -> sched.submitIo(() -> ran.add("copy " + round))).queue();

        sched.beforeSplitRemainder("wq");

        assertEquals(List.of("writeback 1", "writeback 2", "writeback 3"), ran);
        sched.runPending();
        assertEquals(List.of("writeback 1", "writeback 2", "writeback 3", "copy 1", "copy 2", "copy 3"), ran,
                "the copies complete after the part, in the order they went out");
    }

    @Test
    void aWorkItemThatWouldWaitBetweenThePartsSleepsAndHoldsItsQueueUntilItWakes() {
        boolean[] full = {true};
        Scheduler.Work writeback = sched.newWork("wq", "writeback", () -> {
            ran.add("writeback: run 1");
            throttled(full);
        });
        writeback.queue();
        assertTrue(sched.mayBlock(), "outside a split bio a work item waits where it is");

        sched.beforeSplitRemainder("wq");
        assertEquals(List.of("writeback: run 1", "asleep"), ran);
        writeback.queue();     // the next part queues writeback again while the first one sleeps
        sched.beforeSplitRemainder("wq");
        assertEquals(List.of("writeback: run 1", "asleep", "asleep"), ran,
                "still asleep at the next part, and the writeback queued behind it does not run");

        full[0] = false;
        sched.runPending();
        assertEquals(List.of("writeback: run 1", "asleep", "asleep", "writeback: run 2", "writeback: run 1", "writeback: run 2"), ran,
                "woken, it finishes its batch before the queue's next item runs");
        assertTrue(sched.idle());
    }

    /** The shape of {@code Writecache.throttle}: sleep (defer) while full and not allowed to wait. */
    private void throttled(boolean[] full) {
        if (full[0] && !sched.mayBlock()) {
            ran.add("asleep");
            sched.deferBlocked("wq", "writeback (throttled)", () -> throttled(full));
            return;
        }
        ran.add("writeback: run 2");
    }

    /** Queue a1..a3, b1..b3 and two I/Os, run everything on {@code s}, and return the order. */
    private static List<String> runAll(VirtualScheduler s) {
        List<String> order = new ArrayList<>();
        for (String q : new String[] {"a", "b"}) {
            for (int i = 1; i <= 3; i++) {
                String name = q + i;
                s.newWork(q, name, () -> order.add(name)).queue();
            }
        }
        s.submitIo(() -> order.add("io1"));
        s.submitIo(() -> order.add("io2"));
        s.runPending();
        return order;
    }

    @Test
    void aShuffledScheduleDrawsTheNextQueueButKeepsEachQueuesOwnOrder() {
        assertEquals(List.of("a1", "a2", "a3", "b1", "b2", "b3", "io1", "io2"), runAll(new VirtualScheduler()),
                "the traced order: first queued, first run, and I/O when no work is left");
        java.util.Set<List<String>> seen = new java.util.HashSet<>();
        for (long seed = 1; seed <= 20; seed++) {
            List<String> order = runAll(VirtualScheduler.shuffled(seed));
            assertEquals(8, order.size(), "everything runs: " + order);
            assertTrue(order.indexOf("a1") < order.indexOf("a2") && order.indexOf("a2") < order.indexOf("a3")
                    && order.indexOf("b1") < order.indexOf("b2") && order.indexOf("b2") < order.indexOf("b3"),
                    "a queue runs its items in order: " + order);
            assertEquals(order, runAll(VirtualScheduler.shuffled(seed)), "the same seed, the same order");
            seen.add(order);
        }
        assertTrue(seen.size() >= 10, "20 seeds give many orders, not one: " + seen);
        assertTrue(seen.stream().anyMatch(o -> o.indexOf("io2") < o.indexOf("io1")), "I/Os complete in any order: " + seen);
    }

    @Test
    void aShuffledScheduleRunsAnyAmountOfAnyWorkBetweenTheParts() {
        java.util.Set<List<String>> seen = new java.util.HashSet<>();
        for (long seed = 1; seed <= 40; seed++) {
            VirtualScheduler s = VirtualScheduler.shuffled(seed);
            List<String> order = new ArrayList<>();
            s.submitIo(() -> order.add("copy"));
            s.newWork("endio", "endio", () -> order.add("endio")).queue();
            s.newWork("wq", "writeback", () -> order.add("writeback")).queue();
            s.beforeSplitRemainder("wq");
            seen.add(List.copyOf(order));
            s.runPending();
            assertEquals(3, order.size(), "the rest runs afterwards: " + order);
        }
        assertTrue(seen.contains(List.of("writeback")), "the traced order is one of them: " + seen);
        assertTrue(seen.contains(List.of()), "nothing at all is another: " + seen);
        assertTrue(seen.stream().anyMatch(o -> o.contains("copy") || o.contains("endio")), "and work of other queues: " + seen);
    }

    @Test
    void nothingQueuedOnTheWokenQueueRunsNothing() {
        sched.submitIo(() -> ran.add("copy"));
        sched.beforeSplitRemainder("wq");
        assertEquals(List.of(), ran);
        assertFalse(sched.idle());
    }
}
