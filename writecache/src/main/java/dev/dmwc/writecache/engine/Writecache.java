package dev.dmwc.writecache.engine;

import static dev.dmwc.writecache.engine.Entries.FREELIST;
import static dev.dmwc.writecache.engine.Entries.LRU;
import static dev.dmwc.writecache.engine.Entries.NIL;

import dev.dmwc.daxlib.CrashDomain;
import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.BlockDevice;
import dev.dmwc.writecache.format.EntryLayout;
import dev.dmwc.writecache.format.MemoryLayout;
import dev.dmwc.writecache.format.SuperblockLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * {@code struct dm_writecache} and the logic of {@code drivers/md/dm-writecache.c} (Linux 6.1,
 * target 1.6.0): map (read, write, flush, discard), commit ({@code writecache_flush}),
 * autocommit, writeback and its completion, suspend and resume (recovery).
 *
 * <p>One lock guards all state, as {@code wc->lock} does. Background contexts (the writeback
 * workqueue, the endio thread, the timers) come from a {@link Scheduler}. I/O to the devices is
 * synchronous; a writeback run's completion is queued to the endio context as the kernel's
 * bio end_io queues it to {@code writecache_endio}.
 */
public final class Writecache implements AutoCloseable {
    static final int ENDIO_LATENCY = 16;
    static final int WRITEBACK_LATENCY = 64;
    static final int MAX_AGE_DIV = 16;
    static final int BIO_MAX_VECS = 256;
    static final int WB_LIST_INLINE = 16;
    static final int WFE_RETURN_FOLLOWING = 1;
    static final int WFE_LOWEST_SEQ = 2;
    private static final String WQ = "writecache-writeback";
    private static final String ENDIO = "writecache_endio";

    private static final Logger LOG = Logger.getLogger("dm-writecache");

    final WritecacheConfig cfg;
    final boolean pmem;
    final int blockSize;
    final int blockSizeBits;
    final BlockDevice origin;
    final BlockDevice ssd;
    final MemoryMap mem;
    final long startSector;
    final long memoryMapSize;
    long nBlocks;
    long metadataSectors;
    long blockStart;
    long seqCount;
    Entries entries;

    long freelistSize;
    long writebackSize;
    long freelistHighWatermark;
    long freelistLowWatermark;
    /** {@code max_age} in jiffies ({@link Jiffies}), or {@link WritecacheConfig#MAX_AGE_UNSPECIFIED}. */
    final long maxAge;
    long uncommittedBlocks;
    final long autocommitBlocks;
    final long maxWritebackJobs;
    /** {@code autocommit_time} in jiffies. */
    final long autocommitJiffies;
    /** {@code pause_writeback} in jiffies (0: no pause). */
    final long pause;

    private volatile int error;
    private String errorText;
    boolean overwroteCommitted;
    boolean flushOnSuspend;
    boolean cleaner;
    final boolean metadataOnly;
    int writebackAll;
    long dataDeviceSectors;
    boolean suspended;

    // dm_io_tracker for pause_writeback
    private long iotInFlight;
    /** {@code idle_time}, in jiffies. */
    private long iotIdleTime;
    private static final long IOT_NEVER_BUSY = Long.MIN_VALUE / 4;
    private boolean pausePassedAtQueue;
    /**
     * The writeback work was queued while it slept in the pause loop ({@code pauseTimer}
     * pending): in the kernel the running work is then pending again and runs once more after
     * the run that sleeps.
     */
    private boolean queuedWhileAsleep;

    final Stats stats = new Stats();
    final ReentrantLock lock = new ReentrantLock();
    /**
     * The scheduler runs everything on the driving thread ({@link Scheduler#singleThreaded}): no
     * other thread can ever contend for {@code wc_lock} or the bio counters, so they are elided (a
     * locked instruction for each of four per bio was a fifth of a dataless replay). The owner
     * check keeps that assumption honest.
     */
    private final boolean singleThreaded;
    /** The order in which writeback runs' writes enter the origin's queue ({@link #submitRuns}). */
    private final Turnstile originTurn = new Turnstile();
    /**
     * Whether runs wait for their turns: only when the origin's timing depends on the order (a
     * disk model) and runs are written on several threads. Elsewhere the turns cost a thread
     * wake-up per run and buy nothing.
     */
    private final boolean ordered;
    private Thread owner;
    private final Scheduler sched;
    private final Scheduler.Work writebackWork;
    private final Scheduler.Work flushWork;
    private final Scheduler.Work endioWork;
    private final Scheduler.Timer autocommitTimer;
    private final Scheduler.Timer maxAgeTimer;
    private final Scheduler.Timer pauseTimer;
    private final List<WritebackRun> endioList = new ArrayList<>();
    /** Guards the writeback totals (runs complete on I/O threads). */
    private final Object wbCounters = new Object();
    private final List<Bio> flushList = new ArrayList<>();
    private final Object flushThread = new Object();
    private final ByteBuffer copyBuf;
    private Consumer<String> logSink = LOG::severe;
    private long kernelBugsAvoided;
    /**
     * A deliberately wrong commit order for proving that crash exploration has teeth
     * ({@code -Ddmwc.test.mutant=superblock-first}): the superblock's new seq_count is made durable
     * before the metadata of the entries it commits. Never set outside tests.
     */
    static final boolean MUTANT_SUPERBLOCK_FIRST = "superblock-first".equals(System.getProperty("dmwc.test.mutant"));
    private volatile boolean dataless;
    private long writebackBlocksTotal;
    private long writebackRunsTotal;
    /** {@code jiffies} at construction: entries' ages count from it. */
    private final long epochJiffies;
    /**
     * {@code bio_in_progress[READ, WRITE]}: ssd-mode bios remapped to the cache device and not yet
     * ended. Always zero when one thread drives the engine (the I/O ends before {@code map}'s
     * caller returns); with a threaded scheduler, commit and discard wait here as the kernel does.
     * Atomic counters, as the kernel's {@code atomic_t}s: a bio's end takes no monitor unless
     * someone waits ({@code bioWaiters}, the kernel's {@code wq_has_sleeper}).
     */
    private final java.util.concurrent.atomic.AtomicIntegerArray bioInProgress = new java.util.concurrent.atomic.AtomicIntegerArray(2);
    private final java.util.concurrent.atomic.AtomicInteger bioWaiters = new java.util.concurrent.atomic.AtomicInteger();
    private final Object bioInProgressWait = new Object();
    /**
     * Contexts in {@link #waitOnFreelist} (the kernel's {@code waitqueue_active(&wc->freelist_wait)}):
     * changed and read with {@code wc_lock} held, which the waiter holds when it counts itself in
     * and again when it counts itself out.
     */
    private int freelistWaiters;

    /** One writeback bio (pmem) or kcopyd job (ssd): the entries and the result. */
    static final class WritebackRun {
        final int[] entries;
        final int count;
        boolean failed;
        /** Its place in the order writeback writes reach the origin ({@link #originTurn}). */
        long ticket;
        boolean turnTaken;

        WritebackRun(int[] entries, int count) {
            this.entries = entries;
            this.count = count;
        }
    }

