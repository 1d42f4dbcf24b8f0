package dev.dmwc.writecache.cli;

import dev.dmwc.writecache.format.CacheImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "check", header = "Validate a cache image as resume would.", mixinStandardHelpOptions = true,
        description = {"Validate a cache image as resume would (magic, version, sizes, duplicate entries, sectors beyond the "
                + "origin). A gzip-compressed image (as the kernel's are kept) is read inflated. Exit 0 clean, 1 problems (listed), 2 unreadable."})
final class CheckCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CACHE_IMG", description = "The cache device image (ssd: the cache device; pmem: the DAX range, byte 0 = superblock); .gz read as is.")
    Path image;

    @Option(names = "--origin", paramLabel = "IMG", description = "The origin image (gzip too): also check entry sectors against its size.")
    Path origin;

    @Option(names = "--start-sector", paramLabel = "N", defaultValue = "0", description = "Metadata starts at this sector (table option start_sector).")
    long startSector;

    @Option(names = "--json", description = "JSON output.")
    boolean json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Checks.within(spec, "--start-sector", startSector, 0, Long.MAX_VALUE / 512);
        long originSectors = -1;
        try {
            if (origin != null) {
                originSectors = ImageFiles.size(origin) / 512;
            }
        } catch (IOException e) {
            throw new Main.UsageError("cannot read origin image " + e.getMessage());
        }
        List<String> problems = new ArrayList<>();
        long entriesCount = 0;
        try (ImageFiles.Readable file = ImageFiles.open(image, startSector)) {
            CacheImage img = CacheImage.open(file.path(), startSector);
            try {
                problems.addAll(img.loadProblems());
                if (problems.isEmpty()) {
                    List<CacheImage.Entry> entries = img.entries();
                    entriesCount = entries.size();
                    problems.addAll(img.entryProblems(entries, originSectors));
                }
            } finally {
                img.close();
            }
        } catch (IOException e) {
            System.err.println("dmwc: check: unreadable: " + (e.getMessage().startsWith(image.toString()) ? "" : image + ": ")
                    + e.getMessage());
            return 2;
        }
        if (json) {
            System.out.println("{\"path\":" + Json.str(image.toString()) + ",\"clean\":" + problems.isEmpty()
                    + ",\"entries\":" + entriesCount + ",\"problems\":" + Json.strings(problems) + "}");
        } else if (problems.isEmpty()) {
            System.out.println(image + ": clean (" + entriesCount + " entries)");
        } else {
            problems.forEach(p -> System.out.println(image + ": " + p));
        }
        return problems.isEmpty() ? 0 : 1;
    }
}
