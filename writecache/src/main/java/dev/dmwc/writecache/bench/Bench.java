package dev.dmwc.writecache.bench;

import dev.dmwc.writecache.block.BlockDevice;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.engine.Writecache;
import dev.dmwc.writecache.replay.Replayer;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * The workloads of {@code dmwc bench}, driven straight into a live target from several threads
 * (no protocol in between), each measured beside a baseline taken in the same run:
 *
 * <ul>
 * <li>{@code absorb}: random writes into an empty cache, staying below the high watermark — the
 * cache's intake; baseline: the same copies straight into a mapped file of the cache's size.
 * <li>{@code drain}: a sequential fill, then {@code message flush} (commit, write everything back
 * and wait) — write-back throughput; baseline: the origin's sequential write rate in 1 MiB writes.
 * <li>{@code overflow}: random writes of twice the cache: past capacity the steady state is
 * write-back bound (blocked-on-freelist counts it; in ssd mode {@code pause_writeback} holds
 * write-back back while writes go around the full cache); its write-back rate beside the
 * origin's sequential rate.
 * <li>{@code flush-heavy}: random writes with a flush every N writes (commit latency).
 * <li>{@code mixed}: random reads and writes over the whole origin.
 * <li>{@code zipf}: reads and writes over a zipf:1.2 hot set (STEC-style), the hit rate shown.
 * </ul>
 *
 * <p>overflow, flush-heavy, mixed and zipf each start from a clean cache (an untimed
 * {@code message flush}), so a phase's figures do not depend on which phases ran before it: zipf
 * after overflow in ssd mode found the cache full of overflow's blocks and read 21 % hits, against
 * 81 % run alone (BENCHMARKS.md, session 9).
 */
public final class Bench {
    /** The phases, in the order they run. */
    public static final List<String> PHASES = List.of("absorb", "drain", "overflow", "flush-heavy", "mixed", "zipf");
    /**
     * Untimed passes before the one-pass copy baselines ({@link #copyBaseline}, {@link #durableCopyBaseline}):
     * measured on its first pass the copy loop still ran interpreted, and the figure printed beside the
     * devices was a third of what the absorb rounds' own copies measured (1.9-3.5 GB/s against medians of
     * 6.0-13.3 GB/s in twelve runs, session 30; BENCHMARKS.md, bench).
     */
    static final int BASELINE_WARMUP_PASSES = 3;

    /** Settings of a run. */
    public static final class Config {
        public int threads = 2;
        public double scale = 1.0;
        public int flushEvery = 16;
        public int readPercent = 70;
        public int zipfReadPercent = 90;
        public double zipfExponent = 1.2;
        public double maxPhaseSeconds = 30;
        public List<String> phases = PHASES;
        public long seed = 1;
        /** Untimed absorb-and-drain rounds before the measured absorb (JIT warm-up). */
        public int warmupRounds = 5;
        /**
         * Measured absorb rounds, each paired with a baseline round run just before it; the phase
         * reports the median of the rounds' ratios (one absorb round is tens of milliseconds: a
         * single pair is at the mercy of a noisy neighbour).
         */
        public int absorbRounds = 7;
    }

    /**
     * The shortest a paired baseline round runs: it copies the absorb round's bytes, or more, as
     * many as the copy rate measured just before moves in this time. A round of only the absorb
     * round's bytes lasted 4-15 ms, a third of the absorb round beside it, and its figure moved
     * 2-3x between rounds (thread starts and a neighbour's time slice weigh more in a short round),
     * mostly downwards, so that it flattered the ratio (BENCHMARKS.md, absorb, session 33).
     */
    static final double MIN_BASELINE_ROUND_SECONDS = 0.05;
    /** At most this many times the absorb round's bytes in one baseline round. */
    static final int MAX_BASELINE_ROUND_FACTOR = 64;

    /** A baseline measured on demand: MB/s over about {@code bytes}. */
    public interface Baseline {
        double measure(long bytes) throws IOException;
    }