    private Writecache(WritecacheConfig cfg, BlockDevice origin, BlockDevice ssd, MemoryMap mem, long memoryMapSize,
            Scheduler sched) {
        this.cfg = cfg;
        this.pmem = cfg.pmemMode;
        this.blockSize = cfg.blockSize;
        this.blockSizeBits = Integer.numberOfTrailingZeros(cfg.blockSize);
        this.origin = origin;
        this.ssd = ssd;
        this.mem = mem;
        this.startSector = cfg.startSector;
        this.memoryMapSize = memoryMapSize;
        this.maxAge = cfg.maxAgeMs == WritecacheConfig.MAX_AGE_UNSPECIFIED ? WritecacheConfig.MAX_AGE_UNSPECIFIED
                : Jiffies.fromMillis(cfg.maxAgeMs);
        this.autocommitBlocks = Integer.toUnsignedLong(cfg.autocommitBlocks);
        this.maxWritebackJobs = Integer.toUnsignedLong(cfg.maxWritebackJobs);
        this.autocommitJiffies = Jiffies.fromMillis(cfg.autocommitMs);
        this.pause = Jiffies.fromMillis(cfg.pauseMs);
        this.metadataOnly = cfg.metadataOnly;
        this.cleaner = cfg.cleaner;
        this.sched = sched;
        this.singleThreaded = sched.singleThreaded();
        this.ordered = !singleThreaded && origin.orderSensitive();
        this.epochJiffies = jiffies();
        // dm_iot_init sets idle_time = 0: jiffies - 0 is more than any pause_writeback, so the
        // pause applies only once a write to the origin has completed (checked on the oracle:
        // test-data/kernel/ssd-full-writearound), not from the table load. Such a write is a
        // write-around or, in ssd mode, the origin's copy of an empty flush (target_bio_nr 1,
        // an op WRITE with PREFLUSH): test-data/kernel/ssd-pause-after-flush
        this.iotIdleTime = IOT_NEVER_BUSY;
        this.writebackWork = sched.newWork(WQ, "writeback_work", this::writeback);
        this.flushWork = sched.newWork(WQ, "flush_work", this::flushWorkBody);
        this.endioWork = sched.newWork(ENDIO, "endio", this::endioThread);
        this.autocommitTimer = sched.newTimer("autocommit_timer", this::autocommitTimerFired);
        this.maxAgeTimer = sched.newTimer("max_age_timer", this::maxAgeTimerFired);
        this.pauseTimer = sched.newTimer("writeback_pause", writebackWork::queue);
        this.copyBuf = ByteBuffer.allocateDirect(cfg.blockSize);
    }

    // =================================================================== construction (ctr)

    /**
     * The device part of {@code writecache_ctr} after argument parsing: map or read the metadata,
     * format a new device ({@code init_memory}), check the superblock. Nothing is written to an
     * existing device whose superblock is refused.
     */
    public static Writecache create(WritecacheConfig cfg, BlockDevice origin, Object cacheDevice, Scheduler sched,
            CrashDomain crashDomain, Consumer<String> log) throws DmError {
        MemoryMap mem;
        long memoryMapSize;
        BlockDevice ssd = null;
        if (cfg.pmemMode) {
            DaxDevice dax = (DaxDevice) cacheDevice;
            if (!dax.synchronous()) {
                throw new DmError("EOPNOTSUPP", "Asynchronous persistent memory not supported as pmem cache");
            }
            memoryMapSize = dax.size() - (cfg.startSector << 9);
            checkHeap(memoryMapSize, cfg.blockSize, 0, log);
            mem = persistentMemoryClaim(dax, cfg.startSector, crashDomain, log);
        } else {
            ssd = (BlockDevice) cacheDevice;
            memoryMapSize = ssd.sizeBytes() - (cfg.startSector << 9);
            MemoryLayout layout;
            try {
                layout = MemoryLayout.calculate(memoryMapSize, cfg.blockSize);
            } catch (MemoryLayout.SizeException e) {
                throw sizingRefused(false, e);
            }
            long metadataBytes = layout.nMetadataBlocks * cfg.blockSize;
            if (metadataBytes > Integer.MAX_VALUE) {
                note(log, String.format("ssd metadata of %,d bytes: dmwc keeps it in one Java buffer, at most 2 GiB "
                        + "(an ssd cache of up to about 500 GiB at 4 KiB blocks)", metadataBytes));
                throw new DmError("ENOMEM", "Unable to allocate memory for metadata");
            }
            checkHeap(memoryMapSize, cfg.blockSize, metadataBytes, log);
            SsdMemoryMap sm = new SsdMemoryMap(metadataBytes);
            try {
                sm.read(ssd, cfg.startSector, cfg.blockSize >> 9);
            } catch (IOException e) {
                throw new DmError("EIO", "Unable to read first block of metadata");
            }
            mem = sm;
        }
        boolean ok = false;
        try {
            Writecache wc = new Writecache(cfg, origin, ssd, mem, memoryMapSize, sched);
            if (log != null) {
                wc.logSink = log;
            }
            wc.checkSuperblock();
            ok = true;
            return wc;
        } finally {
            if (!ok) {
                mem.close();
            }
        }
    }

    /** The Java heap left to this JVM; a test sets a smaller figure to reach the refusal with a cache it can back. */
    static java.util.function.LongSupplier heapAvailable = () -> {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    };

    /**
     * The kernel allocates {@code wc->entries} (and, in ssd mode, the metadata area) from kernel
     * memory; dmwc takes them from the Java heap, which is smaller. Refused, with the kernel's
     * text for a failed allocation, before anything touches the device: a 1 TiB pmem cache used to
     * initialize 4 GiB of metadata and then die of OutOfMemoryError. The count of blocks is an
     * upper bound (no metadata), so a cache that fits is never refused here.
     */
    private static void checkHeap(long memoryMapSize, int blockSize, long metadataBytes, Consumer<String> log) throws DmError {
        long blocks = Math.max(0, memoryMapSize) / (blockSize + 16L);
        long need = blocks * Entries.BYTES_PER_ENTRY + metadataBytes;
        long available = heapAvailable.getAsLong();
        if (need > available) {
            note(log, String.format("the engine's state for up to %,d blocks takes about %,d MiB of Java heap, and this JVM has "
                    + "%,d MiB left (raise it with DMWC_JAVA_OPTS=-Xmx..., or use a smaller cache or larger blocks)", blocks,
                    need >> 20, available >> 20));
            throw new DmError("ENOMEM", "Cannot allocate memory");
        }
    }

    private static void note(Consumer<String> log, String message) {
        if (log != null) {
            log.accept(NOTE + message);
        }
    }

    /**
     * Port of {@code persistent_memory_claim()} with the PKS series' change: when the dax device
     * is {@code map_protected} or the range is not one piece, make our own permanent mapping.
     */
    private static MemoryMap persistentMemoryClaim(DaxDevice dax, long startSector, CrashDomain crashDomain,
            Consumer<String> log) throws DmError {
        long p = dax.size() / DaxDevice.PAGE_SIZE;
        if (p == 0) {
            throw new DmError("EINVAL", "Unable to map persistent memory for cache");
        }
        DaxDevice.DirectAccess da = dax.directAccess(0, p);
        if (dax.mapProtected() || da.pages() != p) {
            // walk the pieces as the kernel collects the pages for vmap()
            long i = da.pages();
            while (i < p) {
                DaxDevice.DirectAccess d = dax.directAccess(i, p - i);
                i += d.pages();
            }
            try {
                PermanentMapping pm = new PermanentMapping(dax, crashDomain);
                if (log != null) {
                    log.accept("pmem cache " + dax.path() + ": " + (dax.mapProtected()
                            ? "dax range is map_protected (" + dax.pgmap().backend().id() + ")"
                            : "dax range came back in pieces") + "; using a permanent mapping (" + pm.maker() + ")");
                }
                return new PmemMemoryMap(pm.door(), startSector << 9, pm);
            } catch (IOException | RuntimeException e) {
                throw new DmError("ENOMEM", "Unable to map persistent memory for cache");
            }
        }
        if (crashDomain != null) {
            dax.accessor().setCrashDomain(crashDomain);
        }
        return new PmemMemoryMap(dax.accessor(), startSector << 9, null);
    }

