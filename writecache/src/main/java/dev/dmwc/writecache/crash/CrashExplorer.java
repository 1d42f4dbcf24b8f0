package dev.dmwc.writecache.crash;

import dev.dmwc.daxlib.CrashDomain;
import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.CrashableBlockDevice;
import dev.dmwc.writecache.block.ScratchFiles;
import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.engine.VirtualScheduler;
import dev.dmwc.writecache.format.CacheImage;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Explores power cuts. Each workload (its own seed) runs random operations — writes (some FUA),
 * overwrites, reads, discards, flushes, the flush message, cleaner, reload, time passing (autocommit,
 * writeback in flight) — on a small cache; after every operation the power is cut in several ways
 * (crash states) and each state is recovered on copies of the devices and checked:
 * <ul>
 * <li>every block reads as the version it had at the last completed flush (pmem: or FUA write), or
 * as a version written after it — never older, never another block's data;</li>
 * <li>the recovery itself succeeds (no error state, structures consistent).</li>
 * </ul>
 * Every failure names the workload seed, the operation and the crash seed that reproduce it.
 */
public final class CrashExplorer {
    public enum Kind { WRITE, FUA_WRITE, READ, DISCARD, FLUSH, MESSAGE_FLUSH, CLEANER, RELOAD, ADVANCE }

    public static final class Settings {
        public String mode = "s";
        public long seed = 1;
        public int workloads = 20;
        public int opsPerWorkload = 60;
        public int statesPerCut = 8;
        /** Crash states taken at each persistence barrier inside an operation (0: only between operations). */
        public int statesPerBarrier = 2;
        /** At most this many barriers per operation get cut (the first ones). */
        public int barriersPerOp = 12;
        public double seconds = 0;   // > 0: run workloads until this much time has passed
        public Path workDir = Path.of(System.getProperty("java.io.tmpdir"));
    }

    /** The outcome: counts per barrier kind, violations with their reproducers. */
    public static final class Result {
        /** Ended early by {@link CrashExplorer#stop()} (after the workload in progress). */
        public boolean stopped;
        public long workloads;
        public long cuts;
        public long states;
        public long violations;
        public final List<String> examples = new ArrayList<>();
        public final Map<Kind, Long> cutsAfter = new EnumMap<>(Kind.class);
        public long commitsSeen;
        public long pendingWordsMax;
        public long pendingWritesMax;
        public long barrierCuts;
        /** Crash states whose recovery reported "two identical entries" (a kernel property; data checked). */
        public long twinEntryErrors;
        /** Crash images that went through {@code dmwc check}'s reader before recovery. */
        public long imagesChecked;
        public double seconds;

        public double statesPerSecond() {
            return seconds > 0 ? states / seconds : 0;
        }
    }

    static final long ORIGIN_BYTES = 1 << 20;
    private static final boolean TRACE = Boolean.getBoolean("dmwc.crashtest.trace");
    /** Recoveries that ended in the kernel's "two identical entries" error state (see RELIABILITY.md). */
    private long twins;
    private long imagesChecked;
    private final Settings s;

    public CrashExplorer(Settings s) {
        this.s = s;
    }

    /** Told the power cuts explored so far, after each (a progress bar). */
    public java.util.function.LongConsumer progress = n -> { };

    private volatile boolean stopRequested;

    /** Ends {@link #run()} after the workload in progress (a Ctrl-C): it returns what was explored. */
    public void stop() {
        stopRequested = true;
    }

    public Result run() throws IOException {
        Result res = new Result();
        long t0 = System.nanoTime();
        for (long w = 0;; w++) {
            if (s.seconds > 0 ? (System.nanoTime() - t0) / 1e9 >= s.seconds : w >= s.workloads) {
                break;
            }
            if (stopRequested) {
                res.stopped = true;
                break;
            }
            workload(s.seed + w, res);
            res.workloads++;
        }
        res.seconds = (System.nanoTime() - t0) / 1e9;
        res.twinEntryErrors = twins;
        res.imagesChecked = imagesChecked;
        return res;
    }

