package dev.dmwc.writecache.crash;

import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.CrashableBlockDevice;
import dev.dmwc.writecache.block.ScratchFiles;
import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.engine.VirtualScheduler;
import dev.dmwc.writecache.format.CacheImage;
import dev.dmwc.writecache.target.WritecacheTarget;
import dev.dmwc.writecache.trace.TraceFormatException;
import dev.dmwc.writecache.trace.TraceReader;
import dev.dmwc.writecache.trace.TraceRecord;
import dev.dmwc.writecache.trace.Traces;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Hostile input, generated: corrupted cache images (bit flips, truncation, random superblock
 * fields and entries) through {@code dmwc check}'s reader and a table load; random table lines;
 * mangled trace files. Each case must end in a clear refusal (DmError, IOException,
 * TraceFormatException with a message) or a correct load — never another exception — and a
 * refused load must leave both devices unchanged. Every crash names the seed that reproduces it.
 */
public final class Fuzzer {
    /** Counts and the first failures. */
    public static final class Result {
        public long cases;
        public long refused;
        public long loaded;
        public long failures;
        public final List<String> examples = new ArrayList<>();

        public void fail(String what) {
            failures++;
            if (examples.size() < 20) {
                examples.add(what);
            }
        }
    }

    private static final String TRACE_CHARS = "0123456789-+ ,.\n\tRWDFNQ#";
    private final Path workDir;

    public Fuzzer(Path workDir) {
        this.workDir = workDir;
    }

    /** A valid cache with committed, uncommitted and free entries, made by the engine itself. */
    private static byte[][] baseImages(String mode, Path pmemFile) throws IOException, DmError {
        CrashableBlockDevice origin = new CrashableBlockDevice("origin", 1 << 20);
        Object cache;
        DaxDevice dax = null;
        CrashableBlockDevice ssd = null;
        if (mode.equals("p")) {
            try (RandomAccessFile f = new RandomAccessFile(pmemFile.toFile(), "rw")) {
                f.setLength(256 << 10);
            }
            dax = DaxDevice.open(pmemFile, new DaxDevice.Options().backend(ProtectionKeys.Backend.NONE));
            cache = dax;
        } else {
            ssd = new CrashableBlockDevice("cache", 128 << 10);
            cache = ssd;
        }
        try {
            WritecacheTarget t = WritecacheTarget.create(List.of(mode, "o", "c", "4096", "2", "autocommit_time", "3600000"),
                    Map.of("o", origin, "c", cache), new VirtualScheduler(), null, m -> { });
            ByteBuffer b = ByteBuffer.allocate(8 * 4096);
            t.submit(Bio.Op.WRITE, 0, 0, 8 * 4096, b.duplicate());
            t.flush();
            t.submit(Bio.Op.WRITE, 0, 16, 4 * 4096, b.duplicate().limit(4 * 4096));
            t.submit(Bio.Op.DISCARD, 0, 8, 4096, null);
            t.flush();
            t.submit(Bio.Op.WRITE, 0, 200, 2 * 4096, b.duplicate().limit(2 * 4096));
            t.close();
            byte[] c;
            if (dax != null) {
                c = new byte[(int) dax.size()];
                dax.accessor().read(0, c, 0, c.length);
            } else {
                c = ssd.snapshot();
            }
            return new byte[][] {origin.snapshot(), c};
        } finally {
            if (dax != null) {
                dax.close();
            }
        }
    }

    /** Set by a Ctrl-C: every target ends after the case in progress, with what it has done. */
    public volatile boolean stopRequested;

    /** Told the number of cases begun so far, as each begins (a progress bar). */
    public java.util.function.LongConsumer progress = n -> { };

    /** Corrupted cache images through the image reader and a table load. */
    public Result images(String mode, long seed, int cases) throws IOException {
        Result res = new Result();
        Path pmemFile = ScratchFiles.createFile(workDir, "fuzz", ".img");
        try {
            byte[][] base;
            try {
                base = baseImages(mode, pmemFile);
            } catch (DmError e) {
                throw new IOException("base image: " + e.getMessage(), e);
            }
            for (int i = 0; i < cases && !stopRequested; i++) {
                long s = seed + i;
                byte[] img = mutateImage(base[1], new SplittableRandom(s));
                res.cases++;
                progress.accept(res.cases);
                String where = "mode " + mode + " image seed " + s;
                try {
                    oneImage(mode, base[0], img, pmemFile, res, where);
                } catch (RuntimeException | Error e) {
                    res.fail(where + ": " + e);
                }
            }
        } finally {
            ScratchFiles.delete(pmemFile);
        }
        return res;
    }

