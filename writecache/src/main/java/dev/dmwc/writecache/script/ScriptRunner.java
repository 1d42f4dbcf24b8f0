package dev.dmwc.writecache.script;

import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.FaultMode;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.BlockDevice;
import dev.dmwc.writecache.block.FileBlockDevice;
import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.engine.VirtualScheduler;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs a {@link WcScript} the way {@code guest/wcs.sh} runs it on the kernel, against the
 * emulated target, in virtual time: writes {@code transcript.txt}, {@code origin.img} and
 * {@code cache.img} (pmem: the /dev/pmem0 region, NVDIMM size − 2 MiB) into the output folder.
 */
public final class ScriptRunner {
    private static final long FSDAX_INFO = 2 << 20;

    private final WcScript script;
    private final Path outDir;
    private final ProtectionKeys.Backend backend;
    private final FaultMode faultMode;
    private final List<String> transcript = new ArrayList<>();
    private final List<String> kernelLog = new ArrayList<>();
    private VirtualScheduler sched = new VirtualScheduler();
    private final Consumer<String> log = kernelLog::add;

    private Path originPath;
    private Path cachePath;
    private BlockDevice origin;
    private BlockDevice ssd;
    private DaxDevice dax;
    private long strayAccesses;
    private DaxDevice.Protection protection;
    private WritecacheTarget target;
    private List<String> tableOp;
    private List<String> activeOp;
    private boolean cleanerMessage;
    private Path initialOrigin;
    private Path initialCache;
    /** Virtual time each op takes ({@link #withTiming}). */
    private OpTiming timing = OpTiming.oracle();
    /** Whether this boot has run {@code wcio} yet (the first run of it is slower). */
    private boolean wcioStarted;

    public ScriptRunner(WcScript script, Path outDir, ProtectionKeys.Backend backend, FaultMode faultMode) {
        this.script = script;
        this.outDir = outDir;
        this.backend = backend;
        this.faultMode = faultMode;
    }

    /**
     * Start from copies of these images instead of fresh zero devices (runscript.sh {@code --images}):
     * raw or {@code .gz}; each must be exactly the size the script declares for its device (pmem:
     * the /dev/pmem0 part, SIZE - 2 MiB).
     */
    public ScriptRunner withImages(Path origin, Path cache) {
        this.initialOrigin = origin;
        this.initialCache = cache;
        return this;
    }

    /**
     * Run on {@code scheduler} instead of one taking the order the kernel was traced taking
     * ({@link VirtualScheduler#shuffled}: does this script's result depend on timing?). Before {@link #run}.
     */
    public ScriptRunner withScheduler(VirtualScheduler scheduler) {
        this.sched = scheduler;
        return this;
    }

