package dev.dmwc.writecache.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.daxlib.FaultMode;
import dev.dmwc.daxlib.ProtectionKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ScenarioMutant}: what RandomScriptsKernelIT's {@code mutate} profile sends to the kernel. */
class ScenarioMutantTest {
    /** The scenario's ops as the runner normalises them, without the header comment. */
    private static List<String> ops(List<String> lines) throws Exception {
        return WcScript.parse("s", lines, null).lines;
    }

    @Test
    void aMutantIsAValidScriptThatDiffersFromItsScenarioAndIsTheSameForTheSameSeed() throws Exception {
        Set<String> scenariosDrawn = new HashSet<>();
        int tablesChanged = 0;
        for (long seed = 1; seed <= 300; seed++) {
            List<String> m = ScenarioMutant.generate(seed);
            assertEquals(m, ScenarioMutant.generate(seed), "seed " + seed + " draws one mutant");
            String header = m.get(0);
            assertTrue(header.startsWith("# mutant of "), header);
            String name = header.substring("# mutant of ".length(), header.indexOf(':'));
            scenariosDrawn.add(name);
            List<String> original = Files.readAllLines(ScenarioMutant.KERNEL.resolve(name).resolve("script.wcs"));
            List<String> mutantOps = ops(m); // parses: the kernel's runner would take it
            assertNotEquals(ops(original), mutantOps, "seed " + seed + " changes " + name + ": " + header);
            for (String op : mutantOps) {
                String[] t = op.split(" ");
                if (t[0].equals("table") && !ops(original).contains(op)) { // a table the mutant changed counts its features
                    tablesChanged++;
                    assertEquals(Integer.toString(t.length - 4), t[3], "seed " + seed + ": " + op);
                }
            }
        }
        assertTrue(scenariosDrawn.size() > ScenarioMutant.scenarios().size() / 2, "draws spread over the scenarios: " + scenariosDrawn);
        assertTrue(tablesChanged > 10, "tables are mutated too: " + tablesChanged);
    }

    @Test
    void pmemReadsOfSeveralBlocksAreSplitIntoOneReadPerBlock() throws Exception {
        for (long seed = 1; seed <= 300; seed++) {
            List<String> m = ScenarioMutant.generate(seed);
            if (!m.stream().anyMatch(l -> l.startsWith("pmem "))) {
                continue;
            }
            int bsSectors = m.stream().filter(l -> l.startsWith("table ")).map(l -> l.split(" "))
                    .filter(t -> t.length > 2 && t[2].matches("512|1024|2048|4096")).findFirst().map(t -> Integer.parseInt(t[2]) / 512).orElse(8);
            for (String l : m) {
                String[] t = l.split(" ");
                if (t[0].equals("read") && Long.parseLong(t[1]) % bsSectors == 0 && Long.parseLong(t[2]) % bsSectors == 0) {
                    assertEquals(bsSectors, Long.parseLong(t[2]), "seed " + seed + ": " + l);
                }
            }
        }
    }

    @Test
    void mutantsRunInDmwc(@TempDir Path work) throws Exception {
        for (long seed = 1; seed <= 12; seed++) {
            Path script = work.resolve("m" + seed + ".wcs");
            Files.write(script, ScenarioMutant.generate(seed));
            Path out = work.resolve("out" + seed);
            new ScriptRunner(WcScript.parse(script, null), out, ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT).run();
            List<String> transcript = Files.readAllLines(out.resolve("transcript.txt"));
            assertFalse(transcript.isEmpty(), "seed " + seed);
            assertTrue(Files.exists(out.resolve("origin.img")) && Files.exists(out.resolve("cache.img")), "seed " + seed);
        }
    }
}
