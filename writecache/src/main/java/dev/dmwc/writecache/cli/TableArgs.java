package dev.dmwc.writecache.cli;

import dev.dmwc.writecache.target.TableParser;
import java.util.Arrays;
import java.util.List;

/**
 * What {@code --table} says. Two forms:
 * <ul>
 *   <li>the writecache arguments with the two devices left out, {@code MODE BLOCK_SIZE NFEAT
 *       [FEATURE...]}, e.g. {@code p 4096 2 high_watermark 60} (the contract of architecture.md §4:
 *       what follows the devices on a dmsetup table line);</li>
 *   <li>the features alone, e.g. {@code high_watermark 60}, the mode and block size then coming
 *       from {@code --mode} and {@code --block-size}.</li>
 * </ul>
 * The first token tells them apart: the mode is one letter, a feature name never is.
 *
 * @param mode {@code s} or {@code p} in the first form, null in the second
 * @param blockSize the block size in the first form, 0 in the second
 * @param features the feature arguments
 */
record TableArgs(String mode, int blockSize, List<String> features) {
    static final TableArgs NONE = new TableArgs(null, 0, List.of());

    /** Whether the table names its mode and block size. */
    boolean full() {
        return mode != null;
    }

    /**
     * Parses {@code text} (null or blank: no features). The first form is checked here, as an
     * argument: a mode that is not s or p, a block size the target would refuse, an NFEAT that does
     * not count the features after it (dmsetup would ignore extra ones; a command line should not).
     * The features themselves are the target's to accept or refuse, with the kernel's error texts.
     */
    static TableArgs parse(String text, String option) {
        if (text == null || text.isBlank()) {
            return NONE;
        }
        List<String> t = Arrays.asList(text.trim().split("\\s+"));
        if (t.get(0).length() != 1) {
            return new TableArgs(null, 0, List.copyOf(t));
        }
        String form = " (MODE BLOCK_SIZE NFEAT [FEATURE...], e.g. 'p 4096 2 high_watermark 60'; or the features alone)";
        String where = option + " '" + text.trim() + "': ";
        if (!t.get(0).matches("[sp]")) {
            throw new Main.UsageError(where + "MODE must be s or p, not '" + t.get(0) + "'" + form);
        }
        if (t.size() < 3) {
            throw new Main.UsageError(where + "MODE, BLOCK_SIZE and NFEAT are needed" + form);
        }
        int bs;
        int n;
        try {
            bs = Integer.parseInt(t.get(1));
            n = Integer.parseInt(t.get(2));
        } catch (NumberFormatException e) {
            throw new Main.UsageError(where + "BLOCK_SIZE and NFEAT are numbers" + form);
        }
        if (!TableParser.validBlockSize(bs)) {
            throw new Main.UsageError(where + "BLOCK_SIZE must be a power of two from 512 to 4096, not " + bs);
        }
        if (n != t.size() - 3) {
            throw new Main.UsageError(where + "NFEAT is " + n + " but " + (t.size() - 3) + " feature argument"
                    + (t.size() == 4 ? "" : "s") + " follow" + (t.size() == 4 ? "s" : ""));
        }
        return new TableArgs(t.get(0), bs, List.copyOf(t.subList(3, t.size())));
    }

    /**
     * Those of {@code options} given on the command line, each spelt as it was typed (an alias such
     * as {@code --bs} for {@code --block-size}), for {@link #refuseWith}.
     */
    static List<String> given(picocli.CommandLine.ParseResult r, String... options) {
        List<String> out = new java.util.ArrayList<>();
        for (String o : options) {
            picocli.CommandLine.Model.OptionSpec spec = r.matchedOption(o);
            if (spec == null) {
                continue;
            }
            out.add(Checks.typed(r, o));
        }
        return out;
    }

    /**
     * Refuses a table that names its mode and block size together with options that set them too
     * ({@code options}: those given on the command line), since one of them would be ignored.
     */
    void refuseWith(String option, List<String> givenOptions) {
        if (full() && !givenOptions.isEmpty()) {
            throw new Main.UsageError(option + " '" + mode + " " + blockSize + " " + features.size()
                    + (features.isEmpty() ? "" : " " + String.join(" ", features)) + "' sets the mode and block size: give "
                    + String.join(" or ", givenOptions) + " only with a --table of features alone (e.g. 'high_watermark 60')");
        }
    }
}
