package dev.dmwc.writecache.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry behind the exit hook; the hook itself, run by SIGTERM, is tested in CliTest. */
class ScratchFilesTest {
    @TempDir
    Path dir;

    @Test
    void theHookDeletesAFolderAfterTheFilesInItWhateverTheOrderTheyCameIn() throws Exception {
        ScratchFiles r = new ScratchFiles();
        Path folder = Files.createDirectory(dir.resolve("run"));
        r.add(folder);
        Path a = Files.createFile(folder.resolve("origin.img"));
        Path b = Files.createFile(folder.resolve("cache.img"));
        r.add(a);
        r.add(b);
        Path other = Files.createFile(dir.resolve("unregistered"));
        r.deleteAll();
        assertFalse(Files.exists(a));
        assertFalse(Files.exists(b));
        assertFalse(Files.exists(folder), "the folder goes once its files have");
        assertTrue(Files.exists(other), "a file never registered stays");
    }

    @Test
    void aFileDeletedOrKeptIsForgotten() throws Exception {
        ScratchFiles r = new ScratchFiles();
        Path kept = Files.createFile(dir.resolve("kept"));
        r.add(kept);
        assertTrue(r.registered(kept));
        r.remove(kept);
        assertFalse(r.registered(kept));
        r.deleteAll();
        assertTrue(Files.exists(kept), "a file the user keeps survives the exit");
    }

    @Test
    void aFileRegisteredWhileTheJvmStopsIsDeletedAtOnce() throws Exception {
        ScratchFiles r = new ScratchFiles();
        r.deleteAll();
        Path late = Files.createFile(dir.resolve("late"));
        r.add(late);
        assertFalse(Files.exists(late), "made after the hook ran, it would be left behind");
    }