    /** One phase's measurements. */
    public static final class PhaseResult {
        public String phase;
        public long ops;
        /** The requests the phase was to send; fewer were sent ({@link #ops}) when it was stopped ({@link #stopped}). */
        public long plannedOps;
        public long reads;
        public long writes;
        public long flushes;
        public double seconds;
        public double iops;
        public double mbPerSecond;
        public double p50us;
        public double p99us;
        public double p999us;
        public double maxUs;
        public double flushP50us = Double.NaN;
        public double flushP99us = Double.NaN;
        public double writebackMbPerSecond;
        public double writebackRunBlocks;
        public long blockedOnFreelist;
        /** Free cache blocks when the phase began (all of them after the clean start of the later phases). */
        public long freeBlocksAtStart = -1;
        public double readHitRate = Double.NaN;
        public String baselineName;
        public double baselineMbPerSecond = Double.NaN;
        public double ratio = Double.NaN;
        /** Which figure {@link #ratio} divides by the baseline: {@code mb_per_s} or {@code writeback_mb_per_s}. */
        public String ratioOf = "mb_per_s";
        /** absorb: each round's ratio to its own baseline round, in the order run. */
        public double[] roundRatios;

        /**
         * Why the phase ended before sending all its requests ({@link #MAX_PHASE_SECONDS}, or what
         * stopped the bench, e.g. "SIGINT"); null when it sent them all. Its figures cover what it sent.
         */
        public String stopped;

