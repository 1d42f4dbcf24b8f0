package dev.dmwc.daxlib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CrashDomainTest {
    @TempDir
    Path dir;

    @Test
    void fencedStoresSurviveAndEachUnfencedWordIsOldOrNew() throws Exception {
        long seed = System.nanoTime();
        SplittableRandom r = new SplittableRandom(seed);
        Path p = dir.resolve("pm.img");
        try (var f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(64 << 10);
        }
        CrashDomain cd = new CrashDomain();
        try (DaxDevice d = DaxDevice.open(p, new DaxDevice.Options().backend(ProtectionKeys.Backend.NONE).crashDomain(cd))) {
            DaxAccessor a = d.accessor();
            Map<Long, Long> durable = new HashMap<>();
            Map<Long, Long> latest = new HashMap<>();
            for (int round = 0; round < 50; round++) {
                for (int i = 0; i < 20; i++) {
                    long w = r.nextInt(1024) * 8L;
                    long v = r.nextLong();
                    int kind = r.nextInt(3);
                    if (kind == 0) {
                        a.putLong(w, v);              // plain: needs flush + drain
                    } else if (kind == 1) {
                        a.pmemAssign(w, v);           // non-temporal: needs drain
                    } else {
                        a.putLong(w, v);
                        a.flushRegion(w, 8);
                    }
                    latest.put(w, v);
                }
                if (r.nextBoolean()) {
                    for (long w : latest.keySet()) {
                        a.flushRegion(w, 8);
                    }
                    a.drain();
                    durable.putAll(latest);
                    assertEquals(0, cd.pendingWords(), "seed " + seed);
                }
            }
            for (int trial = 0; trial < 20; trial++) {
                Map<Long, Long> restore = cd.crash(r.nextLong());
                for (Map.Entry<Long, Long> e : latest.entrySet()) {
                    long w = e.getKey();
                    long after = restore.containsKey(w) ? restore.get(w) : e.getValue();
                    long old = durable.getOrDefault(w, 0L);
                    assertTrue(after == old || after == e.getValue(), "seed " + seed + ": word " + w + " is neither old nor new");
                    if (!restore.containsKey(w)) {
                        continue;
                    }
                    assertEquals(old, (long) restore.get(w), "seed " + seed + ": restored value must be the durable one");
                }
            }
        }
    }

    @Test
    void exhaustiveModeEnumeratesEveryState() {
        CrashDomain cd = new CrashDomain();
        cd.beforeStore(0, 8, w -> 0);
        cd.beforeStore(64, 16, w -> 0);
        assertEquals(3, cd.pendingWords());
        assertEquals(8, cd.allCrashStates(10).size());
        cd.flush(0, 128);
        cd.drain();
        assertEquals(1, cd.allCrashStates(10).size());
    }
}
