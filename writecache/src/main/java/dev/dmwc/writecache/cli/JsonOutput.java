package dev.dmwc.writecache.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --json [FILE]} of the long-running commands (bench, crashtest, stress, fuzz): with FILE
 * the report goes there as JSON beside the text; alone (or {@code -}) the JSON is printed instead
 * of the text.
 */
final class JsonOutput {
    @Option(names = "--json", paramLabel = "FILE", arity = "0..1", fallbackValue = "-",
            description = "Write the report as JSON to FILE, beside the text; alone (or '-'): print the JSON instead of the text.")
    Path file;

    /** JSON on standard output in place of the text. */
    boolean only() {
        return file != null && file.toString().equals("-");
    }

    /** Refuses, before any work, a FILE that could not be written at the end ({@link Main#checkOutput}). */
    void check() {
        Main.checkOutput(file, "--json");
    }

    /** The report, as asked: printed (alone), written to FILE, or nothing (no --json). */
    void write(Object report) throws IOException {
        if (only()) {
            System.out.print(Json.of(report));
        } else if (file != null) {
            Files.writeString(file, Json.of(report));
        }
    }
}