    static byte[] content(int bs, int block, long version) {
        byte[] d = new byte[bs];
        if (version != 0) {
            ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i + 16 <= bs; i += 16) {
                b.putLong(i, block);
                b.putLong(i + 8, version);
            }
        }
        return d;
    }

    private void workload(long seed, Result res) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        boolean pmem = s.mode.equals("p");
        int bs = pmem ? (r.nextBoolean() ? 4096 : 512) : (512 << r.nextInt(4));
        int blocks = (int) (ORIGIN_BYTES / bs);
        List<String> table = new ArrayList<>(List.of(s.mode, "o", "c", Integer.toString(bs), "4", "autocommit_blocks",
                Integer.toString(1 + r.nextInt(16)), "autocommit_time", Integer.toString(100 + r.nextInt(3000))));
        if (!pmem) {
            table.set(4, "6");
            table.addAll(List.of("pause_writeback", Integer.toString(r.nextInt(2) * 500)));
        }
        CrashableBlockDevice origin = new CrashableBlockDevice("origin", ORIGIN_BYTES);
        CrashableBlockDevice ssd = pmem ? null : new CrashableBlockDevice("cache", 128 << 10);
        Path pmemFile = pmem ? ScratchFiles.createFile(s.workDir, "crash", ".pmem") : null;
        Path recoverFile = ScratchFiles.createFile(s.workDir, "crash-rec", pmem ? ".pmem" : ".img");
        CrashDomain domain = pmem ? new CrashDomain() : null;
        DaxDevice dax = null;
        try {
            if (pmem) {
                try (RandomAccessFile f = new RandomAccessFile(pmemFile.toFile(), "rw")) {
                    f.setLength(384 << 10);
                }
                dax = DaxDevice.open(pmemFile, new DaxDevice.Options().backend(ProtectionKeys.Backend.NONE));
            }
            Object cacheDev = pmem ? dax : ssd;
            final DaxDevice daxDev = dax;
            VirtualScheduler sched = new VirtualScheduler();
            WritecacheTarget t;
            try {
                t = WritecacheTarget.create(table, Map.of("o", origin, "c", cacheDev), sched, domain, m -> { });
            } catch (DmError e) {
                throw new IOException("workload " + seed + ": table refused: " + e.getMessage(), e);
            }
            long[] current = new long[blocks];
            List<Set<Long>> allowed = new ArrayList<>();
            for (int i = 0; i < blocks; i++) {
                allowed.add(new HashSet<>(Set.of(0L)));
            }
            long version = 1;
            long lastSeq = t.engine().seqCount();
            // cleaner mode sends writes around the cache: they wait in the origin's volatile cache
            // until a FLUSH reaches it, so a pmem FUA (which commits the cache) does not cover them
            boolean cleaner = false;
            boolean[] around = new boolean[blocks];
            List<Set<Long>> history = new ArrayList<>();
            for (int i = 0; i < blocks; i++) {
                history.add(new HashSet<>());
            }
            for (int step = 0; step < s.opsPerWorkload; step++) {
                Kind k = pick(r);
                int b = r.nextInt(blocks - 8);
                int n = 1 + r.nextInt(8);
                String where = "mode " + s.mode + " workload seed " + seed + " op " + step + " " + k;
                if (TRACE) {
                    System.err.println("TRACE " + where + " b=" + b + " n=" + n + " v=" + version + " status=" + t.status());
                }
                boolean durable = false;
                // a cut inside the operation, at each of its persistence barriers: what was durable
                // before it is still owed; the versions it writes may or may not have landed
                if (k == Kind.WRITE || k == Kind.FUA_WRITE) {
                    for (int i = 0; i < n; i++) {
                        allowed.get(b + i).add(version + i);
                    }
                }
                if (k == Kind.DISCARD) {
                    for (int i = 0; i < n; i++) {
                        allowed.get(b + i).add(0L);
                        allowed.get(b + i).addAll(history.get(b + i));
                    }
                }
                final String whereF = where;
                final long stepSeed = seed * 1_000_003L + step * 1009L;
                int[] barriers = {0};
                Runnable cut = () -> {
                    if (s.statesPerBarrier == 0 || barriers[0] >= s.barriersPerOp) {
                        return;
                    }
                    int bi = barriers[0]++;
                    res.barrierCuts++;
                    for (int c = 0; c < s.statesPerBarrier; c++) {
                        long crashSeed = stepSeed + 500 + bi * 31L + c;
                        String v;
                        try {
                            v = checkState(table, origin, ssd, daxDev, domain, recoverFile, bs, blocks, allowed, crashSeed);
                        } catch (IOException e) {
                            v = "recovery failed: " + e;
                        }
                        res.states++;
                        if (v != null) {
                            res.violations++;
                            if (res.examples.size() < 20) {
                                res.examples.add(whereF + " (inside, barrier " + bi + "), crash seed " + crashSeed + ": " + v);
                            }
                        }
                    }
                };
                origin.setBarrierListener(cut);
                if (ssd != null) {
                    ssd.setBarrierListener(cut);
                } else {
                    domain.setBarrierListener(cut);
                }
                switch (k) {
                    case WRITE, FUA_WRITE -> {
                        ByteBuffer buf = ByteBuffer.allocateDirect(n * bs);
                        for (int i = 0; i < n; i++) {
                            buf.put(content(bs, b + i, version + i));
                        }
                        buf.flip();
                        boolean fua = k == Kind.FUA_WRITE;
                        String err = t.submit(Bio.Op.WRITE, fua ? Bio.REQ_FUA : 0, (long) b * bs / 512, n * bs, buf);
                        if (err != null) {
                            throw new IOException(where + ": write failed " + err);
                        }
                        for (int i = 0; i < n; i++) {
                            current[b + i] = version + i;
                            allowed.get(b + i).add(version + i);
                            history.get(b + i).add(version + i);
                            around[b + i] = cleaner;
                        }
                        version += n;
                        durable = fua && pmem;
                        if (fua && cleaner) {
                            for (int i = 0; i < n; i++) {   // written around with FUA: durable by itself
                                around[b + i] = false;
                            }
                        }
                    }
                    case READ -> {
                        ByteBuffer buf = ByteBuffer.allocate(n * bs);
                        if (t.submit(Bio.Op.READ, 0, (long) b * bs / 512, n * bs, buf) != null) {
                            throw new IOException(where + ": read failed");
                        }
                    }
                    case DISCARD -> {
                        t.submit(Bio.Op.DISCARD, 0, (long) b * bs / 512, n * bs, null);
                        // a discarded block's contents are undefined until a FLUSH makes the origin's
                        // discard durable: the cache forgets it at once, the origin may still hold any
                        // version it was ever given
                        for (int i = 0; i < n; i++) {
                            current[b + i] = 0;
                            allowed.get(b + i).add(0L);
                            allowed.get(b + i).addAll(history.get(b + i));
                            around[b + i] = true;
                        }
                    }
                    case FLUSH -> durable = t.flush() == null;
                    // not a durability point: it commits and writes back what is cached, but data that went
                    // around the cache (cleaner, a full ssd cache) sits in the origin's volatile cache
                    // until a FLUSH reaches the origin
                    case MESSAGE_FLUSH -> message(t, "flush");
                    case CLEANER -> {
                        message(t, "cleaner");
                        cleaner = true;
                    }
                    case RELOAD -> {
                        t.remove(); // suspend commits, but sends no flush to the origin either
                        cleaner = false; // a new table: cleaner only if its line says so
                        try {
                            t = WritecacheTarget.create(table, Map.of("o", origin, "c", cacheDev), sched, domain, m -> { });
                        } catch (DmError e) {
                            throw new IOException(where + ": reload failed: " + e.getMessage(), e);
                        }
                    }
                    case ADVANCE -> sched.advance(1 + r.nextInt(4000));
                }
                sched.runPending();
                origin.setBarrierListener(null);
                if (ssd != null) {
                    ssd.setBarrierListener(null);
                } else {
                    domain.setBarrierListener(null);
                }
                if (durable) {
                    // a FLUSH reaches the origin in ssd mode (the second flush clone); in pmem mode only
                    // with cleaner (or metadata_only) set — writecache_map_flush returns SUBMIT otherwise
                    boolean flushBio = k == Kind.FLUSH && (!pmem || cleaner);
                    for (int i = 0; i < blocks; i++) {
                        if (around[i] && !flushBio) {
                            continue;
                        }
                        around[i] = false;
                        Set<Long> a = allowed.get(i);
                        a.clear();
                        a.add(current[i]);
                    }
                }
                long seq = t.engine().seqCount();
                res.commitsSeen += Math.max(0, seq - lastSeq);
                lastSeq = seq;
                // the power cut, several ways
                res.cuts++;
                progress.accept(res.cuts);
                res.cutsAfter.merge(k, 1L, Long::sum);
                if (pmem) {
                    res.pendingWordsMax = Math.max(res.pendingWordsMax, domain.pendingWords());
                } else {
                    res.pendingWritesMax = Math.max(res.pendingWritesMax, ssd.pendingWrites() + origin.pendingWrites());
                }
                for (int c = 0; c < s.statesPerCut; c++) {
                    long crashSeed = stepSeed + c;
                    String v = checkState(table, origin, ssd, dax, domain, recoverFile, bs, blocks, allowed, crashSeed);
                    res.states++;
                    if (v != null) {
                        res.violations++;
                        if (res.examples.size() < 20) {
                            res.examples.add(where + ", crash seed " + crashSeed + ": " + v);
                        }
                    }
                }
            }
            t.close();
        } finally {
            if (dax != null) {
                dax.close();
            }
            if (pmemFile != null) {
                ScratchFiles.delete(pmemFile);
            }
            ScratchFiles.delete(recoverFile);
        }
    }

    private static void message(WritecacheTarget t, String m) throws IOException {
        try {
            t.message(new String[] {m});
        } catch (DmError e) {
            throw new IOException("message " + m + " failed: " + e.getMessage(), e);
        }
    }

    private static Kind pick(SplittableRandom r) {
        int x = r.nextInt(100);
        if (x < 38) return Kind.WRITE;
        if (x < 46) return Kind.FUA_WRITE;
        if (x < 58) return Kind.READ;
        if (x < 64) return Kind.DISCARD;
        if (x < 76) return Kind.FLUSH;
        if (x < 80) return Kind.MESSAGE_FLUSH;
        if (x < 81) return Kind.CLEANER;
        if (x < 85) return Kind.RELOAD;
        return Kind.ADVANCE;
    }

    /** Recover one crash state on copies of the devices; null when it keeps the guarantee. */
    private String checkState(List<String> table, CrashableBlockDevice origin, CrashableBlockDevice ssd,
            DaxDevice dax, CrashDomain domain, Path recoverFile, int bs, int blocks, List<Set<Long>> allowed,
            long crashSeed) throws IOException {
        CrashableBlockDevice o2 = new CrashableBlockDevice("origin", origin.crashImage(crashSeed));
        Object c2;
        DaxDevice dax2 = null;
        if (ssd != null) {
            byte[] img = ssd.crashImage(crashSeed ^ 0x5bd1e995L);
            ScratchFiles.write(recoverFile, img);
            c2 = new CrashableBlockDevice("cache", img);
        } else {
            byte[] img = new byte[(int) dax.size()];
            dax.accessor().read(0, img, 0, img.length);
            ByteBuffer ib = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
            for (Map.Entry<Long, Long> e : domain.crash(crashSeed).entrySet()) {
                ib.putLong((int) (long) e.getKey(), e.getValue());
            }
            ScratchFiles.write(recoverFile, img);
            dax2 = DaxDevice.open(recoverFile, new DaxDevice.Options().backend(ProtectionKeys.Backend.NONE));
            c2 = dax2;
        }
        // what `dmwc check` says of the image as the crash left it
        List<String> checkProblems;
        try (CacheImage img = CacheImage.open(recoverFile, 0)) {
            checkProblems = new ArrayList<>(img.loadProblems());
            if (checkProblems.isEmpty()) {
                checkProblems.addAll(img.entryProblems(img.entries(), o2.sizeSectors()));
            }
        }
        imagesChecked++;
        if (!checkProblems.stream().allMatch(l -> l.startsWith("two identical entries"))) {
            if (dax2 != null) {
                dax2.close();
            }
            return "dmwc check on the crash image: " + checkProblems;
        }
        try {
            WritecacheTarget t2;
            List<String> log = new ArrayList<>();
            try {
                t2 = WritecacheTarget.create(table, Map.of("o", o2, "c", c2), new VirtualScheduler(), null, log::add);
            } catch (DmError e) {
                return "recovery refused the cache: " + e.getMessage();
            }
            try {
                if (t2.status().startsWith("0 ") != checkProblems.isEmpty()) {
                    return "dmwc check (" + checkProblems + ") disagrees with the recovery (status " + t2.status() + ")";
                }
                if (!t2.status().startsWith("0 ")) {
                    if (!log.stream().allMatch(l -> l.startsWith("two identical entries"))) {
                        return "error state after recovery: " + t2.status() + " " + log;
                    }
                    // Linux 6.1 does this too (RELIABILITY.md): a multi-block ssd write can duplicate an
                    // uncommitted block with the same seq_count; a cut inside the commit, before the
                    // older copy's freeing is written, leaves two committed twins. The data must still
                    // read right.
                    twins++;
                }
                String inv = t2.engine().checkInvariants();
                if (inv != null) {
                    return "inconsistent structures after recovery: " + inv;
                }
                ByteBuffer all = ByteBuffer.allocate(blocks * bs);
                if (t2.submit(Bio.Op.READ, 0, 0, blocks * bs, all) != null) {
                    return "read after recovery failed";
                }
                byte[] a = all.array();
                for (int b = 0; b < blocks; b++) {
                    byte[] got = Arrays.copyOfRange(a, b * bs, (b + 1) * bs);
                    boolean ok = false;
                    for (long v : allowed.get(b)) {
                        if (Arrays.equals(got, content(bs, b, v))) {
                            ok = true;
                            break;
                        }
                    }
                    if (!ok) {
                        ByteBuffer g = ByteBuffer.wrap(got).order(ByteOrder.LITTLE_ENDIAN);
                        return "block " + b + " reads as block " + g.getLong(0) + " version " + g.getLong(8)
                                + "; allowed versions " + allowed.get(b);
                    }
                }
                return null;
            } finally {
                t2.close();
            }
        } finally {
            if (dax2 != null) {
                dax2.close();
            }
        }
    }
}
