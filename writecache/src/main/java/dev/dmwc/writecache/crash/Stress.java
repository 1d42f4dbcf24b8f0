package dev.dmwc.writecache.crash;

import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.FaultMode;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.daxlib.StrayAccessException;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.BlockDevice;
import dev.dmwc.writecache.block.MemoryBlockDevice;
import dev.dmwc.writecache.block.ScratchFiles;
import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.engine.ThreadedScheduler;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Many threads of mixed I/O against one target on real threads, for a bounded time, while a
 * controller sends flush messages, suspends and resumes, reloads the table and checks the
 * structures; every read is checked against a model. Each I/O thread owns the blocks {@code b}
 * with {@code b % threads == index}, so its model of them is exact whatever the others do. In pmem
 * mode a stray-writer thread keeps storing into the DAX range without opening access: the
 * per-thread backend must refuse every attempt, and the data must stay intact. After a discard a
 * block may read as zeros or as an older version until it is written again: the kernel's discard
 * leaves entries under writeback alone, and the block reads as theirs. A watchdog fails
 * the run, with every thread's stack, when no I/O completes for {@code stallSeconds}.
 *
 * <p>Suspend, resume and reload hold the write side of a lock the I/O threads hold the read side
 * of for each bio — DM core's behaviour (a suspended device queues bios until resume).
 */
public final class Stress {
    /** Settings. */
    public static final class Settings {
        public String mode = "s";
        public double seconds = 10;
        public int threads = 4;
        public long seed = 1;
        public int blockSize = 4096;
        public long originBytes = 32L << 20;
        public long cacheBytes = 2L << 20; // small: writeback runs all the time
        public double stallSeconds = 30;
        public String table = "";
        public Path workDir = Path.of(System.getProperty("java.io.tmpdir")); // the pmem file
    }

    /** What a run did. */
    public static final class Result {
        public String mode;
        public double seconds;
        public long writes;
        public long fuaWrites;
        public long reads;
        public long discards;
        public long flushes;
        public long mismatches;
        public long flushMessages;
        public long suspends;
        public long reloads;
        public long invariantChecks;
        public long strayAttempts;
        public long strayRefused;
        public long writebackBlocks;
        public long finalBlocksVerified;
        /** Reads after a discard that returned an older version (allowed: see {@link #check}). */
        public long olderAfterDiscard;
        public boolean stalled;
        /** Ended early by {@link Stress#stop()} (then checked as a whole run is). */
        public boolean stopped;
        public String stallDump;
        public final List<String> examples = new CopyOnWriteArrayList<>();

        public boolean ok() {
            return mismatches == 0 && !stalled && strayRefused == strayAttempts;
        }
    }

    private final Settings s;
    private final ReentrantReadWriteLock dmCore = new ReentrantReadWriteLock();
    private final AtomicReference<WritecacheTarget> target = new AtomicReference<>();
    private final AtomicLong progress = new AtomicLong();
    private final Result r = new Result();
    private BlockDevice origin;
    private Object cache;
    private DaxDevice dax;
    private Path daxFile;
    private List<String> argv;
    private volatile boolean stop;
    private volatile boolean stopRequested;

    /** Told the seconds run so far, about ten times a second (a progress bar). */
    public java.util.function.DoubleConsumer elapsed = t -> { };

    /** Ends {@link #run()} early (a Ctrl-C): the threads stop, and the final check runs as after a whole run. */
    public void stop() {
        stopRequested = true;
    }

    public Stress(Settings s) {
        this.s = s;
        r.mode = s.mode;
    }

    private void mismatch(String what) {
        synchronized (r) {
            r.mismatches++;
            if (r.examples.size() < 10) {
                r.examples.add(what);
            }
        }
    }

    private WritecacheTarget load() throws DmError {
        return WritecacheTarget.create(argv, Map.of("origin", origin, "cache", cache), new ThreadedScheduler(e -> {
            mismatch("engine work failed: " + e);
        }), null, m -> { });
    }