    @Test
    void noFileIsMadeOnceTheJvmStops() throws Exception {
        ScratchFiles r = new ScratchFiles();
        r.deleteAll();
        Path f = dir.resolve("next-case.img");
        java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> r.make(() -> Files.write(f, new byte[512])));
        assertTrue(e.getMessage().contains("stopping"), e.getMessage());
        assertFalse(Files.exists(f), "the JVM halts once the hook returns: a file made now would stay");
    }

    @Test
    void theStaticFormsCreateRegisterAndDelete() throws Exception {
        Path f = ScratchFiles.createFile(dir, "fuzz", ".img");
        Path d = ScratchFiles.createDirectory(dir, "replay");
        assertTrue(Files.isRegularFile(f));
        assertTrue(Files.isDirectory(d));
        long pid = ProcessHandle.current().pid();
        assertTrue(f.getFileName().toString().matches("dmwc-" + pid + "-fuzz-\\d+\\.img"), "named by its process: " + f);
        assertTrue(d.getFileName().toString().matches("dmwc-" + pid + "-replay-\\d+"), d.toString());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ScratchFiles.createFile(dir, "x-", ".img"),
                "a name no later run would recognise as dmwc's");
        Path w = d.resolve("image");
        ScratchFiles.write(w, new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(w));
        ScratchFiles.delete(w);
        ScratchFiles.delete(f);
        ScratchFiles.delete(d);
        assertFalse(Files.exists(f));
        assertFalse(Files.exists(d));
    }

    /**
     * Scratch files that a process killed with SIGKILL left behind are removed by the next run that
     * makes its own there: only dmwc's own names, only when their process is gone, and a directory
     * only when it holds nothing but files.
     */
    @Test
    void theScratchDevicesOfAProcessThatIsGoneAreRemoved() throws Exception {
        long gone = 4_194_000;
        while (ProcessHandle.of(gone).isPresent()) {
            gone--;
        }
        long alive = ProcessHandle.current().pid();
        Path o = Files.write(dir.resolve("dmwc-" + gone + "-origin.img"), new byte[3 << 20]);
        Path copy = Files.createFile(dir.resolve("dmwc-" + gone + "-bench-copy123.img"));
        Path mine = Files.createFile(dir.resolve("dmwc-" + alive + "-cache.img"));
        Path notOurs = Files.createFile(dir.resolve("dmwc-" + gone + "-notes.txt"));
        Path kept = Files.createDirectory(dir.resolve("dmwc-replay-123")); // replay --keep: not named by a process
        Path replay = Files.createDirectory(dir.resolve("dmwc-" + gone + "-replay-4567"));
        Files.write(replay.resolve("origin.img"), new byte[1 << 20]);
        Files.write(replay.resolve("cache.img"), new byte[1 << 20]);
        Path stdin = Files.createDirectory(dir.resolve("dmwc-" + gone + "-stdin-89"));
        Files.write(stdin.resolve("stdin"), new byte[10]);
        Path crash = Files.createFile(dir.resolve("dmwc-" + gone + "-crash-rec-12.pmem"));
        Path mixed = Files.createDirectory(dir.resolve("dmwc-" + gone + "-replay-99")); // holds what dmwc never puts there
        Files.createDirectory(mixed.resolve("user"));
        Path linked = Files.createSymbolicLink(dir.resolve("dmwc-" + gone + "-fuzz-5.img"), o);
        Path year = Files.createFile(dir.resolve("dmwc-2024-results.json"));
        Path liveDir = Files.createDirectory(dir.resolve("dmwc-" + alive + "-replay-1"));
        Path held = Files.write(dir.resolve("dmwc-" + gone + "-cache.img"), new byte[4096]); // its process unseen here, its lock not
        Path heldDir = Files.createDirectory(dir.resolve("dmwc-" + gone + "-replay-77"));
        Path heldInDir = Files.write(heldDir.resolve("cache.img"), new byte[4096]);
        java.util.List<String> said;
        dev.dmwc.daxlib.DeviceLock l1 = dev.dmwc.daxlib.DeviceLock.exclusive(held, false);
        dev.dmwc.daxlib.DeviceLock l2 = dev.dmwc.daxlib.DeviceLock.exclusive(heldInDir, false);
        try {
            said = ScratchFiles.removeStale(dir);
        } finally {
            l1.close();
            l2.close();
        }
        assertTrue(Files.exists(held) && Files.exists(heldInDir), "a device some dmwc holds open stays");
        assertFalse(Files.exists(o) || Files.exists(copy) || Files.exists(replay) || Files.exists(stdin) || Files.exists(crash),
                "what the gone process left is removed");
        assertTrue(Files.exists(mine) && Files.exists(notOurs) && Files.exists(kept) && Files.exists(mixed) && Files.exists(year)
                && Files.exists(liveDir) && Files.isSymbolicLink(linked), "the rest stays");
        assertTrue(said.size() == 5 && said.contains(o + " (3 MiB), left by dmwc process " + gone + ", which is gone")
                && said.contains(replay + " (2 MiB), left by dmwc process " + gone + ", which is gone"), said.toString());
    }

    /**
     * A scratch device deleted while its mapping lives on (a MappedByteBuffer is unmapped only when
     * the garbage collector gets to it) gives its memory back at once: the mapping's pages go.
     */
    @Test
    void aDeletedDeviceGivesItsPagesBackThoughItsMappingLives() throws Exception {
        Path f = dir.resolve("dmwc-scratch-device.img");
        MappedBlockDevice d = MappedBlockDevice.create(f, 8L << 20, false);
        java.nio.ByteBuffer w = java.nio.ByteBuffer.allocate(4096);
        d.write(0, w, false);
        d.touchAllPages();
        assertTrue(mappedKib(f) >= 8 << 10, "every page mapped before: " + mappedKib(f) + " KiB");
        d.close();
        ScratchFiles.delete(f);
        assertFalse(Files.exists(f));
        assertTrue(mappedKib(f) == 0, "pages still mapped after the delete: " + mappedKib(f) + " KiB");
        java.lang.ref.Reference.reachabilityFence(d); // its views, and so the mapping, live until here
    }

    /** Rss, in KiB, of this process's mappings of {@code f} (deleted or not), from /proc/self/smaps. */
    private static long mappedKib(Path f) throws java.io.IOException {
        long kib = 0;
        boolean in = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                in = line.contains(f.toString());
            } else if (in && line.startsWith("Rss:")) {
                kib += Long.parseLong(line.trim().split("\\s+")[1]);
            }
        }
        return kib;
    }
}
