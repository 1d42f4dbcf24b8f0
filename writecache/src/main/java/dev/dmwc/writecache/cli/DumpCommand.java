package dev.dmwc.writecache.cli;

import dev.dmwc.writecache.format.CacheImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "dump", header = "Print a cache image's superblock and entries, like thin_dump.", mixinStandardHelpOptions = true,
        description = "Print a cache image's superblock and entries (committed / uncommitted / free), like thin_dump. "
                + "A gzip-compressed image (as the kernel's are kept) is read inflated. Exit 0; 1 when the image would not load (its problems are printed, entries are not); 2 when it cannot be read.")
final class DumpCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CACHE_IMG", description = "The cache device image (ssd: the cache device; pmem: the DAX range, byte 0 = superblock); .gz read as is.")
    Path image;

    @Option(names = "--start-sector", paramLabel = "N", defaultValue = "0", description = "Metadata starts at this sector (table option start_sector).")
    long startSector;

    @Option(names = "--json", description = "JSON output.")
    boolean json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--all", description = "Also list free entries.")
    boolean all;

    @Override
    public Integer call() {
        Checks.within(spec, "--start-sector", startSector, 0, Long.MAX_VALUE / 512);
        ImageFiles.Readable file;
        CacheImage img;
        try {
            file = ImageFiles.open(image, startSector);
        } catch (IOException e) {
            throw new Main.UsageError("cannot read cache image " + e.getMessage());
        }
        try {
            img = CacheImage.open(file.path(), startSector);
        } catch (IOException e) {
            closeQuietly(file);
            throw new Main.UsageError("cannot read cache image " + image + ": " + e.getMessage());
        }
        try {
            List<String> problems = img.loadProblems();
            List<CacheImage.Entry> entries = problems.isEmpty() ? img.entries() : List.of();
            long committed = entries.stream().filter(e -> e.state() == CacheImage.State.COMMITTED).count();
            long uncommitted = entries.stream().filter(e -> e.state() == CacheImage.State.UNCOMMITTED).count();
            long free = entries.size() - committed - uncommitted;
            if (json) {
                StringBuilder sb = new StringBuilder();
                sb.append("{\"path\":").append(Json.str(image.toString()))
                        .append(",\"superblock\":{\"magic\":").append(Integer.toUnsignedLong(img.magic))
                        .append(",\"version\":").append(Integer.toUnsignedLong(img.version))
                        .append(",\"block_size\":").append(Integer.toUnsignedLong(img.blockSize))
                        .append(",\"n_blocks\":").append(Long.toUnsignedString(img.nBlocks))
                        .append(",\"seq_count\":").append(Long.toUnsignedString(img.seqCount)).append("}")
                        .append(",\"problems\":").append(Json.strings(problems))
                        .append(",\"committed\":").append(committed).append(",\"uncommitted\":").append(uncommitted)
                        .append(",\"free\":").append(free).append(",\"entries\":[");
                boolean first = true;
                for (CacheImage.Entry e : entries) {
                    if (e.state() == CacheImage.State.FREE && !all) {
                        continue;
                    }
                    sb.append(first ? "" : ",").append("{\"index\":").append(e.index())
                            .append(",\"original_sector\":").append(Long.toUnsignedString(e.originalSector()))
                            .append(",\"seq_count\":").append(Long.toUnsignedString(e.seqCount()))
                            .append(",\"state\":\"").append(e.state().name().toLowerCase(java.util.Locale.ROOT)).append("\"}");
                    first = false;
                }
                System.out.println(sb.append("]}"));
            } else {
                System.out.printf("superblock: magic 0x%08x version %d block_size %d n_blocks %s seq_count %s%n", img.magic,
                        img.version, img.blockSize, Long.toUnsignedString(img.nBlocks), Long.toUnsignedString(img.seqCount));
                problems.forEach(p -> System.out.println("problem: " + p));
                System.out.printf("entries: %d committed, %d uncommitted, %d free%n", committed, uncommitted, free);
                for (CacheImage.Entry e : entries) {
                    if (e.state() == CacheImage.State.FREE && !all) {
                        continue;
                    }
                    System.out.printf("entry %d: sector %s seq %s %s%n", e.index(), Long.toUnsignedString(e.originalSector()),
                            e.seqCount() == -1 ? "-1" : Long.toUnsignedString(e.seqCount()),
                            e.state().name().toLowerCase(java.util.Locale.ROOT));
                }
            }
            return problems.isEmpty() ? 0 : 1;
        } catch (IOException e) {
            throw new Main.UsageError("cannot read cache image " + image + ": " + e.getMessage());
        } finally {
            closeQuietly(img);
            closeQuietly(file);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // read-only; an inflated copy left behind goes at exit
        }
    }
}