    public Result run() throws IOException, InterruptedException, DmError {
        origin = new MemoryBlockDevice("origin", s.originBytes);
        if (s.mode.equals("p")) {
            daxFile = ScratchFiles.createFile(s.workDir, "stress", ".pmem");
            try (RandomAccessFile f = new RandomAccessFile(daxFile.toFile(), "rw")) {
                f.setLength(s.cacheBytes);
            }
            dax = DaxDevice.open(daxFile, new DaxDevice.Options().backend(ProtectionKeys.Backend.SOFTWARE).faultMode(FaultMode.STRICT));
            cache = dax;
        } else {
            cache = new MemoryBlockDevice("cache", s.cacheBytes);
        }
        argv = new ArrayList<>(List.of(s.mode, "origin", "cache", Integer.toString(s.blockSize)));
        List<String> feats = s.table.isBlank() ? List.of() : List.of(s.table.trim().split("\\s+"));
        argv.add(Integer.toString(feats.size()));
        argv.addAll(feats);
        target.set(load());
        try {
            return runLoaded();
        } finally {
            WritecacheTarget t = target.get();
            if (t != null) {
                t.remove();
            }
            if (dax != null) {
                dax.close();
                ScratchFiles.delete(daxFile);
            }
        }
    }

    private Result runLoaded() throws InterruptedException, IOException {
        long blocks = s.originBytes / s.blockSize;
        long[][] versions = new long[s.threads][];
        boolean[][] discarded = new boolean[s.threads][];
        List<Thread> workers = new ArrayList<>();
        for (int k = 0; k < s.threads; k++) {
            int me = k;
            versions[k] = new long[(int) ((blocks - me + s.threads - 1) / s.threads)];
            discarded[k] = new boolean[versions[k].length];
            Thread t = new Thread(() -> io(me, versions[me], discarded[me]), "stress-io-" + k);
            workers.add(t);
        }
        Thread control = new Thread(this::control, "stress-control");
        Thread stray = dax == null ? null : new Thread(this::strayWriter, "stress-stray-writer");
        long t0 = System.nanoTime();
        workers.forEach(Thread::start);
        control.start();
        if (stray != null) {
            stray.start();
        }
        long deadline = t0 + (long) (s.seconds * 1e9);
        long lastProgress = progress.get();
        long lastChange = System.nanoTime();
        while (System.nanoTime() < deadline && !stop) {
            if (stopRequested) {
                r.stopped = true;
                break;
            }
            Thread.sleep(100);
            elapsed.accept((System.nanoTime() - t0) / 1e9);
            long p = progress.get();
            if (p != lastProgress) {
                lastProgress = p;
                lastChange = System.nanoTime();
            } else if (System.nanoTime() - lastChange > s.stallSeconds * 1e9) {
                r.stalled = true;
                r.stallDump = threadDump();
                break;
            }
        }
        stop = true;
        for (Thread t : workers) {
            t.join(r.stalled ? 1000 : 120_000);
        }
        control.join(r.stalled ? 1000 : 120_000);
        if (stray != null) {
            stray.join(10_000);
        }
        r.seconds = (System.nanoTime() - t0) / 1e9;
        if (!r.stalled) {
            finalCheck(versions, discarded);
        }
        return r;
    }