    private static void copyImage(Path from, Path to, long expected, String what) throws IOException {
        try (java.io.InputStream raw = Files.newInputStream(from);
                java.io.InputStream in = from.toString().endsWith(".gz") ? new java.util.zip.GZIPInputStream(raw, 1 << 16) : raw) {
            Files.copy(in, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        long size = Files.size(to);
        if (size != expected) {
            Files.delete(to);
            throw new IOException(what + " image " + from + " has " + size + " bytes; the script declares " + expected);
        }
    }

    /** The device-mapper messages printed while running (the kernel log). */
    public List<String> kernelLog() {
        return kernelLog;
    }

    /** pmem mode, after {@link #run()}: the dax range's protection and the stray accesses over every open of it; else null. */
    public DaxDevice.Protection protection() {
        return protection;
    }

    public List<String> transcript() {
        return transcript;
    }

    /**
     * Let ops take virtual time as {@code timing} says (default {@link OpTiming#oracle()}: as
     * long as each takes on the kernel oracle). Before {@link #run}.
     */
    public ScriptRunner withTiming(OpTiming timing) {
        this.timing = timing;
        return this;
    }

    /** Run the whole script; write the outputs. */
    public void run() throws IOException {
        Files.createDirectories(outDir);
        originPath = outDir.resolve("origin.img");
        cachePath = outDir.resolve("cache.img");
        if (initialOrigin != null) {
            for (Path img : List.of(initialOrigin, initialCache)) {
                Path a = img.toAbsolutePath().normalize();
                if (a.equals(originPath.toAbsolutePath().normalize()) || a.equals(cachePath.toAbsolutePath().normalize())) {
                    throw new IOException("image " + img + " is one of the outputs in " + outDir + "; copy it elsewhere first");
                }
            }
        }
        Files.deleteIfExists(originPath);
        Files.deleteIfExists(cachePath);
        long cacheBytes = script.cacheBytes >= 0 ? script.cacheBytes : script.pmemBytes - FSDAX_INFO;
        if (initialOrigin != null) {
            copyImage(initialOrigin, originPath, script.originBytes, "origin");
            copyImage(initialCache, cachePath, cacheBytes, "cache");
            origin = FileBlockDevice.open(originPath, false);
        } else {
            origin = FileBlockDevice.create(originPath, script.originBytes, false);
            try (RandomAccessFile f = new RandomAccessFile(cachePath.toFile(), "rw")) {
                f.setLength(cacheBytes);
            }
        }
        try {
            openCache();
            for (String l : script.lines.subList(0, 2)) {
                transcript.add("> " + l);
            }
            for (List<String> op : script.ops) {
                transcript.add("> " + String.join(" ", op));
                passTime(timing.before(op, !wcioStarted));
                wcioStarted |= OpTiming.startsWcio(op);
                execute(op);
                passTime(timing.after(op));
            }
            powerOff();
        } finally {
            closeDevices();
            Files.write(outDir.resolve("transcript.txt"), transcript);
        }
    }

    private void openCache() throws IOException {
        if (script.cacheBytes >= 0) {
            ssd = FileBlockDevice.open(cachePath, false);
        } else {
            dax = DaxDevice.open(cachePath, new DaxDevice.Options().backend(backend).faultMode(faultMode));
        }
    }

    private void closeDevices() throws IOException {
        if (target != null) {
            target.close();
            target = null;
        }
        if (dax != null) {
            DaxDevice.Protection p = dax.protection();
            strayAccesses += p.strayAccesses();
            protection = new DaxDevice.Protection(p.backend(), p.faultMode(), p.mapProtected(), strayAccesses, p.mapSync());
            dax.close();
            dax = null;
        }
        if (ssd != null) {
            ssd.close();
            ssd = null;
        }
        if (origin != null) {
            origin.close();
            origin = null;
        }
    }

    private void out(String s) {
        transcript.add(s);
    }

    /** Let {@code ms} of virtual time pass: timers fall due and queued work runs. */
    private void passTime(long ms) {
        if (ms > 0) {
            sched.advance(ms);
        }
    }

    /** The machine powers off with the target active: all in-memory state is gone. */
    private void powerOff() {
        if (target != null) {
            target.close();
            target = null;
        }
        sched.shutdown();
    }

    private void execute(List<String> a) throws IOException {
        String op = a.get(0);
        switch (op) {
            case "table":
                tableOp = a;
                break;
            case "create":
                doCreate();
                break;
            case "remove":
                if (target == null) {
                    out("error ENXIO");
                } else {
                    target.remove();
                    target = null;
                }
                break;
            case "reload":
                if (target == null) {
                    out("error ENXIO");
                } else {
                    target.remove();
                    target = null;
                    passTime(timing.reloadGap());
                    doCreate();
                }
                break;
            case "suspend":
                if (target == null) {
                    out("error ENXIO");
                } else {
                    target.suspend();
                }
                break;
            case "resume":
                if (target == null) {
                    out("error ENXIO");
                } else {
                    target.resume();
                }
                break;
            case "write":
            case "read":
            case "flush":
            case "discard":
                targetIo(a);
                break;
            case "message":
                doMessage(a);
                break;
            case "status":
                if (target == null) {
                    out("error ENXIO");
                } else {
                    out("status " + target.status());
                }
                break;
            case "settle":
                doSettle();
                break;
            case "sleep":
                sched.advance(Long.parseLong(a.get(1)));
                break;
            case "crash":
                powerOff();
                wcioStarted = false; // the next segment is a new boot
                break;
            case "dump":
                doDump(a);
                break;
            default:
                out("error EBADOP");
        }
        sched.runPending();
    }

    private void doCreate() {
        if (tableOp == null) {
            out("error ENOTABLE");
            return;
        }
        if (target != null) {
            out("error EBUSY");
            return;
        }
        List<String> argv = new ArrayList<>();
        argv.add(tableOp.get(1));
        argv.add("origin");
        argv.add("cache");
        argv.addAll(tableOp.subList(2, tableOp.size()));
        Map<String, Object> devices = new HashMap<>();
        devices.put("origin", origin);
        devices.put("cache", ssd != null ? ssd : dax);
        try {
            target = WritecacheTarget.create(argv, devices, sched, null, log);
            activeOp = tableOp;
            cleanerMessage = false;
        } catch (DmError e) {
            out("error " + e.errno() + (e.text() != null ? ": " + e.text() : ""));
        }
    }

    private void doMessage(List<String> a) {
        if (target == null) {
            out("error ENXIO");
            return;
        }
        String[] argv = a.subList(1, a.size()).toArray(new String[0]);
        try {
            target.message(argv);
            if (argv[0].equalsIgnoreCase("cleaner") && argv.length == 1) {
                cleanerMessage = true;
            }
        } catch (DmError e) {
            out("error " + e.errno() + (e.text() != null ? ": " + e.text() : ""));
        }
    }

    private void targetIo(List<String> a) {
        if (target == null) {
            out("error ENOENT");
            return;
        }
        if (target.suspended()) {
            out("error SUSPENDED");
            return;
        }
        String op = a.get(0);
        String err;
        switch (op) {
            case "flush":
                err = target.flush();
                break;
            case "write": {
                // the block device file cuts a request at its end (blkdev_write_iter): a write
                // from the end on is ENOSPC, one across it writes what fits and returns short
                long sector = Long.parseLong(a.get(1));
                long n = Long.parseLong(a.get(2));
                long end = target.lengthSectors();
                if (sector >= end) {
                    err = "ENOSPC";
                    break;
                }
                long m = Math.min(n, end - sector);
                ByteBuffer buf = ByteBuffer.allocateDirect((int) (m * 512));
                Pattern.fill(buf, sector, m, a.get(3));
                int flags = a.size() == 5 ? Bio.REQ_FUA : 0;
                err = target.submit(Bio.Op.WRITE, flags, sector, (int) (m * 512), buf);
                if (err == null && m < n) {
                    err = "short-write " + m * 512;
                }
                break;
            }
            case "read": {
                // blkdev_read_iter: nothing from the end on, what fits across it; wcio reads
                // again after a short count and reports how much it got
                long sector = Long.parseLong(a.get(1));
                long n = Long.parseLong(a.get(2));
                long end = target.lengthSectors();
                long m = sector >= end ? 0 : Math.min(n, end - sector);
                ByteBuffer buf = ByteBuffer.allocateDirect((int) (m * 512));
                err = m == 0 ? null : target.submit(Bio.Op.READ, 0, sector, (int) (m * 512), buf);
                if (err == null && m < n) {
                    err = "short-read " + m * 512;
                } else if (err == null) {
                    byte[] b = new byte[(int) (n * 512)];
                    buf.get(0, b);
                    out("read " + sector + " " + n + ":" + Pattern.decode(b, sector, n));
                }
                break;
            }
            case "discard": {
                long sector = Long.parseLong(a.get(1));
                long n = Long.parseLong(a.get(2));
                err = target.submit(Bio.Op.DISCARD, 0, sector, (int) (n * 512), null);
                break;
            }
            default:
                throw new IllegalStateException(op);
        }
        if (err != null) {
            out("error " + err);
        }
    }

    private void doDump(List<String> a) throws IOException {
        boolean isOrigin = a.get(1).equals("origin");
        long sector = Long.parseLong(a.get(2));
        long n = Long.parseLong(a.get(3));
        Path p = isOrigin ? originPath : cachePath;
        byte[] b = new byte[(int) (n * 512)];
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "r")) {
            // wcio's pread loop on the raw device: what fits before the end, then a read of 0
            // bytes, reported as a short read of what it got (on the oracle: a dump from the
            // cache device's end, mutant 558 of session 28)
            long fits = Math.max(0, Math.min(n * 512, f.length() - sector * 512));
            if (fits < n * 512) {
                out("error short-read " + fits);
                return;
            }
            f.seek(sector * 512);
            f.readFully(b);
        }
        out("dump " + a.get(1) + " " + sector + " " + n + ":" + Pattern.decode(b, sector, n));
    }