    static byte[] mutateImage(byte[] base, SplittableRandom r) {
        byte[] img = base.clone();
        ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
        int meta = Math.min(img.length, 8192);
        switch (r.nextInt(6)) {
            case 0 -> {                          // bit flips in the metadata
                for (int k = 1 + r.nextInt(8); k > 0; k--) {
                    int at = r.nextInt(meta);
                    img[at] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 1 -> {                          // a random superblock field
                int[] fields = {0, 4, 8, 16, 24};
                int f = fields[r.nextInt(fields.length)];
                if (f < 8) {
                    b.putInt(f, r.nextInt());
                } else {
                    b.putLong(f, r.nextLong() >>> r.nextInt(64));
                }
            }
            case 2 -> {                          // random entries
                for (int k = 1 + r.nextInt(6); k > 0; k--) {
                    int e = 64 + 16 * r.nextInt((meta - 64) / 16);
                    b.putLong(e, r.nextBoolean() ? r.nextLong() : r.nextInt(4096) * 8L);
                    b.putLong(e + 8, r.nextBoolean() ? r.nextLong() : r.nextInt(4));
                }
            }
            case 3 -> {                          // twins: copy one entry over another
                int a = 64 + 16 * r.nextInt(16);
                int c = 64 + 16 * r.nextInt(16);
                System.arraycopy(img, a, img, c, 16);
            }
            case 4 -> {                          // garbage over the first sectors
                byte[] g = new byte[512 * (1 + r.nextInt(4))];
                r.nextBytes(g);
                System.arraycopy(g, 0, img, 0, Math.min(g.length, img.length));
            }
            default -> {                         // truncated: the tail zeroed (the device size stays)
                int cut = r.nextInt(meta);
                Arrays.fill(img, cut, img.length, (byte) 0);
            }
        }
        return img;
    }

    private static void oneImage(String mode, byte[] origin, byte[] img, Path pmemFile, Result res, String where)
            throws IOException {
        // the reader behind dmwc check: problems listed, no exception
        Path f = pmemFile.resolveSibling(pmemFile.getFileName() + ".check");
        ScratchFiles.write(f, img);
        try (CacheImage ci = CacheImage.open(f, 0)) {
            List<String> p = ci.loadProblems();
            if (p.isEmpty()) {
                ci.entryProblems(ci.entries(), origin.length / 512);
            }
        } catch (IOException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                res.fail(where + ": check: IOException without a message");
            }
        } finally {
            ScratchFiles.delete(f);
        }
        // a table load on it
        CrashableBlockDevice o = new CrashableBlockDevice("origin", origin);
        Object cache;
        DaxDevice dax = null;
        CrashableBlockDevice ssd = null;
        if (mode.equals("p")) {
            ScratchFiles.write(pmemFile, img);
            dax = DaxDevice.open(pmemFile, new DaxDevice.Options().backend(ProtectionKeys.Backend.NONE));
            cache = dax;
        } else {
            ssd = new CrashableBlockDevice("cache", img);
            cache = ssd;
        }
        try {
            WritecacheTarget t;
            try {
                t = WritecacheTarget.create(List.of(mode, "o", "c", "4096", "2", "autocommit_time", "3600000"),
                        Map.of("o", o, "c", cache), new VirtualScheduler(), null, m -> { });
            } catch (DmError e) {
                res.refused++;
                if (e.text() == null && e.errno() == null) {
                    res.fail(where + ": refused without an errno");
                }
                byte[] now = dax != null ? read(dax) : ssd.snapshot();
                if (!Arrays.equals(now, img)) {
                    res.fail(where + ": a refused load changed the cache device (" + e.getMessage() + ")");
                }
                if (!Arrays.equals(o.snapshot(), origin)) {
                    res.fail(where + ": a refused load changed the origin");
                }
                return;
            }
            res.loaded++;
            ByteBuffer all = ByteBuffer.allocate(origin.length);
            t.submit(Bio.Op.READ, 0, 0, origin.length, all);
            t.close();
        } finally {
            if (dax != null) {
                dax.close();
            }
        }
    }

    private static byte[] read(DaxDevice d) {
        byte[] b = new byte[(int) d.size()];
        d.accessor().read(0, b, 0, b.length);
        return b;
    }

    /** Random table lines: a DmError with the kernel's text, or a load — nothing else. */
    public Result tables(long seed, int cases) {
        Result res = new Result();
        String[] words = {"s", "p", "o", "c", "x", "4096", "512", "0", "1", "2", "3", "4", "-1", "99999999999999999999",
            "start_sector", "high_watermark", "low_watermark", "writeback_jobs", "autocommit_blocks", "autocommit_time",
            "fua", "nofua", "cleaner", "max_age", "metadata_only", "pause_writeback", "100", "50", "4294967296", "0x10",
            "1e3", "", " ", "é"};
        for (int i = 0; i < cases && !stopRequested; i++) {
            SplittableRandom r = new SplittableRandom(seed + i);
            List<String> argv = new ArrayList<>();
            argv.addAll(List.of(r.nextBoolean() ? "s" : "p", "o", "c", r.nextInt(4) == 0 ? words[r.nextInt(words.length)] : "4096"));
            for (int k = r.nextInt(10); k > 0; k--) {
                argv.add(words[r.nextInt(words.length)]);
            }
            res.cases++;
            progress.accept(res.cases);
            String where = "table seed " + (seed + i) + " " + argv;
            try {
                CrashableBlockDevice o = new CrashableBlockDevice("origin", 1 << 20);
                CrashableBlockDevice c = new CrashableBlockDevice("cache", 128 << 10);
                if (argv.get(0).equals("p")) {
                    argv.set(0, "s"); // pmem needs a dax device; the parser is the same
                }
                WritecacheTarget t = WritecacheTarget.create(argv, Map.of("o", o, "c", c), new VirtualScheduler(), null, m -> { });
                res.loaded++;
                t.close();
            } catch (DmError e) {
                res.refused++;
                if (e.errno() == null) {
                    res.fail(where + ": refused without an errno");
                }
            } catch (RuntimeException | Error e) {
                res.fail(where + ": " + e);
            }
        }
        return res;
    }

    /** Mangled copies of {@code trace}: reading ends normally or with a clear error. */
    public Result traces(Path trace, long seed, int cases) throws IOException {
        Result res = new Result();
        byte[] base = Files.readAllBytes(trace);
        Path f = ScratchFiles.createFile(workDir, "fuzz", "-" + trace.getFileName().toString().replace(".gz", ""));
        try {
            for (int i = 0; i < cases && !stopRequested; i++) {
                SplittableRandom r = new SplittableRandom(seed + i);
                byte[] m = base.clone();
                for (int k = 1 + r.nextInt(6); k > 0; k--) {
                    int at = r.nextInt(m.length);
                    switch (r.nextInt(4)) {
                        case 0 -> m[at] = (byte) r.nextInt(256);
                        case 1 -> m[at] = (byte) '\n';
                        case 2 -> m[at] = (byte) TRACE_CHARS.charAt(r.nextInt(TRACE_CHARS.length()));
                        default -> m = Arrays.copyOf(m, at);
                    }
                    if (m.length == 0) {
                        break;
                    }
                }
                ScratchFiles.write(f, m);
                res.cases++;
                progress.accept(res.cases);
                String where = "trace " + trace.getFileName() + " seed " + (seed + i);
                try (TraceReader in = Traces.open(f, Traces.Options.defaults())) {
                    TraceRecord rec = new TraceRecord();
                    long n = 0;
                    while (in.next(rec)) {
                        if (rec.offset < 0 || rec.length < 0) {
                            res.fail(where + ": negative offset or length accepted: " + rec);
                        }
                        if (++n > 10_000_000) {
                            res.fail(where + ": no end");
                            break;
                        }
                    }
                    res.loaded++;
                } catch (TraceFormatException | IOException e) {
                    res.refused++;
                    if (e.getMessage() == null || e.getMessage().isBlank()) {
                        res.fail(where + ": error without a message");
                    }
                } catch (IllegalArgumentException e) {
                    res.refused++; // e.g. an unknown --format from detection
                } catch (RuntimeException | Error e) {
                    res.fail(where + ": " + e);
                }
            }
        } finally {
            ScratchFiles.delete(f);
        }
        return res;
    }
}
