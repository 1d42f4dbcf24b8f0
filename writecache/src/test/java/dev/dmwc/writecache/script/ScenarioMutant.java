package dev.dmwc.writecache.script;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Scripts made by changing a stored kernel scenario a little (RandomScriptsKernelIT with {@code
 * -Ddmwc.kernelDiff.profile=mutate}). Each stored scenario was written to pin down one behaviour,
 * and the kernel ran it. A mutant keeps its devices and most of its ops, and changes one to three
 * things: it deletes, duplicates or swaps ops, shifts or resizes an I/O, toggles a FUA, adds a
 * feature to a table or takes one away ({@link #mutateTable}), or inserts a flush, a status, a
 * commit message, a suspend, a reload, a power cut, a write, a discard or a read. So the kernel's
 * time goes to states next to the ones the scenarios were written to reach, which a generator from
 * scratch ({@link RandomScript}) seldom gets to.
 *
 * <p>A mutant is not made timing-proof: an inserted write is followed by {@code settle}, but a
 * deleted {@code settle} or a moved write can leave background work to chance. The IT therefore
 * runs the kernel a second time whenever dmwc's result differs, and accepts dmwc's when it matches
 * either kernel run. In pmem mode a read of several blocks is split into one read per block:
 * Linux 6.1 returns zeros for the end of a read over hits then misses
 * (test-data/kernel-bugs/pmem-read-hits-then-misses), which a mutant could otherwise reach.
 */
final class ScenarioMutant {
    static final Path KERNEL = Path.of("..", "test-data", "kernel");

    private final SplittableRandom rnd;
    private final List<String> head = new ArrayList<>();
    private final List<String> body = new ArrayList<>();
    private final List<String> done = new ArrayList<>();
    private boolean pmem;
    private int bsSectors = 8;
    private boolean bsKnown;
    private long originSectors;
    private int tags;

    private ScenarioMutant(long seed) {
        this.rnd = new SplittableRandom(seed);
    }

    /**
     * The stored scenarios, in name order, without the real traces ({@code *-trace-*}: 580 ops of
     * a file system's I/O, which {@code TraceScriptsKernelIT} sends the kernel in full; left out,
     * they also leave each seed the mutant it drew before they were stored).
     */
    static List<Path> scenarios() {
        try (Stream<Path> dirs = Files.list(KERNEL)) {
            return dirs.filter(d -> !d.getFileName().toString().contains("-trace-")).map(d -> d.resolve("script.wcs"))
                    .filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The mutant of seed {@code seed}: a scenario drawn from {@link #scenarios()}, changed (a list the caller may change). */
    static List<String> generate(long seed) throws IOException {
        ScenarioMutant m = new ScenarioMutant(seed);
        List<Path> all = scenarios();
        Path from = all.get(m.rnd.nextInt(all.size()));
        return m.mutate(from.getParent().getFileName().toString(), Files.readAllLines(from));
    }

    /** {@code lines} of scenario {@code name}, changed one to three times. */
    List<String> mutate(String name, List<String> lines) {
        WcScript parsed;
        try {
            parsed = WcScript.parse(name, lines, null); // the runner's own normalisation: comments and blanks gone
        } catch (WcScript.ScriptException e) {
            throw new IllegalArgumentException("a stored scenario that does not parse: " + e.getMessage(), e);
        }
        originSectors = parsed.originBytes / 512;
        pmem = parsed.pmemBytes > 0;
        boolean created = false;
        for (String op : parsed.lines) {
            String[] t = op.split(" ");
            // the first valid block size (a scenario of refused tables starts with bad ones)
            if (t[0].equals("table") && t.length > 2 && t[2].matches("512|1024|2048|4096") && !bsKnown) {
                bsSectors = Integer.parseInt(t[2]) / 512;
                bsKnown = true;
            }
            // the devices and the first create stay where they are (a table may change: mutateTable)
            if (!created) {
                head.add(op);
                created = op.equals("create");
            } else {
                body.add(op);
            }
        }
        List<String> original = List.copyOf(body);
        int n = 1 + rnd.nextInt(3);
        for (int i = 0; i < n || body.equals(original); i++) { // a swap of equal ops, say, changes nothing
            mutateOnce();
        }
        List<String> out = new ArrayList<>();
        out.add("# mutant of " + name + ": " + String.join("; ", done));
        out.addAll(head);
        for (String op : body) {
            out.addAll(pmem ? splitPmemRead(op) : List.of(op));
        }
        return out;
    }

    private void mutateOnce() {
        int kind = body.isEmpty() ? 6 : rnd.nextInt(8);
        int at = body.isEmpty() ? 0 : rnd.nextInt(body.size());
        switch (kind) {
            case 0 -> done.add("deleted '" + body.remove(at) + "'");
            case 1 -> {
                body.add(at + 1, body.get(at));
                done.add("duplicated '" + body.get(at) + "'");
            }
            case 2 -> {
                if (at + 1 < body.size() && !body.get(at).equals(body.get(at + 1))) {
                    String a = body.get(at);
                    body.set(at, body.get(at + 1));
                    body.set(at + 1, a);
                    done.add("swapped '" + body.get(at + 1) + "' with the next op");
                } else {
                    insert(at);
                }
            }
            case 3, 4, 5 -> {
                int io = findIo(at);
                if (io < 0) {
                    insert(at);
                    return;
                }
                String before = body.get(io);
                String[] t = before.split(" ");
                int s = t[0].equals("dump") ? 2 : 1;
                long sector = Long.parseLong(t[s]);
                long nsect = Long.parseLong(t[s + 1]);
                if (kind == 3) {
                    sector = Math.max(0, sector + (rnd.nextBoolean() ? 1 : -1) * bsSectors * (1L + rnd.nextInt(4)));
                } else if (kind == 4) {
                    nsect = rnd.nextBoolean() ? nsect * 2 : Math.max(bsSectors, nsect / 2 / bsSectors * bsSectors);
                } else if (t[0].equals("write")) {
                    boolean fua = t[t.length - 1].equals("fua");
                    String w = fua ? before.substring(0, before.length() - 4) : before + " fua";
                    body.set(io, w);
                    done.add((fua ? "FUA taken from '" : "FUA added to '") + before + "'");
                    return;
                }
                if (!t[0].equals("dump") && sector + nsect > originSectors) {
                    nsect = Math.max(0, originSectors - sector);
                }
                t[s] = Long.toString(sector);
                t[s + 1] = Long.toString(nsect);
                if (nsect == 0 || String.join(" ", t).equals(before)) {
                    insert(at); // clamped to what it was
                    return;
                }
                body.set(io, String.join(" ", t));
                done.add("'" + before + "' became '" + body.get(io) + "'");
            }
            case 7 -> mutateTable(at);
            default -> insert(at);
        }
    }

    /** Feature arguments (after the name) of the table features a mutant may add or remove. */
    private static final Map<String, Integer> FEATURE_ARGS = Map.ofEntries(Map.entry("high_watermark", 1),
            Map.entry("low_watermark", 1), Map.entry("writeback_jobs", 1), Map.entry("autocommit_blocks", 1),
            Map.entry("autocommit_time", 1), Map.entry("max_age", 1), Map.entry("start_sector", 1),
            Map.entry("pause_writeback", 1), Map.entry("nofua", 0), Map.entry("fua", 0), Map.entry("cleaner", 0),
            Map.entry("metadata_only", 0));

    /**
     * A table line (the first one too) with a feature added or removed. Never {@code max_age}, nor
     * {@code autocommit_blocks} in ssd mode: both start background work at times of the kernel's
     * choosing; and {@code autocommit_time} stays. A table made {@code cleaner} is followed, after
     * the create or reload that loads it, by {@code settle}. A table whose feature count does not
     * count its features (a scenario of refused tables) is left as it is, and so is one with
     * {@code max_age}: its timer ticks every 1/16 of it, in the kernel between any two ops (the
     * oracle's runner takes tens of milliseconds an op), and with a low watermark that lets
     * writeback run (seed 119: {@code low_watermark 0}) a tick writes everything back, where dmwc's
     * script ops take no time.
     */
    private void mutateTable(int at) {
        List<Integer> tables = new ArrayList<>(); // head indices, then body indices + head.size()
        for (int i = 0; i < head.size() + body.size(); i++) {
            if (op(i).startsWith("table ")) {
                tables.add(i);
            }
        }
        if (tables.isEmpty()) {
            insert(at);
            return;
        }
        int ti = tables.get(rnd.nextInt(tables.size()));
        String before = op(ti);
        String[] t = before.split(" ");
        List<List<String>> groups = new ArrayList<>();
        boolean counts = t.length >= 4 && t[3].matches("\\d+") && Integer.parseInt(t[3]) == t.length - 4;
        for (int i = 4; counts && i < t.length;) {
            Integer n = FEATURE_ARGS.get(t[i]);
            if (n == null || i + n >= t.length) {
                counts = false;
                break;
            }
            groups.add(List.of(t).subList(i, i + 1 + n));
            i += 1 + n;
        }
        if (!counts || before.contains(" max_age ")) {
            insert(at);
            return;
        }
        List<Integer> removable = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) {
            if (!groups.get(g).get(0).equals("autocommit_time")) {
                removable.add(g);
            }
        }
        boolean cleanerAdded = false;
        if (!removable.isEmpty() && rnd.nextBoolean()) {
            groups.remove((int) removable.get(rnd.nextInt(removable.size())));
        } else {
            List<String> add = switch (rnd.nextInt(6)) {
                case 0 -> {
                    int high = 5 + rnd.nextInt(91);
                    yield List.of("high_watermark", Integer.toString(high), "low_watermark", Integer.toString(rnd.nextInt(high + 1)));
                }
                case 1 -> List.of("writeback_jobs", Integer.toString(1 + rnd.nextInt(8)));
                case 2 -> List.of("cleaner");
                case 3 -> pmem ? List.of(rnd.nextBoolean() ? "nofua" : "fua") : List.of("metadata_only");
                case 4 -> pmem ? List.of("autocommit_blocks", Integer.toString(1 + rnd.nextInt(64)))
                        : List.of("pause_writeback", Integer.toString(rnd.nextInt(2000)));
                default -> List.of("high_watermark", Integer.toString(5 + rnd.nextInt(91)));
            };
            List<List<String>> added = new ArrayList<>();
            for (int k = 0; k < add.size(); k += 1 + FEATURE_ARGS.get(add.get(k))) {
                added.add(add.subList(k, k + 1 + FEATURE_ARGS.get(add.get(k))));
            }
            for (List<String> g : groups) {
                for (List<String> a : added) {
                    if (a.get(0).equals(g.get(0))) {
                        insert(at); // present already: a repeated feature is a scenario of its own
                        return;
                    }
                }
            }
            groups.addAll(added);
            cleanerAdded = add.get(0).equals("cleaner");
        }
        List<String> feats = new ArrayList<>();
        groups.forEach(feats::addAll);
        String after = "table " + t[1] + " " + t[2] + " " + feats.size() + (feats.isEmpty() ? "" : " " + String.join(" ", feats));
        setOp(ti, after);
        done.add("'" + before + "' became '" + after + "'");
        if (cleanerAdded) {
            for (int i = ti + 1; i < head.size() + body.size(); i++) {
                if (op(i).equals("create") || op(i).equals("reload")) {
                    body.add(Math.max(0, i + 1 - head.size()), "settle");
                    break;
                }
            }
        }
    }

    private String op(int i) {
        return i < head.size() ? head.get(i) : body.get(i - head.size());
    }

    private void setOp(int i, String op) {
        if (i < head.size()) {
            head.set(i, op);
        } else {
            body.set(i - head.size(), op);
        }
    }

    /** The first I/O op at or after {@code from} (wrapping around), or -1. */
    private int findIo(int from) {
        for (int k = 0; k < body.size(); k++) {
            int i = (from + k) % body.size();
            String op = body.get(i);
            if (op.startsWith("write ") || op.startsWith("read ") || op.startsWith("discard ") || op.startsWith("dump ")) {
                return i;
            }
        }
        return -1;
    }

    private void insert(int at) {
        long blocks = Math.max(1, originSectors / bsSectors);
        long start = rnd.nextLong(Math.min(blocks, 64)) * bsSectors;
        long len = bsSectors * (1L + rnd.nextInt(4));
        len = Math.max(bsSectors, Math.min(len, originSectors - start));
        List<String> ops = switch (rnd.nextInt(9)) {
            case 0 -> List.of("flush");
            case 1 -> List.of("status");
            case 2 -> List.of("message flush", "settle");
            case 3 -> List.of("suspend", "status", "resume");
            case 4 -> List.of("reload");
            case 5 -> List.of("crash", "create");
            case 6 -> List.of("write " + start + " " + len + " m" + (++tags) + (rnd.nextInt(4) == 0 ? " fua" : ""), "settle");
            case 7 -> List.of("discard " + start + " " + len);
            default -> List.of("read " + start + " " + len);
        };
        body.addAll(at, ops);
        done.add("inserted '" + String.join(", ", ops) + "'");
    }

    /** pmem mode: a read of several blocks as one read per block (see the class comment). */
    private List<String> splitPmemRead(String op) {
        String[] t = op.split(" ");
        if (!t[0].equals("read") || t.length != 3) {
            return List.of(op);
        }
        long sector = Long.parseLong(t[1]);
        long nsect = Long.parseLong(t[2]);
        if (nsect <= bsSectors || sector % bsSectors != 0 || nsect % bsSectors != 0) {
            return List.of(op);
        }
        List<String> reads = new ArrayList<>();
        for (long s = sector; s < sector + nsect; s += bsSectors) {
            reads.add("read " + s + " " + bsSectors);
        }
        return reads;
    }
}