    /** {@code settle}: poll every 100 ms (virtual) until writeback is over, as the runner does. */
    private void doSettle() {
        if (target == null) {
            out("error ENXIO");
            return;
        }
        if (target.suspended()) {
            return;
        }
        int[] wm = tableWatermark();
        String prev = null;
        passTime(timing.settleFirstPoll());
        for (int i = 0; i < 1200; i++) {
            sched.runPending();
            if (target == null) {
                out("error ENXIO");
                return;
            }
            String st = target.status();
            long[] f = Arrays.stream(st.split(" ")).mapToLong(Long::parseUnsignedLong).toArray();
            if (f[0] != 0) {
                return;
            }
            long n = f[1];
            long free = f[2];
            long wb = f[3];
            long ht = (wm[1] == 1 || cleanerMessage) ? n : (n * (100 - wm[0]) + 50) / 100;
            if (wb == 0 && (free > ht || free == n) && st.equals(prev)) {
                return;
            }
            prev = st;
            passTime(timing.settlePoll());
        }
        out("error ETIMEDOUT");
    }

    /** high watermark percent and whether the active table has {@code cleaner} (table_wm). */
    private int[] tableWatermark() {
        int hwm = 50;
        int cleaner = 0;
        List<String> t = activeOp;
        int nf;
        try {
            nf = Integer.parseInt(t.get(3));
        } catch (NumberFormatException e) {
            return new int[] {hwm, cleaner};
        }
        int i = 4;
        while (i < t.size() && nf > 0) {
            String o = t.get(i).toLowerCase(java.util.Locale.ROOT);
            switch (o) {
                case "high_watermark":
                    hwm = Integer.parseInt(t.get(i + 1));
                    i++;
                    nf--;
                    break;
                case "low_watermark": case "start_sector": case "writeback_jobs": case "autocommit_blocks":
                case "autocommit_time": case "max_age": case "pause_writeback":
                    i++;
                    nf--;
                    break;
                case "cleaner":
                    cleaner = 1;
                    break;
                default:
                    break;
            }
            i++;
            nf--;
        }
        return new int[] {hwm, cleaner};
    }
}