        /** {@link #stopped}'s value for a phase that ran out of {@code --max-phase-seconds}. */
        public static final String MAX_PHASE_SECONDS = "max_phase_seconds";

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("phase", phase);
            m.put("ops", ops);
            m.put("planned_ops", plannedOps);
            m.put("stopped", stopped);
            m.put("reads", reads);
            m.put("writes", writes);
            m.put("flushes", flushes);
            m.put("seconds", seconds);
            m.put("iops", iops);
            m.put("mb_per_s", mbPerSecond);
            m.put("latency_us", Map.of("p50", p50us, "p99", p99us, "p99_9", p999us, "max", maxUs));
            if (!Double.isNaN(flushP50us)) {
                m.put("flush_latency_us", Map.of("p50", flushP50us, "p99", flushP99us));
            }
            m.put("writeback_mb_per_s", writebackMbPerSecond);
            m.put("writeback_run_blocks", writebackRunBlocks);
            m.put("writes_blocked_on_freelist", blockedOnFreelist);
            m.put("free_blocks_at_start", freeBlocksAtStart);
            if (!Double.isNaN(readHitRate)) {
                m.put("read_hit_rate", readHitRate);
            }
            if (baselineName != null) {
                m.put("baseline", baselineName);
                m.put("baseline_mb_per_s", baselineMbPerSecond);
                m.put("ratio", ratio);
                m.put("ratio_of", ratioOf);
            }
            if (roundRatios != null) {
                m.put("round_ratios", java.util.Arrays.stream(roundRatios).boxed().toList());
            }
            return m;
        }
    }

    private final WritecacheTarget target;
    private final Writecache wc;
    private final Config cfg;
    private final int bs;
    private final long originBlocks;
    private final long cacheBlocks;
    private final Replayer.Progress progress;
    /** What stopped the bench early ({@link #stop}), or null. */
    private volatile String stopBy;

    /**
     * Ends the run early (Ctrl-C): the phase in progress stops sending requests and is reported
     * with what it sent; the phases after it do not run. {@code by} names why ("SIGINT").
     */
    public void stop(String by) {
        if (stopBy == null) {
            stopBy = by;
        }
    }

    /** What stopped the run, or null when it ran every phase. */
    public String stoppedBy() {
        return stopBy;
    }

    /** What the absorb baseline was (set by the caller that measured it). */
    public String copyBaselineName = "raw copy into a mapped file";

    public Bench(WritecacheTarget target, Config cfg, Replayer.Progress progress) {
        this.target = target;
        this.wc = target.engine();
        this.cfg = cfg;
        this.bs = wc.blockSize();
        this.originBlocks = (target.lengthSectors() << 9) / bs;
        this.cacheBlocks = wc.nBlocks();
        this.progress = progress;
    }

    /** How a worker picks its next request: a block, and whether it is a read. */
    private interface Picker {
        /** Block number; a negative value {@code -(b + 1)} means read block {@code b}. */
        long next(SplittableRandom r, int thread, long i);
    }

    /** Run the configured phases; {@code copyBaseline}/{@code originBaseline} are this run's baselines in MB/s. */
    public List<PhaseResult> run(double copyBaseline, double originBaseline) throws IOException {
        return run(bytes -> copyBaseline, originBaseline);
    }

    /**
     * Run the configured phases. {@code copyBaseline} is measured beside every absorb round
     * (the same threads, just before it: the round's bytes, or 50 ms of copies if more, {@link
     * #baselineRoundBytes}); {@code originBaseline} is this run's
     * origin sequential rate in MB/s.
     */
    public List<PhaseResult> run(Baseline copyBaseline, double originBaseline) throws IOException {
        for (String phase : cfg.phases) { // all of them before the first runs
            if (!PHASES.contains(phase)) {
                throw new IllegalArgumentException("unknown phase '" + phase + "' (phases: " + String.join(", ", PHASES) + ")");
            }
        }
        List<PhaseResult> out = new ArrayList<>();
        long absorbBlocks = Math.max(cfg.threads, (long) (cacheBlocks * 0.4 * Math.min(1, cfg.scale)));
        long span = Math.min(originBlocks, Math.max(1, cacheBlocks * 4));
        for (String phase : cfg.phases) {
            warmUp(absorbBlocks);
            if (stopBy != null) {
                break; // the phases not begun are left out
            }
            PhaseResult r;
            switch (phase) {
                case "absorb" -> r = absorb(absorbBlocks, copyBaseline);
                case "drain" -> r = drain(absorbBlocks, originBaseline);
                case "overflow" -> {
                    commitAndClean();
                    r = phase("overflow", (long) (cacheBlocks * 2 * cfg.scale), 0, (rnd, t, i) -> rnd.nextLong(span));
                    writebackBeside(r, originBaseline);
                }
                case "flush-heavy" -> {
                    commitAndClean();
                    r = phase("flush-heavy", (long) (20_000 * cfg.scale), cfg.flushEvery, (rnd, t, i) -> rnd.nextLong(span));
                }
                case "mixed" -> {
                    commitAndClean();
                    r = phase("mixed", (long) (100_000 * cfg.scale), 0, (rnd, t, i) -> {
                        long b = rnd.nextLong(span);
                        return rnd.nextInt(100) < cfg.readPercent ? -(b + 1) : b;
                    });
                }
                case "zipf" -> {
                    commitAndClean();
                    Zipf z = new Zipf(originBlocks, cfg.zipfExponent);
                    r = phase("zipf", (long) (200_000 * cfg.scale), 0, (rnd, t, i) -> {
                        long b = z.next(rnd);
                        return rnd.nextInt(100) < cfg.zipfReadPercent ? -(b + 1) : b;
                    });
                }
                default -> throw new IllegalStateException(phase);
            }
            out.add(r);
        }
        return out;
    }

    private boolean warmedUp;

    /**
     * Untimed absorb-and-clean rounds before the first phase, whichever it is: absorb and drain are
     * a fraction of a second, and cold code (interpreter, first JIT tiers) would be measured
     * instead of the cache; and overflow run cold in ssd mode let the freelist run dry, so writes
     * went around the cache, pause_writeback held write-back back, and the phase stayed there (3 of
     * 4 runs at 0.00-0.01 of the origin's rate; warmed up, 4 runs at 0.35-0.61: BENCHMARKS.md, session 9).
     */
    private void warmUp(long blocks) throws IOException {
        if (warmedUp) {
            return;
        }
        warmedUp = true;
        for (int w = 0; w < cfg.warmupRounds && stopBy == null; w++) {
            phase("absorb (warm-up)", blocks, 0, (rnd, t, i) -> rnd.nextLong(originBlocks));
            commitAndClean();
        }
    }

    /**
     * The bytes of a paired baseline round: the absorb round's {@code roundBytes}, or what {@code
     * rateMbPerSecond} (the baseline's last figure; NaN before any) copies in {@link
     * #MIN_BASELINE_ROUND_SECONDS} if that is more, in whole blocks and at most {@link
     * #MAX_BASELINE_ROUND_FACTOR} times the round's.
     */
    long baselineRoundBytes(long roundBytes, double rateMbPerSecond) {
        if (!(rateMbPerSecond > 0)) {
            return roundBytes;
        }
        double wanted = rateMbPerSecond * 1e6 * MIN_BASELINE_ROUND_SECONDS;
        long bytes = (long) Math.min(wanted, (double) roundBytes * MAX_BASELINE_ROUND_FACTOR) / bs * bs;
        return Math.max(roundBytes, bytes);
    }

    /** The measured absorb rounds, each beside its own baseline round; the median ratio. */
    private PhaseResult absorb(long blocks, Baseline baseline) throws IOException {
        int rounds = Math.max(1, cfg.absorbRounds);
        List<PhaseResult> rs = new ArrayList<>();
        double[] base = new double[rounds];
        double[] ratios = new double[rounds];
        Histogram[] lat = new Histogram[1];
        // the baseline's loop is JIT-compiled like the engine's: its first rounds would run
        // interpreted and flatter every ratio measured against them; they also size the rounds
        double lastRate = Double.NaN;
        for (int w = 0; w < cfg.warmupRounds; w++) {
            lastRate = baseline.measure(baselineRoundBytes(blocks * bs, lastRate));
        }
        for (int k = 0; k < rounds; k++) {
            if (k > 0 && stopBy != null) {
                break;
            }
            base[k] = baseline.measure(baselineRoundBytes(blocks * bs, lastRate));
            lastRate = base[k];
            PhaseResult r = phase("absorb", blocks, 0, (rnd, t, i) -> rnd.nextLong(originBlocks), lat);
            ratios[k] = r.mbPerSecond / base[k];
            rs.add(r);
            commitAndClean();
        }
        if (rs.size() < rounds) { // stopped: the rounds that ran
            base = java.util.Arrays.copyOf(base, rs.size());
            ratios = java.util.Arrays.copyOf(ratios, rs.size());
            rounds = rs.size();
        }
        PhaseResult out = new PhaseResult();
        out.phase = "absorb";
        out.plannedOps = blocks * Math.max(1, cfg.absorbRounds);
        out.stopped = rs.size() < Math.max(1, cfg.absorbRounds) ? stopBy
                : rs.stream().map(r -> r.stopped).filter(java.util.Objects::nonNull).findFirst().orElse(null);
        for (PhaseResult r : rs) {
            out.ops += r.ops;
            out.writes += r.writes;
            out.seconds += r.seconds;
            out.blockedOnFreelist += r.blockedOnFreelist;
        }
        out.iops = out.ops / out.seconds;
        out.mbPerSecond = (double) out.ops * bs / out.seconds / 1e6;
        out.p50us = lat[0].getValueAtPercentile(50) / 1e3;
        out.p99us = lat[0].getValueAtPercentile(99) / 1e3;
        out.p999us = lat[0].getValueAtPercentile(99.9) / 1e3;
        out.maxUs = lat[0].getMaxValue() / 1e3;
        // the range beside the median: on a VM the rounds can split into two modes (BENCHMARKS.md,
        // absorb, session 8), which a median alone hides
        double lo = java.util.Arrays.stream(ratios).min().orElse(Double.NaN);
        double hi = java.util.Arrays.stream(ratios).max().orElse(Double.NaN);
        out.baselineName = copyBaselineName + (rounds > 1 ? String.format(java.util.Locale.ROOT,
                " (median of %d paired rounds; rounds %.2f-%.2f)", rounds, lo, hi) : "");
        out.baselineMbPerSecond = median(base);
        out.ratio = median(ratios);
        out.roundRatios = ratios;
        return out;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** {@code message flush}: commit, write every block back, wait. */
    private void commitAndClean() throws IOException {
        try {
            target.message(new String[] {"flush"});
        } catch (DmError e) {
            throw new IOException("message flush failed: " + e.getMessage(), e);
        }
    }

    private PhaseResult drain(long blocks, double originBaseline) throws IOException {
        long n = Math.min(blocks, originBlocks);
        long per = n / cfg.threads;
        PhaseResult fill = phase("drain (fill)", per * cfg.threads, 0, (rnd, t, i) -> t * per + i);
        long wb0 = wc.writebackBlocks();
        long runs0 = wc.writebackRuns();
        long t0 = System.nanoTime();
        commitAndClean();
        double s = (System.nanoTime() - t0) / 1e9;
        long wbBlocks = wc.writebackBlocks() - wb0;
        PhaseResult r = new PhaseResult();
        r.phase = "drain";
        r.ops = fill.ops;
        r.plannedOps = fill.plannedOps;
        r.stopped = fill.stopped;
        r.writes = fill.writes;
        r.seconds = s;
        r.iops = wbBlocks / s;
        r.mbPerSecond = (double) wbBlocks * bs / s / 1e6;
        r.p50us = fill.p50us;
        r.p99us = fill.p99us;
        r.p999us = fill.p999us;
        r.maxUs = fill.maxUs;
        r.writebackMbPerSecond = r.mbPerSecond;
        long runs = wc.writebackRuns() - runs0;
        r.writebackRunBlocks = runs == 0 ? 0 : (double) wbBlocks / runs;
        writebackBeside(r, originBaseline);
        return r;
    }

    /** The phase's write-back rate beside the origin's sequential rate measured in the same run. */
    private static void writebackBeside(PhaseResult r, double originBaseline) {
        r.baselineName = "origin sequential write, 1 MiB";
        r.baselineMbPerSecond = originBaseline;
        r.ratio = r.writebackMbPerSecond / originBaseline;
        r.ratioOf = "writeback_mb_per_s";
    }

    private PhaseResult phase(String name, long ops, int flushEvery, Picker picker) throws IOException {
        return phase(name, ops, flushEvery, picker, null);
    }

    /** One phase; {@code merged}, when given, accumulates the write latencies of several calls in its element 0. */
    private PhaseResult phase(String name, long ops, int flushEvery, Picker picker, Histogram[] merged) throws IOException {
        long[] st0 = wc.statusFields();
        long wb0 = wc.writebackBlocks();
        long runs0 = wc.writebackRuns();
        AtomicLong done = new AtomicLong();
        Histogram[] lat = new Histogram[cfg.threads];
        Histogram[] flushLat = new Histogram[cfg.threads];
        // each thread allocates its own counters (its own TLAB): three longs per thread side by side
        // in one array, or arrays allocated one after the other, share a cache line, and two
        // submitters incrementing them would bounce it between cores on every request
        long[][] counts = new long[cfg.threads][];
        IOException[] failure = new IOException[1];
        long deadline = System.nanoTime() + (long) (cfg.maxPhaseSeconds * 1e9);
        // set by this thread when the deadline passes; the submitters read it before every request
        // (a line nobody writes until then stays in each core's cache: no clock read per request)
        AtomicBoolean timeUp = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int k = 0; k < cfg.threads; k++) {
            int me = k;
            long mine = ops / cfg.threads + (k < ops % cfg.threads ? 1 : 0);
            lat[k] = new Histogram(60_000_000_000L, 2);
            flushLat[k] = new Histogram(60_000_000_000L, 2);
            Thread th = new Thread(() -> {
                long[] count = new long[3];
                counts[me] = count;
                SplittableRandom rnd = new SplittableRandom(cfg.seed * 1_000_003L + me * 7919L + name.hashCode());
                ByteBuffer buf = ByteBuffer.allocateDirect(bs);
                byte[] fill = new byte[bs];
                rnd.nextBytes(fill);
                buf.put(fill).clear();
                for (long i = 0; i < mine; i++) {
                    if (timeUp.getOpaque()) {
                        break;
                    }
                    long b = picker.next(rnd, me, i);
                    boolean read = b < 0;
                    long block = read ? -(b + 1) : b;
                    buf.clear();
                    if (!read) {
                        buf.putLong(0, block).putLong(8, i); // distinct content per write
                    }
                    long s = System.nanoTime();
                    String err = target.submit(read ? Bio.Op.READ : Bio.Op.WRITE, 0, block * bs >> 9, bs, buf);
                    long e = System.nanoTime();
                    if (err != null) {
                        synchronized (failure) {
                            failure[0] = new IOException(name + ": " + (read ? "read" : "write") + " of block " + block + " failed: " + err
                                    + " (" + wc.errorText() + ")");
                        }
                        return;
                    }
                    lat[me].recordValue(Math.max(1, e - s));
                    count[read ? 0 : 1]++;
                    if (flushEvery > 0 && !read && count[1] % flushEvery == 0) {
                        long fs = System.nanoTime();
                        String ferr = target.flush();
                        flushLat[me].recordValue(Math.max(1, System.nanoTime() - fs));
                        count[2]++;
                        if (ferr != null) {
                            synchronized (failure) {
                                failure[0] = new IOException(name + ": flush failed: " + ferr);
                            }
                            return;
                        }
                    }
                    if ((i & 1023) == 1023) {
                        done.addAndGet(1024);
                    }
                }
            }, "bench-" + name + "-" + k);
            th.start();
            threads.add(th);
        }
        while (true) {
            boolean alive = false;
            for (Thread th : threads) {
                try {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || stopBy != null) {
                        timeUp.setOpaque(true);
                    }
                    th.join(Math.max(1, Math.min(200, left / 1_000_000)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted");
                }
                alive |= th.isAlive();
            }
            if (progress != null) {
                progress.update(Math.min(done.get(), ops), ops, (System.nanoTime() - t0) / 1e9);
            }
            if (!alive) {
                break;
            }
        }
        if (progress != null) {
            progress.done();
        }
        double s = (System.nanoTime() - t0) / 1e9;
        if (failure[0] != null) {
            throw failure[0];
        }
        Histogram all = new Histogram(60_000_000_000L, 2);
        Histogram flushAll = new Histogram(60_000_000_000L, 2);
        PhaseResult r = new PhaseResult();
        r.phase = name;
        for (int k = 0; k < cfg.threads; k++) {
            all.add(lat[k]);
            flushAll.add(flushLat[k]);
            r.reads += counts[k][0];
            r.writes += counts[k][1];
            r.flushes += counts[k][2];
        }
        r.ops = r.reads + r.writes;
        r.plannedOps = ops;
        if (r.ops < ops) {
            r.stopped = stopBy != null ? stopBy : PhaseResult.MAX_PHASE_SECONDS;
        }
        r.seconds = s;
        r.iops = r.ops / s;
        r.mbPerSecond = (double) r.ops * bs / s / 1e6;
        r.p50us = all.getValueAtPercentile(50) / 1e3;
        r.p99us = all.getValueAtPercentile(99) / 1e3;
        r.p999us = all.getValueAtPercentile(99.9) / 1e3;
        r.maxUs = all.getMaxValue() / 1e3;
        if (r.flushes > 0) {
            r.flushP50us = flushAll.getValueAtPercentile(50) / 1e3;
            r.flushP99us = flushAll.getValueAtPercentile(99) / 1e3;
        }
        if (merged != null) {
            if (merged[0] == null) {
                merged[0] = new Histogram(60_000_000_000L, 2);
            }
            merged[0].add(all);
        }
        long wbBlocks = wc.writebackBlocks() - wb0;
        long runs = wc.writebackRuns() - runs0;
        r.writebackMbPerSecond = (double) wbBlocks * bs / s / 1e6;
        r.writebackRunBlocks = runs == 0 ? 0 : (double) wbBlocks / runs;
        long[] st1 = wc.statusFields();
        r.freeBlocksAtStart = st0[2];
        r.blockedOnFreelist = st1[11] - st0[11];
        long reads = st1[4] - st0[4];
        if (r.reads > 0 && reads > 0) {
            r.readHitRate = (double) (st1[5] - st0[5]) / reads;
        }
        return r;
    }

    /** A baseline's worker: thread {@code index} copies its share. */
    private interface Copier {
        void run(int index) throws IOException;
    }

    /** Run {@code copier} on {@code threads} threads; the seconds they took together. */
    private static double timed(int threads, Copier copier) throws IOException {
        List<Thread> ts = new ArrayList<>();
        Exception[] failure = new Exception[1];
        long t0 = System.nanoTime();
        for (int k = 0; k < threads; k++) {
            int me = k;
            Thread th = new Thread(() -> {
                try {
                    copier.run(me);
                } catch (IOException | RuntimeException e) {
                    failure[0] = e;
                }
            });
            th.start();
            ts.add(th);
        }
        for (Thread th : ts) {
            try {
                th.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
        if (failure[0] instanceof IOException e) {
            throw e;
        }
        if (failure[0] instanceof RuntimeException e) {
            throw e;
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** MB/s of {@code bs}-sized copies at random block offsets into {@code dev}, from {@code threads} threads, for about {@code bytes}. */
    public static double copyBaseline(BlockDevice dev, int bs, int threads, long bytes) throws IOException {
        // one untimed pass touches every page (the first touch of a sparse file is a page fault, not a copy)
        BlockDevice.zeroFill(dev, 0, dev.sizeSectors());
        for (int w = 0; w < BASELINE_WARMUP_PASSES; w++) {
            copyRound(dev, bs, threads, bytes, -1 - w);
        }
        return copyRound(dev, bs, threads, bytes, 0);
    }

    /** One timed round of {@link #copyBaseline} on a device already touched; {@code seed} varies the offsets. */
    public static double copyRound(BlockDevice dev, int bs, int threads, long bytes, long seed) throws IOException {
        long blocks = dev.sizeBytes() / bs;
        long per = Math.max(1, bytes / bs / threads);
        double s = timed(threads, me -> {
            SplittableRandom rnd = new SplittableRandom(seed * 1009 + me);
            ByteBuffer buf = ByteBuffer.allocateDirect(bs);
            for (long i = 0; i < per; i++) {
                buf.clear();
                dev.write(rnd.nextLong(blocks) * bs >> 9, buf, false);
            }
        });
        return (double) per * threads * bs / s / 1e6;
    }

    /**
     * MB/s of {@code bs}-sized durable copies ({@code memcpy_flushcache}: non-temporal stores, the
     * pmem data path) at random block offsets into {@code dax}, from {@code threads} threads, each
     * opening access once as the engine does, one fence at the end; about {@code bytes}.
     */
    public static double durableCopyBaseline(dev.dmwc.daxlib.DaxDevice dax, int bs, int threads, long bytes) throws IOException {
        dax.setReadwrite();
        try {
            dax.accessor().zero(0, dax.size() / bs * bs); // first touch outside the timing
            dax.accessor().drain();
        } finally {
            dax.setNoaccess();
        }
        for (int w = 0; w < BASELINE_WARMUP_PASSES; w++) {
            durableCopyRound(dax, bs, threads, bytes, -1 - w);
        }
        return durableCopyRound(dax, bs, threads, bytes, 0);
    }

    /** One timed round of {@link #durableCopyBaseline} on a mapping already touched; {@code seed} varies the offsets. */
    public static double durableCopyRound(dev.dmwc.daxlib.DaxDevice dax, int bs, int threads, long bytes, long seed) throws IOException {
        long blocks = dax.size() / bs;
        long per = Math.max(1, bytes / bs / threads);
        double s = timed(threads, me -> {
            SplittableRandom rnd = new SplittableRandom(seed * 1009 + me);
            ByteBuffer buf = ByteBuffer.allocateDirect(bs);
            dax.setReadwrite();
            try {
                for (long i = 0; i < per; i++) {
                    buf.clear();
                    dax.accessor().memcpyFlushcache(rnd.nextLong(blocks) * bs, buf);
                }
                dax.accessor().drain();
            } finally {
                dax.setNoaccess();
            }
        });
        return (double) per * threads * bs / s / 1e6;
    }

    /** MB/s of sequential 1 MiB writes to {@code dev} from its start, about {@code bytes}, then a flush. */
    public static double sequentialBaseline(BlockDevice dev, long bytes) throws IOException {
        int chunk = 1 << 20;
        long n = Math.max(1, Math.min(bytes, dev.sizeBytes()) / chunk);
        ByteBuffer buf = ByteBuffer.allocateDirect(chunk);
        double mbps = 0;
        // twice, the second timed: the first pass pays the first touch of a sparse file's pages
        // (several µs a page on some VMs), which is not the device's rate and which the phases'
        // write-back, going to the same region afterwards, does not pay
        for (int pass = 0; pass < 2; pass++) {
            long t0 = System.nanoTime();
            for (long i = 0; i < n; i++) {
                buf.clear();
                dev.write(i * chunk >> 9, buf, false);
            }
            dev.flush();
            mbps = (double) n * chunk / ((System.nanoTime() - t0) / 1e9) / 1e6;
        }
        return mbps;
    }
}