    private void checkSuperblock() throws DmError {
        int magic = mem.getInt(SuperblockLayout.MAGIC_OFFSET);
        int version = mem.getInt(SuperblockLayout.VERSION_OFFSET);
        if (magic == 0 && version == 0) {
            initMemory();
            magic = mem.getInt(SuperblockLayout.MAGIC_OFFSET);
            version = mem.getInt(SuperblockLayout.VERSION_OFFSET);
        }
        if (magic != SuperblockLayout.MEMORY_SUPERBLOCK_MAGIC) {
            throw new DmError("EINVAL", "Invalid magic in the superblock");
        }
        if (version != SuperblockLayout.MEMORY_SUPERBLOCK_VERSION) {
            throw new DmError("EINVAL", "Invalid version in the superblock");
        }
        if (mem.getInt(SuperblockLayout.BLOCK_SIZE_OFFSET) != blockSize) {
            throw new DmError("EINVAL", "Block size does not match superblock");
        }
        nBlocks = mem.getLong(SuperblockLayout.N_BLOCKS_OFFSET);
        if (nBlocks < 0 || nBlocks > (Long.MAX_VALUE - 64) / 16 || nBlocks > Long.MAX_VALUE / blockSize) {
            throw new DmError("EINVAL", "Overflow in size calculation");
        }
        long offset = MemoryLayout.metadataBytes(nBlocks, blockSize);
        long dataSize = nBlocks * blockSize;
        if (offset + dataSize > memoryMapSize) {
            throw new DmError("EINVAL", "Memory area is too small");
        }
        if (nBlocks > Integer.MAX_VALUE - 8) {
            throw new DmError("ENOMEM", "Cannot allocate memory");
        }
        metadataSectors = offset >> 9;
        blockStart = offset;
        freelistHighWatermark = (nBlocks * (100 - cfg.highWmPercent) + 50) / 100;
        freelistLowWatermark = (nBlocks * (100 - cfg.lowWmPercent) + 50) / 100;
        if (cleaner) {
            activateCleaner();
        }
        try {
            entries = new Entries((int) nBlocks, !pmem);
        } catch (OutOfMemoryError e) { // checkHeap's estimate was not enough: the arrays are dropped again
            logSink.accept(NOTE + "out of Java heap for the entries of " + nBlocks + " blocks");
            throw new DmError("ENOMEM", "Cannot allocate memory");
        }
    }

    /**
     * A cache that {@code calculate_memory_size()} finds too small, as the kernel says it: ssd mode
     * sizes the device in the ctr, pmem mode when {@code init_memory()} formats a fresh one
     * (test-data/kernel/ssd-start-sector-no-room, pmem-start-sector-no-room).
     */
    public static DmError sizingRefused(boolean pmem, MemoryLayout.SizeException e) {
        return new DmError(e.errno, pmem ? "Unable to initialize device" : "Invalid device size");
    }

    /** Port of {@code init_memory()}: the magic is made durable last. */
    private void initMemory() throws DmError {
        MemoryLayout layout;
        try {
            layout = MemoryLayout.calculate(memoryMapSize, blockSize);
        } catch (MemoryLayout.SizeException e) {
            throw sizingRefused(true, e);
        }
        for (int b = 0; b < 8; b++) {
            mem.assignLong(8L * b, 0);
        }
        mem.assignInt(SuperblockLayout.VERSION_OFFSET, SuperblockLayout.MEMORY_SUPERBLOCK_VERSION);
        mem.assignInt(SuperblockLayout.BLOCK_SIZE_OFFSET, blockSize);
        mem.assignLong(SuperblockLayout.N_BLOCKS_OFFSET, layout.nBlocks);
        mem.assignLong(SuperblockLayout.SEQ_COUNT_OFFSET, 0);
        for (long b = 0; b < layout.nBlocks; b++) {
            mem.assignEntry(EntryLayout.offset(b), -1L, -1L);
        }
        metadataSectors = layout.nMetadataBlocks * blockSize >> 9;
        mem.flushAllMetadata();
        commitFlushed(false);
        mem.assignInt(SuperblockLayout.MAGIC_OFFSET, SuperblockLayout.MEMORY_SUPERBLOCK_MAGIC);
        mem.flushRegion(SuperblockLayout.MAGIC_OFFSET, 4);
        commitFlushed(false);
        if (hasError()) {
            throw new DmError("EIO", "Unable to initialize device");
        }
    }

    // =================================================================== small helpers

    boolean hasError() {
        return error != 0;
    }

    /** The sticky error ({@code writecache_error}): first one wins and is logged once. */
    void error(int errno, String text) {
        if (error == 0) {
            error = errno == 0 ? 5 : errno;
            errorText = text;
            logSink.accept(text);
        }
    }

    public String errorText() {
        return errorText;
    }

    /** {@code jiffies}. */
    private long jiffies() {
        return Jiffies.at(sched.nowMs());
    }

    private int ageNow() {
        return (int) (jiffies() - epochJiffies);
    }

    /** {@code mod_timer(timer, jiffies + n)}: the timer runs where the timer wheel puts it. */
    private void modTimer(Scheduler.Timer timer, long n) {
        timer.mod(Jiffies.timerDelayMs(sched.nowMs(), n));
    }

    private long entryOffset(int e) {
        return EntryLayout.offset(e);
    }

    private long memoryData(int e) {
        return blockStart + ((long) e << blockSizeBits);
    }

    long cacheSector(int e) {
        return startSector + metadataSectors + ((long) e << (blockSizeBits - 9));
    }

    private long readOriginalSector(int e) {
        return entries.originalSector[e];
    }

    private long readSeqCount(int e) {
        return entries.seqCount[e];
    }

    private void clearSeqCount(int e) {
        entries.seqCount[e] = -1;
        mem.assignLong(entryOffset(e) + EntryLayout.SEQ_COUNT_OFFSET, -1L);
    }

    private void writeOriginalSectorSeqCount(int e, long originalSector, long seq) {
        entries.originalSector[e] = originalSector;
        entries.seqCount[e] = seq;
        mem.assignEntry(entryOffset(e), originalSector, seq);
    }

    boolean isCommitted(int e) {
        return Long.compareUnsigned(readSeqCount(e), seqCount) < 0;
    }

    // =================================================================== tree, lists, freelist

    /** Port of {@code writecache_find_entry()}. */
    int findEntry(long block, int flags) {
        Entries en = entries;
        int node = en.root();
        if (node == NIL) {
            missKey = block;
            missParent = NIL;
            missVersion = en.treeVersion;
            return NIL;
        }
        int e;
        while (true) {
            e = node;
            long s = readOriginalSector(e);
            if (s == block) {
                break;
            }
            boolean goLeft = Long.compareUnsigned(s, block) >= 0;
            node = goLeft ? en.left(e) : en.right(e);
            if (node == NIL) {
                // no entry has this key: the leaf reached is where rb_insert would put it
                missKey = block;
                missParent = e;
                missLeft = goLeft;
                missVersion = en.treeVersion;
                if ((flags & WFE_RETURN_FOLLOWING) == 0) {
                    return NIL;
                }
                if (Long.compareUnsigned(s, block) >= 0) {
                    return e;
                }
                return en.rbNext(e);
            }
        }
        while (true) {
            int n2 = (flags & WFE_LOWEST_SEQ) != 0 ? en.rbPrev(e) : en.rbNext(e);
            if (n2 == NIL || readOriginalSector(n2) != block) {
                return e;
            }
            e = n2;
        }
    }

    /*
     * Where the last lookup of a key with no entry ended: writecache_map looks a block up and, on a
     * miss, inserts it, and the kernel walks the tree twice. While the tree is unchanged
     * (treeVersion) the insert reuses the leaf instead: the same position, one descent.
     */
    private long missKey;
    private int missParent;
    private boolean missLeft;
    private long missVersion = -1;

    /** Port of {@code writecache_insert_entry()}. */
    private void insertEntry(int e) {
        Entries en = entries;
        if (missVersion == en.treeVersion && missKey == readOriginalSector(e)) {
            en.rbInsertAt(e, missParent, missLeft);
        } else {
            en.rbInsert(e);
        }
        entries.listAdd(LRU, e);
        if (maxAge != WritecacheConfig.MAX_AGE_UNSPECIFIED) {
            // the kernel stamps every entry with jiffies, a load; here it is a clock read (tens of
            // ns), and the age is only ever read when max_age is set, which a table fixes for the
            // target's life (a reload builds a new one and stamps every entry again)
            entries.age[e] = ageNow();
        }
    }

    private void unlink(int e) {
        entries.listDel(e);
        entries.rbErase(e);
    }

    private void addToFreelist(int e) {
        if (!pmem) {
            entries.freeTreeAdd(e);
        } else {
            entries.listAddTail(FREELIST, e);
        }
        freelistSize++;
    }

