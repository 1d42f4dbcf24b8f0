package dev.dmwc.writecache.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The intrusive red-black tree keeps the kernel's in-order sequence: by sector, duplicates in insertion order. */
class EntriesTest {
    @Test
    void treeMatchesASortedModelUnderRandomInsertAndErase() {
        long seed = System.nanoTime();
        SplittableRandom r = new SplittableRandom(seed);
        int n = 2000;
        Entries en = new Entries(n, false);
        List<Integer> model = new ArrayList<>();   // in-order sequence
        boolean[] in = new boolean[n];
        for (int step = 0; step < 20000; step++) {
            int e = r.nextInt(n);
            if (!in[e]) {
                en.originalSector[e] = r.nextInt(300);
                en.rbInsert(e);
                int pos = 0;
                while (pos < model.size() && en.originalSector[model.get(pos)] <= en.originalSector[e]) {
                    pos++;
                }
                model.add(pos, e);
                in[e] = true;
            } else {
                en.rbErase(e);
                model.remove(Integer.valueOf(e));
                in[e] = false;
            }
            if (step % 997 == 0) {
                assertEquals(model, inorder(en), "seed " + seed + " step " + step);
            }
        }
        assertEquals(model, inorder(en), "seed " + seed);
        List<Integer> backwards = new ArrayList<>();
        for (int x = model.isEmpty() ? Entries.NIL : model.get(model.size() - 1); x != Entries.NIL; x = en.rbPrev(x)) {
            backwards.add(0, x);
        }
        assertEquals(model, backwards, "rb_prev walk, seed " + seed);
    }

    private static List<Integer> inorder(Entries en) {
        List<Integer> l = new ArrayList<>();
        for (int x = en.rbFirst(); x != Entries.NIL; x = en.rbNext(x)) {
            l.add(x);
        }
        return l;
    }

    @Test
    void ssdFreeTreeSweepsIndexOrderAndWraps() {
        Entries en = new Entries(8, true);
        en.freeTreeAdd(5);
        en.freeTreeAdd(2);
        en.freeTreeAdd(7);
        assertEquals(5, en.freeTreePopCurrent());
        assertEquals(7, en.freeTreePopCurrent());
        assertEquals(2, en.freeTreePopCurrent());
        assertEquals(Entries.NIL, en.currentFree());
    }
}
