package dev.dmwc.daxlib.jmh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs this module's JMH benchmarks and prints every score as a ratio to a baseline measured in
 * the same run (these machines are shared and noisy: ratios, not absolute times).
 *
 * <p>Convention: in each benchmark class the method whose name starts with {@code baseline} is
 * the reference; every other method of the class is compared with the baseline that has the same
 * parameters, minus the parameters the baseline does not vary ({@link Ratio#ignore}).
 *
 * <p>Arguments are JMH's own (e.g. {@code -f 1 -wi 3 -i 5 Persistence}); {@code --md FILE}
 * appends the Markdown table to FILE. Run through Maven: {@code mvn -B -Pjmh -DskipTests verify
 * -Djmh.args="…"} (see BENCHMARKS.md).
 */
public final class Bench {
    private Bench() {}

    /** Marks a parameter whose value the baseline ignores (it is measured once, for all values). */
    @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
    @java.lang.annotation.Target(java.lang.annotation.ElementType.TYPE)
    public @interface Ratio {
        String[] ignore() default {};
    }

    public static void main(String[] args) throws RunnerException, IOException {
        List<String> jmhArgs = new ArrayList<>();
        Path md = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--md") && i + 1 < args.length) {
                md = Path.of(args[++i]);
            } else if (!args[i].isBlank()) {
                jmhArgs.add(args[i]);
            }
        }
        CommandLineOptions cli;
        try {
            cli = new CommandLineOptions(jmhArgs.toArray(new String[0]));
        } catch (CommandLineOptionException e) {
            System.err.println("jmh: " + e.getMessage());
            System.exit(2);
            return;
        }
        // only this module's benchmarks (daxlib's test-jar is on writecache's class path too): the
        // positional include patterns are taken out of the JMH arguments and scoped to the module
        String module = System.getProperty("dmwc.jmh.module", "dev.dmwc").replace(".", "\\.") + "\\.";
        List<String> includes = new ArrayList<>();
        for (String inc : cli.getIncludes().isEmpty() ? List.of("") : cli.getIncludes()) {
            includes.add("^" + module + ".*" + inc + ".*");
        }
        List<String> optionArgs = new ArrayList<>(jmhArgs);
        optionArgs.removeAll(cli.getIncludes());
        Options opts;
        try {
            OptionsBuilder scoped = new OptionsBuilder();
            scoped.parent(new CommandLineOptions(optionArgs.toArray(new String[0])));
            includes.forEach(scoped::include);
            opts = scoped.build();
        } catch (CommandLineOptionException e) {
            System.err.println("jmh: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (BenchmarkList.defaultList().find(org.openjdk.jmh.runner.format.OutputFormatFactory.createFormatInstance(
                System.out, org.openjdk.jmh.runner.options.VerboseMode.SILENT), includes, opts.getExcludes()).isEmpty()) {
            System.out.println("jmh: no benchmark of this module matches " + includes + "; nothing to run here");
            return;
        }
        Collection<RunResult> results = new Runner(opts).run();
        String table = ratioTable(results);
        System.out.println();
        System.out.println(table);
        if (md != null) {
            Files.writeString(md, table + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    /** The Markdown table: benchmark, parameters, score ± error, ratio to the same run's baseline. */
    static String ratioTable(Collection<RunResult> results) {
        Map<String, List<RunResult>> baselines = new LinkedHashMap<>();
        List<RunResult> all = new ArrayList<>(results);
        for (RunResult r : all) {
            if (method(r).startsWith("baseline")) {
                baselines.computeIfAbsent(key(r), k -> new ArrayList<>()).add(r);
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append("| benchmark | parameters | score | unit | ratio to baseline |\n");
        sb.append("|---|---|---:|---|---:|\n");
        for (RunResult r : all) {
            var s = r.getPrimaryResult();
            RunResult base = baselineFor(r, baselines.getOrDefault(key(r), List.of()));
            String ratio = "";
            if (base == r) {
                ratio = "1 (baseline)";
            } else if (base != null) {
                ratio = String.format(Locale.ROOT, "%.3f × %s", s.getScore() / base.getPrimaryResult().getScore(),
                        method(base));
            }
            sb.append(String.format(Locale.ROOT, "| %s | %s | %.3f ± %.3f | %s | %s |%n",
                    shortName(r.getParams().getBenchmark()), params(r, List.of()), s.getScore(), s.getScoreError(),
                    s.getScoreUnit(), ratio));
        }
        return sb.toString();
    }

    /**
     * The baseline of {@code r}: itself if it is one; else the baseline whose name after
     * "baseline" is the longest prefix of r's method name (baselineStore8 for store8Bracketed);
     * else the class's only baseline.
     */
    private static RunResult baselineFor(RunResult r, List<RunResult> candidates) {
        String m = method(r);
        if (m.startsWith("baseline")) {
            return r;
        }
        RunResult best = null;
        int bestLen = -1;
        for (RunResult c : candidates) {
            String suffix = method(c).substring("baseline".length());
            String stem = suffix.isEmpty() ? "" : Character.toLowerCase(suffix.charAt(0)) + suffix.substring(1);
            if (m.startsWith(stem) && stem.length() > bestLen) {
                best = c;
                bestLen = stem.length();
            }
        }
        return best != null ? best : candidates.size() == 1 ? candidates.get(0) : null;
    }

    private static String method(RunResult r) {
        String b = r.getParams().getBenchmark();
        return b.substring(b.lastIndexOf('.') + 1);
    }

    private static String shortName(String benchmark) {
        String[] parts = benchmark.split("\\.");
        return parts[parts.length - 2] + "." + parts[parts.length - 1];
    }

    private static List<String> ignored(RunResult r) {
        String b = r.getParams().getBenchmark();
        try {
            Class<?> c = Class.forName(b.substring(0, b.lastIndexOf('.')));
            Ratio ratio = c.getAnnotation(Ratio.class);
            return ratio == null ? List.of() : List.of(ratio.ignore());
        } catch (ClassNotFoundException e) {
            return List.of();
        }
    }

    private static String key(RunResult r) {
        String b = r.getParams().getBenchmark();
        return b.substring(0, b.lastIndexOf('.')) + " " + params(r, ignored(r));
    }

    private static String params(RunResult r, List<String> ignore) {
        Map<String, String> m = new TreeMap<>();
        for (String k : r.getParams().getParamsKeys()) {
            if (!ignore.contains(k)) {
                m.put(k, r.getParams().getParam(k));
            }
        }
        if (r.getParams().getThreads() != 1) {
            m.put("threads", Integer.toString(r.getParams().getThreads()));
        }
        return m.isEmpty() ? "" : m.toString();
    }
}
