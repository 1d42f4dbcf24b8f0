package dev.dmwc.writecache.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Range checks for numeric options, refused as usage errors (exit 2) that name the option as the
 * user typed it: {@code --iterations 0} is refused as {@code --iterations}, not as its other name
 * {@code --workloads}.
 */
final class Checks {
    private Checks() {
    }

    /** The spelling of {@code option} (any of its names) on the command line; {@code option} when it was not given. */
    static String typed(ParseResult parsed, String option) {
        OptionSpec spec = parsed.matchedOption(option);
        if (spec == null) {
            return option;
        }
        String typed = option;
        for (String arg : parsed.originalArgs()) {
            for (String name : spec.names()) {
                if (arg.equals(name) || arg.startsWith(name + "=")) {
                    typed = name;
                }
            }
        }
        return typed;
    }

    static String typed(CommandSpec spec, String option) {
        return typed(spec.commandLine().getParseResult(), option);
    }

    static void atLeast(CommandSpec spec, String option, long value, long min) {
        if (value < min) {
            throw new Main.UsageError(typed(spec, option) + " must be at least " + min + ", not " + value);
        }
    }

    static void within(CommandSpec spec, String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw new Main.UsageError(typed(spec, option) + " must be " + min + ".." + max + ", not " + value);
        }
    }

    static void positive(CommandSpec spec, String option, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new Main.UsageError(typed(spec, option) + " must be a number above 0, not " + plain(value));
        }
    }

    /** 0.5 as "0.5" and 2.0 as "2". */
    static String plain(double value) {
        return Double.isFinite(value) ? java.math.BigDecimal.valueOf(value).stripTrailingZeros().toPlainString() : String.valueOf(value);
    }
}