    /**
     * {@code queue_work(wc->writeback_wq, &wc->writeback_work)}. The kernel's worker runs at once
     * on another CPU and its first pause check sees the I/O tracker as it is now; dmwc runs the work
     * when the submitting op is done, so the outcome of that first check is taken here (on the
     * oracle, test-data/kernel/ssd-full-writearound: writeback queued as the last free block is
     * taken is not held back by the write-around the same bio does a moment later).
     */
    private void queueWriteback() {
        if (pauseTimer.pending()) {
            // the work is asleep in schedule_timeout_idle: queue_work only marks it pending, and
            // it sees cleaner or writeback_all when its sleep ends (on the oracle,
            // test-data/kernel/ssd-cleaner-while-paused: a cleaner message during the sleep
            // writes nothing back until the sleep is over)
            queuedWhileAsleep = true;
            return;
        }
        if (!writebackWork.pending()) {
            pausePassedAtQueue = pause == 0 || (iotInFlight == 0 && jiffies() - iotIdleTime >= pause);
        }
        writebackWork.queue();
    }

    private void verifyWatermark() {
        if (freelistSize + writebackSize <= freelistHighWatermark) {
            queueWriteback();
        }
    }

    /** Port of {@code writecache_pop_from_freelist()}; {@code expectedSector} -1 = any. */
    private int popFromFreelist(long expectedSector) {
        int e;
        if (!pmem) {
            e = entries.currentFree();
            if (e == NIL) {
                return NIL;
            }
            if (expectedSector != -1 && cacheSector(e) != expectedSector) {
                return NIL;
            }
            entries.freeTreePopCurrent();
        } else {
            e = entries.first(FREELIST);
            if (e == NIL) {
                return NIL;
            }
            if (expectedSector != -1 && cacheSector(e) != expectedSector) {
                return NIL;
            }
            entries.listDel(e);
        }
        freelistSize--;
        verifyWatermark();
        return e;
    }

    /**
     * The prefix of dmwc's own lines in the kernel log: where a run leaves the kernel's path (e.g.
     * around a state in which Linux 6.1 oopses). {@code dmwc script} shows them without --log.
     */
    public static final String NOTE = "dmwc: ";

    /** Port of {@code writecache_free_entry()}. */
    private void freeEntry(int e) {
        unlink(e);
        addToFreelist(e);
        clearSeqCount(e);
        mem.flushRegion(entryOffset(e), EntryLayout.LENGTH);
        if (freelistWaiters != 0) {
            sched.wakeWaiters();
        }
    }

