package dev.dmwc.writecache.engine;

import dev.dmwc.writecache.engine.ModelHarness.Config;
import dev.dmwc.writecache.engine.ModelHarness.Kind;
import dev.dmwc.writecache.engine.ModelHarness.Op;
import java.util.List;
import net.jqwik.api.AfterFailureMode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * jqwik: random op sequences (write, FUA, read, discard, flush, the flush / clear_stats / cleaner
 * messages, reload, crash, time passing) in both modes and several block sizes, against the model
 * of {@link ModelHarness}. A failure is shrunk to a short sequence and reported with jqwik's seed;
 * 150 tries by default (src/test/resources/junit-platform.properties); a deep run:
 * {@code mvn -pl writecache test -Dtest=OpSequenceProperties -Djqwik.tries.default=5000}.
 */
class OpSequenceProperties {
    @Property(afterFailure = AfterFailureMode.SAMPLE_FIRST)
    void theLogicalDeviceHoldsWhatWasWritten(@ForAll("configs") Config cfg, @ForAll("ops") List<Op> ops) throws Exception {
        try (ModelHarness h = new ModelHarness(cfg)) {
            int step = 0;
            for (Op op : ops) {
                h.where = cfg + " step " + step++ + " " + op;
                h.apply(op);
            }
            h.where = cfg + " at the end";
            h.finish();
        }
    }

    @Provide
    Arbitrary<Config> configs() {
        Arbitrary<Tuple.Tuple2<String, Integer>> modeAndBs = Arbitraries.of("s", "p").flatMap(m ->
                (m.equals("p") ? Arbitraries.of(512, 4096) : Arbitraries.of(512, 1024, 2048, 4096)).map(bs -> Tuple.of(m, bs)));
        return Combinators.combine(modeAndBs, Arbitraries.integers().between(1, 40),
                Arbitraries.integers().between(100, 5000), Arbitraries.of(0, 1000))
                .as((mb, blocks, ms, pause) -> new Config(mb.get1(), mb.get2(), blocks, ms, pause));
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Kind> kinds = Arbitraries.frequency(
                Tuple.of(36, Kind.WRITE), Tuple.of(6, Kind.FUA_WRITE), Tuple.of(28, Kind.READ), Tuple.of(7, Kind.DISCARD),
                Tuple.of(7, Kind.FLUSH), Tuple.of(3, Kind.MESSAGE_FLUSH), Tuple.of(1, Kind.CLEAR_STATS),
                Tuple.of(1, Kind.CLEANER), Tuple.of(3, Kind.RELOAD), Tuple.of(4, Kind.CRASH), Tuple.of(4, Kind.ADVANCE));
        Arbitrary<Op> op = Combinators.combine(kinds, Arbitraries.integers().between(0, 1 << 20),
                Arbitraries.integers().between(1, 8), Arbitraries.integers().between(1, 5000)).as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(400);
    }
}