    private static String threadDump() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            sb.append('"').append(e.getKey().getName()).append("\" ").append(e.getKey().getState()).append('\n');
            for (StackTraceElement f : e.getValue()) {
                sb.append("    at ").append(f).append('\n');
            }
        }
        return sb.toString();
    }

    /** The payload of {@code block} at {@code version}: a stamp, then a filler derived from it. */
    static void fill(ByteBuffer b, long block, long version) {
        b.clear();
        b.putLong(block).putLong(version);
        long x = block * 0x9E3779B97F4A7C15L ^ version;
        while (b.remaining() >= 8) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            b.putLong(x);
        }
        b.clear();
    }

    /**
     * Null if {@code got} is {@code version} of {@code block} — or zeros when {@code orZeros}: a
     * discard does not stop a writeback already in flight, so after one the block may read as
     * zeros or as its last version, as on the kernel.
     */
    private String check(ByteBuffer got, ByteBuffer want, long block, long version, boolean orZeros) {
        got.clear();
        want.clear();
        if (got.equals(want)) {
            return null;
        }
        if (orZeros) {
            boolean zero = true;
            for (int i = 0; i < got.capacity() && zero; i += 8) {
                zero = got.getLong(i) == 0;
            }
            if (zero) {
                return null;
            }
            // an older version whose writeback was in flight when the discard came: the discard
            // skips such entries (writecache_discard), so the block reads as that version
            long gv = got.getLong(8);
            if (got.getLong(0) == block && gv > 0 && gv <= version) {
                ByteBuffer older = ByteBuffer.allocate(got.capacity());
                fill(older, block, gv);
                got.clear();
                if (got.equals(older)) {
                    synchronized (r) {
                        r.olderAfterDiscard++;
                    }
                    return null;
                }
            }
        }
        long gb = got.getLong(0);
        long gv = got.getLong(8);
        return "block " + block + ": expected version " + version + (orZeros ? " or older, or zeros (discarded since)" : "") + ", read "
                + (gb == 0 && gv == 0 ? "zeros/other" : "block " + gb + " version " + gv);
    }

    private void io(int me, long[] version, boolean[] discarded) {
        SplittableRandom rnd = new SplittableRandom(s.seed * 31 + me);
        int bs = s.blockSize;
        ByteBuffer buf = ByteBuffer.allocate(bs);
        ByteBuffer want = ByteBuffer.allocate(bs);
        long mine = version.length;
        while (!stop) {
            long idx = rnd.nextLong(mine);
            long block = idx * s.threads + me;
            int dice = rnd.nextInt(100);
            dmCore.readLock().lock();
            try {
                WritecacheTarget t = target.get();
                long sector = block * bs >> 9;
                if (dice < 45) {
                    long v = version[(int) idx] + 1;
                    fill(buf, block, v);
                    boolean fua = rnd.nextInt(20) == 0;
                    String err = t.submit(Bio.Op.WRITE, fua ? Bio.REQ_FUA : 0, sector, bs, buf);
                    if (err != null) {
                        mismatch("write of block " + block + " failed: " + err);
                        continue;
                    }
                    version[(int) idx] = v;
                    discarded[(int) idx] = false;
                    synchronized (r) {
                        r.writes++;
                        r.fuaWrites += fua ? 1 : 0;
                    }
                } else if (dice < 90) {
                    buf.clear();
                    String err = t.submit(Bio.Op.READ, 0, sector, bs, buf);
                    long v = version[(int) idx];
                    if (err != null) {
                        mismatch("read of block " + block + " failed: " + err);
                        continue;
                    }
                    if (v == 0) {
                        want.clear();
                        java.util.Arrays.fill(want.array(), (byte) 0);
                    } else {
                        fill(want, block, v);
                    }
                    String bad = check(buf, want, block, v, discarded[(int) idx]);
                    if (bad != null) {
                        mismatch(bad);
                    }
                    synchronized (r) {
                        r.reads++;
                    }
                } else if (dice < 95) {
                    String err = t.submit(Bio.Op.DISCARD, 0, sector, bs, null);
                    if (err != null) {
                        mismatch("discard of block " + block + " failed: " + err);
                        continue;
                    }
                    discarded[(int) idx] = true;
                    synchronized (r) {
                        r.discards++;
                    }
                } else {
                    String err = t.flush();
                    if (err != null) {
                        mismatch("flush failed: " + err);
                        continue;
                    }
                    synchronized (r) {
                        r.flushes++;
                    }
                }
                progress.incrementAndGet();
            } finally {
                dmCore.readLock().unlock();
            }
        }
    }

    private void control() {
        SplittableRandom rnd = new SplittableRandom(s.seed * 7 + 3);
        while (!stop) {
            try {
                Thread.sleep(20 + rnd.nextInt(80));
                int dice = rnd.nextInt(100);
                if (dice < 50) {
                    target.get().message(new String[] {"flush"});
                    synchronized (r) {
                        r.flushMessages++;
                    }
                } else if (dice < 75) {
                    dmCore.writeLock().lock();
                    try {
                        WritecacheTarget t = target.get();
                        t.suspend();
                        String bad = t.engine().checkInvariants();
                        if (bad != null) {
                            mismatch("invariants while suspended: " + bad);
                        }
                        t.resume();
                        synchronized (r) {
                            r.suspends++;
                            r.invariantChecks++;
                        }
                    } finally {
                        dmCore.writeLock().unlock();
                    }
                } else if (dice < 85) {
                    dmCore.writeLock().lock();
                    try {
                        WritecacheTarget old = target.get();
                        old.remove(); // suspend (commit) + dtr
                        synchronized (r) {
                            r.writebackBlocks += old.engine().writebackBlocks();
                        }
                        target.set(load()); // ctr + resume: recovery from the devices
                        synchronized (r) {
                            r.reloads++;
                        }
                    } finally {
                        dmCore.writeLock().unlock();
                    }
                } else {
                    String bad = target.get().engine().checkInvariants();
                    if (bad != null) {
                        mismatch("invariants: " + bad);
                    }
                    synchronized (r) {
                        r.invariantChecks++;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (DmError e) {
                mismatch("control: " + e.getMessage());
            }
        }
    }

    private void strayWriter() {
        SplittableRandom rnd = new SplittableRandom(s.seed * 13 + 5);
        long len = dax.accessor().length();
        while (!stop) {
            long off = rnd.nextLong(len / 8) * 8;
            synchronized (r) {
                r.strayAttempts++;
            }
            try {
                dax.accessor().putLong(off, 0xBADBADBADBADL);
            } catch (StrayAccessException e) {
                synchronized (r) {
                    r.strayRefused++;
                }
            }
            try {
                Thread.sleep(0, 200_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Commit, write everything back, and read every block against the model. */
    private void finalCheck(long[][] versions, boolean[][] discarded) throws IOException {
        WritecacheTarget t = target.get();
        try {
            t.message(new String[] {"flush"});
        } catch (DmError e) {
            mismatch("final flush message: " + e.getMessage());
        }
        r.writebackBlocks += t.engine().writebackBlocks();
        int bs = s.blockSize;
        ByteBuffer buf = ByteBuffer.allocate(bs);
        ByteBuffer want = ByteBuffer.allocate(bs);
        for (int k = 0; k < s.threads; k++) {
            for (int i = 0; i < versions[k].length; i++) {
                long block = (long) i * s.threads + k;
                long v = versions[k][i];
                buf.clear();
                String err = t.submit(Bio.Op.READ, 0, block * bs >> 9, bs, buf);
                if (err != null) {
                    mismatch("final read of block " + block + ": " + err);
                    continue;
                }
                if (v == 0) {
                    java.util.Arrays.fill(want.array(), (byte) 0);
                } else {
                    fill(want, block, v);
                }
                String bad = check(buf, want, block, v, discarded[k][i]);
                if (bad != null) {
                    mismatch("final: " + bad);
                }
                // and the origin itself, now that everything was written back
                ByteBuffer o = ByteBuffer.allocate(bs);
                origin.read(block * bs >> 9, o);
                bad = check(o, want, block, v, discarded[k][i]);
                if (bad != null) {
                    mismatch("origin after writeback: " + bad);
                }
                r.finalBlocksVerified++;
            }
        }
        String bad = t.engine().checkInvariants();
        if (bad != null) {
            mismatch("final invariants: " + bad);
        }
    }
}