    /**
     * {@code wc_lock}: a kernel mutex spins while its owner runs before it sleeps (optimistic
     * spinning); so does this, a little, before parking — a handoff between two busy threads is
     * then a few hundred nanoseconds, not a park and a wake-up.
     */
    private void wcLock() {
        if (singleThreaded) {
            checkOwner();
            return;
        }
        for (int i = 0; i < 200; i++) {
            if (lock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        lock.lock();
    }

    private void wcUnlock() {
        if (!singleThreaded) {
            lock.unlock();
        }
    }

    /**
     * With a single-threaded scheduler the engine is driven by one thread only (the first to take
     * {@code wc_lock}); another is a bug in the caller, refused here rather than left to race.
     */
    private void checkOwner() {
        Thread me = Thread.currentThread();
        if (owner != me) {
            if (owner != null) {
                throw new IllegalStateException("the engine runs on a single-threaded scheduler and is driven by "
                        + owner.getName() + ", not " + me.getName());
            }
            owner = me;
        }
    }

    /** {@code atomic_inc(&wc->bio_in_progress[d])} as a bio is remapped to the cache device. */
    private void bioStarted(int d) {
        if (singleThreaded) {
            bioInProgress.setPlain(d, bioInProgress.getPlain(d) + 1);
        } else {
            bioInProgress.incrementAndGet(d);
        }
    }

    /** {@code atomic_dec_and_test}: the count left. */
    private int bioEnded(int d) {
        if (singleThreaded) {
            int left = bioInProgress.getPlain(d) - 1;
            bioInProgress.setPlain(d, left);
            return left;
        }
        return bioInProgress.decrementAndGet(d);
    }

    /** {@code writecache_wait_for_ios}: wait (lock held) until no bio of {@code dir} is in flight on the cache. */
    private void waitForIos(Bio.Op dir) {
        int d = dir == Bio.Op.READ ? 0 : 1;
        if (bioInProgress.get(d) == 0) {
            return;
        }
        bioWaiters.incrementAndGet(); // before the check below: an end that misses it sees the count already 0
        try {
            synchronized (bioInProgressWait) {
                boolean interrupted = false;
                while (bioInProgress.get(d) != 0) {
                    try {
                        bioInProgressWait.wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        } finally {
            bioWaiters.decrementAndGet();
        }
    }

    /** {@code writecache_wait_on_freelist}: let other contexts run (with the lock released). */
    private void waitOnFreelist() {
        freelistWaiters++;
        try {
            sched.waitForProgress(lock);
        } finally {
            freelistWaiters--;
        }
    }

    // =================================================================== commit

    /** Port of {@code writecache_commit_flushed()}. */
    private void commitFlushed(boolean waitForIos) {
        if (pmem) {
            mem.wmb();
        } else {
            ssdCommitFlushed(waitForIos);
        }
    }

    private void ssdCommitFlushed(boolean waitForIos) {
        SsdMemoryMap sm = (SsdMemoryMap) mem;
        try {
            sm.writeDirty(ssd, startSector, metadataSectors);
        } catch (IOException e) {
            error(5, "error writing metadata");
        }
        if (waitForIos) {
            waitForIos(Bio.Op.WRITE);
        }
        diskFlush(ssd);
        sm.clearDirty();
    }

    private void diskFlush(BlockDevice dev) {
        try {
            dev.flush();
        } catch (IOException e) {
            error(5, "error flushing metadata: -5");
        }
    }

    private void commitSuperblock() {
        if (pmem) {
            commitFlushed(false);
        } else {
            try {
                ((SsdMemoryMap) mem).writeSuperblock(ssd, startSector, metadataSectors, blockSize);
            } catch (IOException e) {
                error(5, "error writing superblock");
            }
        }
    }

    /** Port of {@code writecache_flush()}: the commit, in the kernel's persistence order. */
    void flush() {
        uncommittedBlocks = 0;
        autocommitTimer.del();
        Entries en = entries;
        int e = en.first(LRU);
        if (e == NIL) {
            return;
        }
        if (isCommitted(e)) {
            if (overwroteCommitted) {
                waitForIos(Bio.Op.WRITE);
                diskFlush(ssd);
                overwroteCommitted = false;
            }
            return;
        }
        while (true) {
            // writecache_flush_entry: ssd marks the entry's granule (pmem data was written non-temporally)
            mem.flushRegion(entryOffset(e), EntryLayout.LENGTH);
            int e2 = en.listNext(LRU, e);
            if (e2 == NIL || isCommitted(e2)) {
                break;
            }
            e = e2;
        }
        if (MUTANT_SUPERBLOCK_FIRST) {
            // test-only: persist the new seq_count before the entries it commits (crashtest must catch it)
            seqCount++;
            mem.assignLong(SuperblockLayout.SEQ_COUNT_OFFSET, seqCount);
            commitSuperblock();
            commitFlushed(true);
        } else {
            commitFlushed(true);

            seqCount++;
            mem.assignLong(SuperblockLayout.SEQ_COUNT_OFFSET, seqCount);
            commitSuperblock();
        }

        overwroteCommitted = false;

        boolean needFlushAfterFree = false;
        while (true) {
            int prev = en.rbPrev(e);
            if (prev != NIL && readOriginalSector(prev) == readOriginalSector(e) && !en.writeInProgress(prev)) {
                freeEntry(prev);
                needFlushAfterFree = true;
            }
            int up = en.listPrev(LRU, e);
            if (up == NIL) {
                break;
            }
            e = up;
        }
        if (needFlushAfterFree) {
            commitFlushed(false);
        }
    }

    private void flushWorkBody() {
        wcLock();
        try {
            flush();
        } finally {
            wcUnlock();
        }
    }

    private void autocommitTimerFired() {
        if (!hasError()) {
            flushWork.queue();
        }
    }

    private void scheduleAutocommit() {
        if (!autocommitTimer.pending()) {
            modTimer(autocommitTimer, autocommitJiffies);
        }
    }

    private void maxAgeTimerFired() {
        if (!suspended && !hasError()) {
            queueWriteback();
            modTimer(maxAgeTimer, maxAge / MAX_AGE_DIV);
        }
    }

    // =================================================================== discard

    /** {@link Entries#checkInvariants()} under the lock: null when the structures are consistent. */
    public String checkInvariants() {
        wcLock();
        try {
            return entries == null ? null : entries.checkInvariants();
        } finally {
            wcUnlock();
        }
    }

    /** Port of {@code writecache_discard()}. */
    void discard(long start, long end) {
        Entries en = entries;
        boolean discardedSomething = false;
        int e = findEntry(start, WFE_RETURN_FOLLOWING | WFE_LOWEST_SEQ);
        if (e == NIL) {
            return;
        }
        while (Long.compareUnsigned(readOriginalSector(e), end) < 0) {
            int node = en.rbNext(e);
            if (!en.writeInProgress(e)) {
                if (!discardedSomething && !pmem) {
                    waitForIos(Bio.Op.READ);
                    waitForIos(Bio.Op.WRITE);
                }
                discardedSomething = true;
                if (!isCommitted(e)) {
                    uncommittedBlocks--;
                }
                freeEntry(e);
            }
            if (node == NIL) {
                break;
            }
            e = node;
        }
        if (discardedSomething) {
            commitFlushed(false);
        }
    }

    // =================================================================== map

    /** Port of {@code writecache_map()} (under the lock). DM core acts on the result. */
    public MapResult map(Bio bio) {
        wcLock();
        try {
            MapResult r = mapLocked(bio);
            if (r == MapResult.REMAP_ORIGIN && pause != 0 && bio.op == Bio.Op.WRITE) {
                iotInFlight++;
            } else if (r == MapResult.REMAP) {
                bioStarted(bio.op == Bio.Op.READ ? 0 : 1);
            }
            return r;
        } finally {
            wcUnlock();
        }
    }

    private MapResult mapLocked(Bio bio) {
        if (bio.has(Bio.REQ_PREFLUSH)) {
            return mapFlush(bio);
        }
        if (((bio.sector | bio.sectors()) & ((blockSize >> 9) - 1)) != 0) {
            logSink.accept(String.format("I/O is not aligned, sector %d, size %d, block size %d", bio.sector, bio.size,
                    blockSize));
            return MapResult.ERROR;
        }
        if (bio.op == Bio.Op.DISCARD) {
            return mapDiscard(bio);
        }
        return bio.op == Bio.Op.READ ? mapRead(bio) : mapWrite(bio);
    }

    /** {@code writecache_end_io} for a bio sent to the origin (the pause tracker). */
    public void endIo(Bio bio, MapResult r) {
        if (r == MapResult.REMAP) {
            if (bioEnded(bio.op == Bio.Op.READ ? 0 : 1) == 0 && bioWaiters.get() > 0) {
                synchronized (bioInProgressWait) {
                    bioInProgressWait.notifyAll();
                }
            }
            return;
        }
        if (r == MapResult.REMAP_ORIGIN && pause != 0 && bio.op == Bio.Op.WRITE) {
            wcLock();
            try {
                if (--iotInFlight == 0) {
                    iotIdleTime = jiffies();
                }
            } finally {
                wcUnlock();
            }
        }
    }

    private void mapRemapOrigin(Bio bio, int e) {
        if (e != NIL) {
            long nextBoundary = readOriginalSector(e) - bio.sector;
            if (Long.compareUnsigned(nextBoundary, bio.sectors()) < 0) {
                bio.acceptPartial(nextBoundary);
            }
        }
    }

    private MapResult mapRead(Bio bio) {
        while (true) {
            stats.reads++;
            int e = findEntry(bio.sector, WFE_RETURN_FOLLOWING);
            if (e != NIL && readOriginalSector(e) == bio.sector) {
                stats.readHits++;
                if (pmem) {
                    if (bio.data != null) {
                        mem.readData(memoryData(e), bio.data, blockSize);
                    }
                    bio.advance(blockSize);
                    if (bio.size != 0) {
                        continue;
                    }
                    return MapResult.SUBMIT;
                }
                bio.acceptPartial(blockSize >> 9);
                bio.remapSector = cacheSector(e);
                if (!isCommitted(e)) {
                    waitForIos(Bio.Op.WRITE);
                }
                return MapResult.REMAP;
            }
            mapRemapOrigin(bio, e);
            stats.reads += (bio.size - blockSize) >> blockSizeBits;
            return MapResult.REMAP_ORIGIN;
        }
    }

    /** Port of {@code writecache_bio_copy_ssd()}. */
    private void bioCopySsd(Bio bio, int e, boolean searchUsed) {
        int bioSize = blockSize;
        long startCacheSec = cacheSector(e);
        long currentCacheSec = startCacheSec + (bioSize >> 9);
        Entries en = entries;
        while (bioSize < bio.size) {
            if (!searchUsed) {
                int f = popFromFreelist(currentCacheSec);
                if (f == NIL) {
                    break;
                }
                writeOriginalSectorSeqCount(f, bio.sector + (bioSize >> 9), seqCount);
                insertEntry(f);
                uncommittedBlocks++;
            } else {
                int f = en.rbNext(e);
                if (f == NIL || f != e + 1) {
                    break;
                }
                if (readOriginalSector(f) != readOriginalSector(e) + (blockSize >> 9)) {
                    break;
                }
                if (en.writeInProgress(f)) {
                    break;
                }
                if (isCommitted(f)) {
                    overwroteCommitted = true;
                }
                e = f;
            }
            bioSize += blockSize;
            currentCacheSec += blockSize >> 9;
        }
        bio.remapSector = startCacheSec;
        bio.acceptPartial(bioSize >> 9);
        stats.writes += bio.size >> blockSizeBits;
        stats.writesAllocate += (bio.size - blockSize) >> blockSizeBits;
        if (Long.compareUnsigned(uncommittedBlocks, autocommitBlocks) >= 0) {
            uncommittedBlocks = 0;
            flushWork.queue();
        } else {
            scheduleAutocommit();
        }
    }

    private MapResult mapWrite(Bio bio) {
        do {
            boolean foundEntry = false;
            boolean searchUsed = false;
            if (hasError()) {
                stats.writes += bio.size >> blockSizeBits;
                return MapResult.ERROR;
            }
            int e = findEntry(bio.sector, 0);
            boolean copy = false;
            if (e != NIL) {
                if (!isCommitted(e)) {
                    stats.writeHitsUncommitted++;
                    searchUsed = true;
                    copy = true;
                } else {
                    stats.writeHitsCommitted++;
                    if (!pmem && !entries.writeInProgress(e)) {
                        overwroteCommitted = true;
                        searchUsed = true;
                        copy = true;
                    } else {
                        foundEntry = true;
                    }
                }
            } else if (cleaner || (metadataOnly && !bio.has(Bio.REQ_META))) {
                return directWrite(bio);
            }
            boolean entryStored = true;
            if (!copy) {
                e = popFromFreelist(-1);
                if (e == NIL) {
                    if (!pmem && !foundEntry) {
                        return directWrite(bio);
                    }
                    stats.writesBlockedOnFreelist++;
                    waitOnFreelist();
                    continue;
                }
                if (pmem && bio.data != null) {
                    // write_original_sector_seq_count: the entry's pmem_assign leaves with the
                    // block's copy below, in one native call; the same stores in the same order
                    entries.originalSector[e] = bio.sector;
                    entries.seqCount[e] = seqCount;
                    entryStored = false;
                } else {
                    writeOriginalSectorSeqCount(e, bio.sector, seqCount);
                }
                insertEntry(e);
                uncommittedBlocks++;
                stats.writesAllocate++;
            }
            if (pmem) {
                if (bio.data != null) {
                    if (entryStored) {
                        mem.writeData(memoryData(e), bio.data, blockSize);
                    } else {
                        mem.assignEntryThenWriteData(entryOffset(e), readOriginalSector(e), readSeqCount(e), memoryData(e),
                                bio.data, blockSize);
                    }
                }
                bio.advance(blockSize);
                stats.writes++;
            } else {
                bioCopySsd(bio, e, searchUsed);
                return MapResult.REMAP;
            }
        } while (bio.size != 0);

        if (bio.has(Bio.REQ_FUA) || Long.compareUnsigned(uncommittedBlocks, autocommitBlocks) >= 0) {
            flush();
        } else {
            scheduleAutocommit();
        }
        return MapResult.SUBMIT;
    }

    private MapResult directWrite(Bio bio) {
        int f = findEntry(bio.sector, WFE_RETURN_FOLLOWING);
        mapRemapOrigin(bio, f);
        stats.writesAround += bio.size >> blockSizeBits;
        stats.writes += bio.size >> blockSizeBits;
        return MapResult.REMAP_ORIGIN;
    }

    private MapResult mapFlush(Bio bio) {
        if (hasError()) {
            return MapResult.ERROR;
        }
        if (pmem) {
            stats.flushes++;
            flush();
            if (hasError()) {
                return MapResult.ERROR;
            }
            if (cleaner || metadataOnly) {
                return MapResult.REMAP_ORIGIN;
            }
            return MapResult.SUBMIT;
        }
        if (bio.targetBioNr != 0) {
            return MapResult.REMAP_ORIGIN;
        }
        stats.flushes++;
        flushList.add(bio);
        return MapResult.RETURN;
    }

    private MapResult mapDiscard(Bio bio) {
        stats.discards += bio.size >> blockSizeBits;
        if (hasError()) {
            return MapResult.ERROR;
        }
        if (pmem) {
            discard(bio.sector, bio.sector + bio.sectors());
            return MapResult.REMAP_ORIGIN;
        }
        flushList.add(bio);
        return MapResult.RETURN;
    }

    /**
     * The ssd flush thread ({@code writecache_flush_thread}) for the bios {@code map} offloaded:
     * a discard is applied to the cache and then sent to the origin; a flush commits. Returns
     * false when the bio fails (EIO).
     */
    public boolean runFlushThread() throws IOException {
        synchronized (flushThread) { // the kernel has one flush thread: callers take turns being it
            return runFlushThreadOnce();
        }
    }

    private boolean runFlushThreadOnce() throws IOException {
        boolean ok = true;
        while (true) {
            Bio bio;
            wcLock();
            try {
                if (flushList.isEmpty()) {
                    return ok;
                }
                bio = flushList.remove(0);
                if (bio.op == Bio.Op.DISCARD) {
                    discard(bio.sector, bio.sector + bio.sectors());
                } else {
                    flush();
                }
            } finally {
                wcUnlock();
            }
            if (bio.op == Bio.Op.DISCARD) {
                origin.discard(bio.sector, bio.sectors());
            } else if (hasError()) {
                ok = false;
            }
        }
    }

    // =================================================================== writeback

    /** Port of {@code writecache_writeback()} (the writeback work). */
    private void writeback() {
        boolean pausePassed = pausePassedAtQueue;
        pausePassedAtQueue = false;
        if (pause != 0 && !pausePassed) {
            wcLock();
            try {
                if (!cleaner && writebackAll == 0 && !suspended) {
                    long idle = iotInFlight != 0 ? 0 : jiffies() - iotIdleTime;
                    if (idle < pause) {
                        // schedule_timeout_idle(min(remaining, HZ)), then look again
                        long wait = Math.min(pause - idle, Jiffies.HZ);
                        modTimer(pauseTimer, wait);
                        return;
                    }
                }
            } finally {
                wcUnlock();
            }
        }
        List<WritebackRun> wbl = new ArrayList<>();
        wcLock();
        try {
            if (queuedWhileAsleep) {
                // queued during the sleep: the work runs again after this run
                queuedWhileAsleep = false;
                queueWriteback();
            }
            restart:
            while (true) {
                if (hasError()) {
                    return;
                }
                if (writebackAll != 0 && waitForWriteback()) {
                    continue restart;
                }
                if (overwroteCommitted) {
                    waitForIos(Bio.Op.WRITE);
                }
                selectRuns(wbl);
                break;
            }
        } finally {
            wcUnlock();
        }
        submitRuns(wbl, 0);
    }

    /** The end of {@code writecache_writeback()}, after the runs went out. */
    private void finishWriteback() {
        if (writebackAll != 0) {
            wcLock();
            try {
                while (waitForWriteback()) {
                    // wait for every run to complete
                }
            } finally {
                wcUnlock();
            }
        }
    }

    private boolean waitForWriteback() {
        if (writebackSize != 0) {
            waitOnFreelist();
            return true;
        }
        return false;
    }

    /** The selection loop of {@code writecache_writeback()} (lock held). */
    private void selectRuns(List<WritebackRun> wbl) {
        Entries en = entries;
        long nWalked = 0;
        int e = NIL;
        int g = NIL;
        int skippedCount = 0;
        while (!en.listEmpty(LRU) && (writebackAll != 0 || freelistSize + writebackSize <= freelistLowWatermark
                || (maxAge != WritecacheConfig.MAX_AGE_UNSPECIFIED
                        && ageNow() - en.age[en.last(LRU)] >= maxAge - maxAge / MAX_AGE_DIV))) {
            nWalked++;
            if (nWalked > WRITEBACK_LATENCY && writebackAll == 0) {
                if (!suspended) {
                    queueWriteback();
                }
                break;
            }
            if (writebackAll != 0) {
                if (e == NIL) {
                    flush();
                    e = en.rbFirst();
                } else {
                    e = g;
                    if (e == NIL || en.writeInProgress(e)) {
                        break;  // the kernel would BUG_ON here; stop selecting instead
                    }
                }
            } else {
                e = en.last(LRU);
            }
            if (!isCommitted(e)) {
                flush();
                if (!en.inTree(e)) {
                    kernelBugAvoided();
                    continue;
                }
            }
            int f = en.rbPrev(e);
            if (f != NIL && readOriginalSector(f) == readOriginalSector(e)) {
                en.listMove(Entries.SKIPPED, e);
                skippedCount++;
                continue;
            }
            writebackSize++;
            en.listDel(e);
            en.setWriteInProgress(e, true);
            int[] run = new int[8];
            int runLen = 0;
            run[runLen++] = e;
            f = e;
            while (true) {
                int nx = en.rbNext(f);
                if (nx == NIL) {
                    break;      // g keeps its last value, as in the kernel
                }
                g = nx;
                if (readOriginalSector(g) == readOriginalSector(f)) {
                    f = g;
                    continue;
                }
                if (readOriginalSector(g) != readOriginalSector(f) + (blockSize >> 9)) {
                    break;
                }
                if (en.writeInProgress(g) || !isCommitted(g)) {
                    break;
                }
                if (!pmem && g != f + 1) {
                    break;
                }
                nWalked++;
                writebackSize++;
                en.listDel(g);
                en.setWriteInProgress(g, true);
                if (runLen == run.length) {
                    run = java.util.Arrays.copyOf(run, run.length * 2);
                }
                run[runLen++] = g;
                f = g;
                if (runLen == BIO_MAX_VECS) {
                    if (writebackAll != 0) {
                        int after = en.rbNext(f);
                        if (after != NIL) {
                            g = after;
                        }
                    }
                    break;
                }
            }
            for (int i = 0; i < runLen; i++) {
                en.wcListContiguous[run[i]] = (short) (i == 0 ? runLen : BIO_MAX_VECS);
            }
            wbl.add(new WritebackRun(run, runLen));
        }
        if (skippedCount != 0) {
            en.listSpliceTail(Entries.SKIPPED, LRU);
            if (wbl.isEmpty()) {
                waitForWriteback();
            }
        }
    }

    /**
     * Linux 6.1.192 oopses here ("list_del corruption ... kernel BUG at lib/list_debug.c:53" in
     * writecache_writeback; reproduced on the oracle, test-data/kernel-bugs/ssd-writeback-freed-entry):
     * the oldest block was uncommitted, and the commit that writeback forces freed it as the older
     * duplicate of a newer block (a multi-block ssd write allocates its later blocks without looking
     * them up, so it can duplicate an uncommitted block). The kernel then moves the freed entry to its
     * writeback list. dmwc does what a fixed kernel would: the freed entry is skipped and selection
     * goes on with the new oldest block; the event is logged and counted.
     */
    private void kernelBugAvoided() {
        kernelBugsAvoided++;
        logSink.accept(NOTE + "Linux 6.1 would BUG here (list_del corruption in writecache_writeback: the oldest "
                + "block was freed by the commit writeback forced); skipping the freed block");
    }

    /** The current commit sequence number ({@code wc->seq_count}); it grows by one per commit. */
    public long seqCount() {
        wcLock();
        try {
            return seqCount;
        } finally {
            wcUnlock();
        }
    }

    /**
     * Fault in every page of the origin and of the cache, through the mappings the engine uses
     * (for pmem, its own permanent mapping when it made one), contents unchanged: a benchmark then
     * measures the cache and the device model, not the first touches of sparse scratch files.
     * Not part of the kernel's target; no state changes.
     */
    public void touchAllPages() throws IOException {
        origin.touchAllPages();
        if (pmem) {
            mem.touchAllPages();
        } else {
            ssd.touchAllPages();
        }
    }

    /** DM core is about to map the rest of a split bio: see {@link Scheduler#beforeSplitRemainder}. */
    public void beforeSplitRemainder() {
        sched.beforeSplitRemainder(WQ);
    }

    /** How many times the port stepped around a state in which Linux 6.1 oopses (see {@link #kernelBugAvoided}). */
    public long kernelBugsAvoided() {
        return kernelBugsAvoided;
    }

    /**
     * {@code __writecache_writeback_pmem} / {@code _ssd}: one origin write per run. The kernel's
     * writeback worker submits the runs' bios one after the other (pmem; kcopyd's thread likewise
     * issues its jobs in order), so they reach the origin's queue in list order; here each run is
     * copied on an I/O thread, and the runs take their turns at the origin ({@link #originTurn}).
     */
    private void submitRuns(List<WritebackRun> wbl, int from) {
        long inBatch = 0;
        for (int i = from; i < wbl.size(); i++) {
            inBatch += wbl.get(i).count;
        }
        for (int i = from; i < wbl.size(); i++) {
            WritebackRun run = wbl.get(i);
            inBatch -= run.count;
            // the bio (pmem) or kcopyd job (ssd) goes out; its completion queues the endio work.
            // Tickets are taken in the order the I/O pool starts the tasks, so none waits for a
            // ticket whose task is behind it in the pool's queue.
            synchronized (originTurn) {
                run.ticket = originTurn.take();
                sched.submitIo(() -> {
                    try {
                        if (!hasError()) {
                            writeRun(run);
                        } else {
                            run.failed = true;
                        }
                    } catch (IOException | RuntimeException ex) {
                        run.failed = true;
                    } finally {
                        takeTurn(run);
                    }
                    // writecache_writeback_endio / writecache_copy_endio: onto the endio list under
                    // its own spinlock (endio_list_lock), not wc_lock, then wake the endio thread
                    synchronized (endioList) {
                        endioList.add(run);
                    }
                    endioWork.queue();
                });
            }
            if (!throttle(wbl, i + 1, inBatch)) {
                return;     // the worker sleeps in the throttle; the rest of the batch goes out later
            }
        }
        finishWriteback();
    }

    /**
     * {@code __writeback_throttle}: a lockless look first (READ_ONCE), wc_lock only when over the
     * limit, then wait until fewer than {@code writeback_jobs} blocks outside this batch's rest
     * ({@code inBatch}) are in flight. Where the worker's sleep must let the submitter go on
     * ({@link Scheduler#mayBlock}: between the parts of a split bio), the rest of the batch, from
     * run {@code next}, is left to {@link Scheduler#deferBlocked} instead, and false is returned.
     */
    private boolean throttle(List<WritebackRun> wbl, int next, long inBatch) {
        if (maxWritebackJobs == 0 || (long) WRITEBACK_SIZE.getOpaque(this) - inBatch < maxWritebackJobs) {
            return true;
        }
        wcLock();
        try {
            if (writebackSize - inBatch >= maxWritebackJobs && !sched.mayBlock()) {
                sched.deferBlocked(WQ, "writeback_work (throttled)", () -> {
                    if (throttle(wbl, next, inBatch)) {
                        submitRuns(wbl, next);
                    }
                });
                return false;
            }
            while (writebackSize - inBatch >= maxWritebackJobs) {
                waitOnFreelist();
            }
        } finally {
            wcUnlock();
        }
        return true;
    }

    /** {@code READ_ONCE(wc->writeback_size)} outside wc_lock ({@link #throttle}). */
    private static final java.lang.invoke.VarHandle WRITEBACK_SIZE;

    static {
        try {
            WRITEBACK_SIZE = java.lang.invoke.MethodHandles.lookup().findVarHandle(Writecache.class, "writebackSize", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Dataless mode (replay {@code --no-data}): bios carry no payload and writeback moves no data;
     * every decision, counter and metadata write is as usual.
     */
    public void setDataless(boolean dataless) {
        this.dataless = dataless;
    }

    /** Blocks and origin writes (runs) written back since the table load. */
    public long writebackBlocks() {
        synchronized (wbCounters) {
            return writebackBlocksTotal;
        }
    }

    public long writebackRuns() {
        synchronized (wbCounters) {
            return writebackRunsTotal;
        }
    }

    private void writeRun(WritebackRun run) throws IOException {
        synchronized (wbCounters) {
            writebackRunsTotal++;
            writebackBlocksTotal += run.count;
        }
        if (dataless) {
            return;
        }
        int first = run.entries[0];
        long sector = readOriginalSector(first);
        long sectorsPerBlock = blockSize >> 9;
        // blocks at or after the end of the origin are dropped from the write
        long n = run.count;
        if (sector >= dataDeviceSectors) {
            return;
        }
        if (sector + n * sectorsPerBlock > dataDeviceSectors) {
            n = (dataDeviceSectors - sector + sectorsPerBlock - 1) / sectorsPerBlock;
        }
        long bytes = Math.min(n * blockSize, (dataDeviceSectors - sector) << 9);
        ByteBuffer buf = ByteBuffer.allocate((int) bytes);
        if (pmem) {
            for (int i = 0; i < n; i++) {
                ByteBuffer part = buf.duplicate();
                part.position(i * blockSize).limit((int) Math.min(bytes, (long) (i + 1) * blockSize));
                mem.readData(memoryData(run.entries[i]), part, part.remaining());
            }
            originTurn.await(run.ticket, !ordered);
            origin.write(sector, buf, cfg.writebackFua, () -> takeTurn(run));
        } else {
            ssd.read(cacheSector(first), buf);
            buf.flip();
            originTurn.await(run.ticket, !ordered);
            origin.write(sector, buf, false, () -> takeTurn(run));
        }
    }

    /**
     * The run's write is in the origin's queue (or it has none): the next run may go. Once per run;
     * nothing when turns are not kept.
     */
    private void takeTurn(WritebackRun run) {
        if (ordered && !run.turnTaken) {
            run.turnTaken = true;
            originTurn.await(run.ticket, false);
            originTurn.pass(run.ticket);
        }
    }

    /** The endio thread ({@code writecache_endio_thread}). */
    private void endioThread() {
        List<WritebackRun> list;
        synchronized (endioList) {
            if (endioList.isEmpty()) {
                return;
            }
            list = new ArrayList<>(endioList);
            endioList.clear();
        }
        if (!(pmem && cfg.writebackFua)) {
            diskFlush(origin);
        }
        wcLock();
        try {
            long nWalked = 0;
            for (WritebackRun run : list) {
                if (run.failed) {
                    // the kernel prints the blk_status_t of the bio: BLK_STS_IOERR is 10
                    error(5, pmem ? "write error 10" : "copy error");
                }
                for (int i = 0; i < run.count; i++) {
                    int e = run.entries[i];
                    entries.setWriteInProgress(e, false);
                    entries.initListNode(e);
                    if (!hasError()) {
                        freeEntry(e);
                    }
                    writebackSize--;
                    if (pmem && ++nWalked >= ENDIO_LATENCY) {
                        // every 16 entries: commit, and let waiting writers have the lock
                        commitFlushed(false);
                        wcUnlock();
                        wcLock();
                        nWalked = 0;
                    }
                }
            }
            if (!pmem) {
                waitForIos(Bio.Op.READ);
            }
            commitFlushed(false);
        } finally {
            wcUnlock();
        }
    }

    // =================================================================== messages

    /** Port of {@code writecache_message()}. */
    public void message(String[] argv) throws DmError {
        String m = argv[0];
        if (m.equalsIgnoreCase("flush")) {
            processFlushMesg(argv.length);
        } else if (m.equalsIgnoreCase("flush_on_suspend")) {
            requireOneArg(argv.length);
            wcLock();
            try {
                flushOnSuspend = true;
            } finally {
                wcUnlock();
            }
        } else if (m.equalsIgnoreCase("cleaner")) {
            requireOneArg(argv.length);
            wcLock();
            try {
                activateCleaner();
                if (!suspended) {
                    verifyWatermark();
                }
            } finally {
                wcUnlock();
            }
        } else if (m.equalsIgnoreCase("clear_stats")) {
            requireOneArg(argv.length);
            wcLock();
            try {
                stats.clear();
            } finally {
                wcUnlock();
            }
        } else {
            String text = "unrecognised message received: " + m;
            logSink.accept(text);
            throw new DmError("EINVAL", text);
        }
    }

    private static void requireOneArg(int argc) throws DmError {
        if (argc != 1) {
            throw new DmError("EINVAL", null);
        }
    }

    private void processFlushMesg(int argc) throws DmError {
        requireOneArg(argc);
        wcLock();
        try {
            if (suspended) {
                throw new DmError("EBUSY", null);
            }
            if (hasError()) {
                throw new DmError("EIO", null);
            }
            flush();
            writebackAll++;
            queueWriteback();
        } finally {
            wcUnlock();
        }
        flushWorkqueue();
        wcLock();
        try {
            writebackAll--;
            if (hasError()) {
                throw new DmError("EIO", null);
            }
        } finally {
            wcUnlock();
        }
    }

    /**
     * {@code flush_workqueue} (and {@code drain_workqueue}) of the writeback workqueue: a work
     * asleep in the pause loop sleeps its timeout out first (nothing cuts
     * {@code schedule_timeout_idle} short), then runs, and the call returns when the queue is
     * empty (test-data/kernel/ssd-cleaner-while-paused, ssd-suspend-ends-pause).
     */
    private void flushWorkqueue() {
        sched.awaitTimer(pauseTimer);
        sched.flushQueue(WQ);
    }

    private void activateCleaner() {
        flushOnSuspend = true;
        cleaner = true;
        freelistHighWatermark = nBlocks;
        freelistLowWatermark = nBlocks;
    }

    // =================================================================== suspend / resume

    /**
     * Port of {@code writecache_suspend()} (postsuspend). DM core has set {@code DMF_SUSPENDED}
     * before it calls this, so {@code dm_suspended()} is already true inside: a writeback work
     * that sleeps out {@code pause_writeback} wakes (within a second) to find it so, stops
     * waiting and writes back what the watermarks ask, and {@code drain_workqueue} waits for that
     * (on the oracle: both {@code remove} and {@code suspend} write back what a pause held;
     * test-data/kernel/ssd-suspend-ends-pause). dmwc's waiting work is a timer, so the drain
     * waits for that timer to fire: the work writes back at the end of its sleep, with the ages
     * {@code max_age} sees then (test-data/kernel/ssd-suspend-max-age: a write, a flush, 100 ms,
     * a suspend; with {@code max_age 1000} the kernel writes the block back, a second old by the
     * end of the sleep; queued at once, dmwc found it 100 ms old and kept it).
     */
    public void suspend() {
        autocommitTimer.del();
        maxAgeTimer.del();
        boolean fos;
        wcLock();
        try {
            suspended = true;
            flush();
            fos = flushOnSuspend;
            if (fos) {
                flushOnSuspend = false;
                writebackAll++;
                queueWriteback();
            }
        } finally {
            wcUnlock();
        }
        flushWorkqueue(); // drain_workqueue; the work then finds dm_suspended() and writes back
        wcLock();
        try {
            if (fos) {
                writebackAll--;
            }
            while (waitForWriteback()) {
                // wait
            }
            if (pmem) {
                ((PmemMemoryMap) mem).flushCache(memoryMapSize);
            }
        } finally {
            wcUnlock();
        }
    }

    /** Port of {@code writecache_resume()}: recovery from what is on the cache device. */
    public void resume() {
        wcLock();
        try {
            suspended = false;
            dataDeviceSectors = origin.sizeSectors();
            if (!pmem) {
                SsdMemoryMap sm = (SsdMemoryMap) mem;
                try {
                    sm.read(ssd, startSector, metadataSectors);
                } catch (IOException e) {
                    error(5, "unable to read metadata: -5");
                    sm.fillOnes(SuperblockLayout.LENGTH);
                }
            }
            Entries en = entries;
            en.reset();
            freelistSize = 0;
            seqCount = mem.getLong(SuperblockLayout.SEQ_COUNT_OFFSET);
            for (int b = 0; b < nBlocks; b++) {
                if (hasError()) {
                    en.originalSector[b] = -1;
                    en.seqCount[b] = -1;
                    continue;
                }
                en.originalSector[b] = mem.getLong(entryOffset(b) + EntryLayout.ORIGINAL_SECTOR_OFFSET);
                en.seqCount[b] = mem.getLong(entryOffset(b) + EntryLayout.SEQ_COUNT_OFFSET);
            }
            boolean needFlush = false;
            for (int b = 0; b < nBlocks; b++) {
                en.setWriteInProgress(b, false);
                if (!isCommitted(b)) {
                    if (readSeqCount(b) != -1) {
                        clearSeqCount(b);
                        needFlush = true;
                    }
                    addToFreelist(b);
                } else {
                    int old = findEntry(readOriginalSector(b), 0);
                    if (old == NIL) {
                        insertEntry(b);
                    } else {
                        if (readSeqCount(old) == readSeqCount(b)) {
                            error(22, String.format("two identical entries, position %d, sector %s, sequence %s", b,
                                    Long.toUnsignedString(readOriginalSector(b)),
                                    Long.toUnsignedString(readSeqCount(b))));
                        }
                        if (Long.compareUnsigned(readSeqCount(old), readSeqCount(b)) > 0) {
                            clearSeqCount(b);
                            needFlush = true;
                            addToFreelist(b);
                        } else {
                            freeEntry(old);
                            insertEntry(b);
                            needFlush = true;
                        }
                    }
                }
            }
            if (needFlush) {
                mem.flushAllMetadata();
                commitFlushed(false);
            }
            verifyWatermark();
            if (maxAge != WritecacheConfig.MAX_AGE_UNSPECIFIED) {
                modTimer(maxAgeTimer, maxAge / MAX_AGE_DIV);
            }
        } finally {
            wcUnlock();
        }
    }

    // =================================================================== status

    /** The 14 fields of {@code STATUSTYPE_INFO}. */
    /** Names of the 14 status fields, in order (snake case of writecache.rst's list). */
    public static final String[] STATUS_FIELDS = {"error", "blocks", "free_blocks", "blocks_under_writeback", "reads",
        "read_hits", "writes", "write_hits_uncommitted", "write_hits_committed", "writes_around", "writes_allocate",
        "writes_blocked_on_freelist", "flushes", "discards"};

    /** {@code dmsetup status}'s 14 fields as numbers (unsigned). */
    public long[] statusFields() {
        wcLock();
        try {
            return new long[] {hasError() ? 1 : 0, nBlocks, freelistSize, writebackSize, stats.reads, stats.readHits,
                stats.writes, stats.writeHitsUncommitted, stats.writeHitsCommitted, stats.writesAround,
                stats.writesAllocate, stats.writesBlockedOnFreelist, stats.flushes, stats.discards};
        } finally {
            wcUnlock();
        }
    }

    public String status() {
        StringBuilder sb = new StringBuilder();
        for (long f : statusFields()) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(Long.toUnsignedString(f));
        }
        return sb.toString();
    }

    public WritecacheConfig config() { return cfg; }
    public long nBlocks() { return nBlocks; }
    public long freelistHighWatermark() { return freelistHighWatermark; }
    public boolean cleaner() { return cleaner; }
    public boolean isSuspended() { return suspended; }
    public BlockDevice origin() { return origin; }
    public BlockDevice ssd() { return ssd; }
    public int blockSize() { return blockSize; }

    /** {@code writecache_dtr}: stop the contexts, release the mapping. Nothing is committed. */
    @Override
    public void close() {
        sched.shutdown();
        mem.close();
    }
}
