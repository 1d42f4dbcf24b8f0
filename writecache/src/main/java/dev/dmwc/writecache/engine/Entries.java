package dev.dmwc.writecache.engine;

import java.util.BitSet;

/**
 * {@code wc->entries}: one cache block each, as parallel arrays (struct-of-arrays, no object per
 * block). Index {@code i} is {@code e->index}. Holds the links of the three structures an entry
 * lives in, exactly as the kernel's {@code struct wc_entry} does:
 * <ul>
 *   <li>{@code rb_node} — the red-black tree {@code wc->tree} keyed by original sector, duplicates
 *       after their equals (in-order = insertion order);</li>
 *   <li>{@code lru} — doubly linked lists: {@code wc->lru} (head = newest), the pmem freelist
 *       (FIFO), writeback lists; sentinels are the indices {@code n + k};</li>
 *   <li>the ssd free tree ordered by index, here a {@link BitSet} with the {@code current_free} cursor.</li>
 * </ul>
 * About 44 bytes a block. Not thread-safe: the engine's lock guards it.
 */
final class Entries {
    static final int NIL = -1;
    /** List sentinels. */
    static final int LRU = 0;
    static final int FREELIST = 1;
    static final int WBL = 2;
    static final int SKIPPED = 3;
    private static final int HEADS = 4;

    private static final byte RED = 1;
    private static final byte WRITE_IN_PROGRESS = 2;
    private static final byte IN_TREE = 4;

    final int n;
    /** Cached {@code original_sector} / {@code seq_count} (DM_WRITECACHE_HANDLE_HARDWARE_ERRORS). */
    final long[] originalSector;
    final long[] seqCount;
    private final int[] left;
    private final int[] right;
    private final int[] parent;
    private final byte[] flags;
    private final int[] prev;
    private final int[] next;
    /** {@code e->age}: allocation time in ms since the engine's epoch. */
    final int[] age;
    final short[] wcListContiguous;
    private int root = NIL;

    // ssd free tree (ordered by index) and cursor
    private final BitSet freeTree;
    private int currentFree = NIL;

    /** Heap bytes an entry takes in the arrays below (and the free tree's bit), for checks before allocating. */
    static final int BYTES_PER_ENTRY = 8 + 8 + 4 + 4 + 4 + 1 + 4 + 4 + 4 + 2 + 1;

    Entries(int n, boolean sortedFreelist) {
        this.n = n;
        originalSector = new long[n];
        seqCount = new long[n];
        left = new int[n];
        right = new int[n];
        parent = new int[n];
        flags = new byte[n];
        prev = new int[n + HEADS];
        next = new int[n + HEADS];
        age = new int[n];
        wcListContiguous = new short[n];
        freeTree = sortedFreelist ? new BitSet(n) : null;
        reset();
    }

    /** Empty tree, lists and free structure (start of resume). */
    void reset() {
        root = NIL;
        treeVersion++;
        for (int h = 0; h < HEADS; h++) {
            initHead(h);
        }
        if (freeTree != null) {
            freeTree.clear();
            currentFree = NIL;
        }
        java.util.Arrays.fill(flags, (byte) 0);
    }

    // ------------------------------------------------------------------ flags

    boolean writeInProgress(int e) {
        return (flags[e] & WRITE_IN_PROGRESS) != 0;
    }

    void setWriteInProgress(int e, boolean v) {
        flags[e] = (byte) (v ? flags[e] | WRITE_IN_PROGRESS : flags[e] & ~WRITE_IN_PROGRESS);
    }

    /** Whether {@code e} is in the sector tree now (not free, not erased). */
    boolean inTree(int e) {
        return (flags[e] & IN_TREE) != 0;
    }

    // ------------------------------------------------------------------ lists (list_head)

    private void initHead(int h) {
        next[n + h] = n + h;
        prev[n + h] = n + h;
    }

    void initListNode(int e) {
        next[e] = e;
        prev[e] = e;
    }

    boolean listEmpty(int head) {
        return next[n + head] == n + head;
    }

    /** First element after the head (list.next), or NIL. */
    int first(int head) {
        int x = next[n + head];
        return x == n + head ? NIL : x;
    }

    /** Last element (list.prev), or NIL. */
    int last(int head) {
        int x = prev[n + head];
        return x == n + head ? NIL : x;
    }

    /** Next element of {@code e} toward the tail of {@code head}'s list, or NIL at the end. */
    int listNext(int head, int e) {
        int x = next[e];
        return x == n + head ? NIL : x;
    }

    int listPrev(int head, int e) {
        int x = prev[e];
        return x == n + head ? NIL : x;
    }

    private void linkBetween(int e, int p, int q) {
        next[p] = e;
        prev[e] = p;
        next[e] = q;
        prev[q] = e;
    }

    /** {@code list_add}: at the head. */
    void listAdd(int head, int e) {
        linkBetween(e, n + head, next[n + head]);
    }

    /** {@code list_add_tail}. */
    void listAddTail(int head, int e) {
        linkBetween(e, prev[n + head], n + head);
    }

    /** {@code list_del}. */
    void listDel(int e) {
        int p = prev[e];
        int q = next[e];
        next[p] = q;
        prev[q] = p;
        next[e] = e;
        prev[e] = e;
    }

    /** {@code list_move}: delete and add at the head of {@code head}. */
    void listMove(int head, int e) {
        listDel(e);
        listAdd(head, e);
    }

    /** {@code list_splice_tail(from, to)}: append all of {@code from} to the tail of {@code to}. */
    void listSpliceTail(int from, int to) {
        if (listEmpty(from)) {
            return;
        }
        int f = next[n + from];
        int l = prev[n + from];
        int at = prev[n + to];
        next[at] = f;
        prev[f] = at;
        next[l] = n + to;
        prev[n + to] = l;
        initHead(from);
    }

    // ------------------------------------------------------------------ red-black tree (rb_node)

    int root() {
        return root;
    }

    int left(int e) { return left[e]; }
    int right(int e) { return right[e]; }

    /** {@code rb_first}. */
    int rbFirst() {
        int x = root;
        if (x == NIL) {
            return NIL;
        }
        while (left[x] != NIL) {
            x = left[x];
        }
        return x;
    }

    /** {@code rb_next}. */
    int rbNext(int x) {
        if (right[x] != NIL) {
            x = right[x];
            while (left[x] != NIL) {
                x = left[x];
            }
            return x;
        }
        int p = parent[x];
        while (p != NIL && x == right[p]) {
            x = p;
            p = parent[p];
        }
        return p;
    }

    /** {@code rb_prev}. */
    int rbPrev(int x) {
        if (left[x] != NIL) {
            x = left[x];
            while (right[x] != NIL) {
                x = right[x];
            }
            return x;
        }
        int p = parent[x];
        while (p != NIL && x == left[p]) {
            x = p;
            p = parent[p];
        }
        return p;
    }

    /** Insert {@code e} keyed by {@code originalSector[e]}; equal keys go right (after). */
    void rbInsert(int e) {
        long key = originalSector[e];
        int p = NIL;
        int x = root;
        boolean goLeft = false;
        while (x != NIL) {
            p = x;
            goLeft = Long.compareUnsigned(originalSector[x], key) > 0;
            x = goLeft ? left[x] : right[x];
        }
        rbInsertAt(e, p, goLeft);
    }

    /**
     * Bumped by every insert, erase and reset: a leaf position found by a lookup is still where
     * {@link #rbInsert} would link the same key while this has not changed.
     */
    long treeVersion;

    /**
     * {@link #rbInsert} with its descent already done: link {@code e} as the {@code goLeft} child of
     * leaf position {@code p} (NIL: the empty tree's root), then rebalance.
     */
    void rbInsertAt(int e, int p, boolean goLeft) {
        treeVersion++;
        if (inTree(e)) {
            throw new IllegalStateException("rb_insert of entry " + e + ", which is already in the tree");
        }
        parent[e] = p;
        left[e] = NIL;
        right[e] = NIL;
        flags[e] |= RED | IN_TREE;
        if (p == NIL) {
            root = e;
        } else if (goLeft) {
            left[p] = e;
        } else {
            right[p] = e;
        }
        insertFixup(e);
    }

    private boolean isRed(int x) {
        return x != NIL && (flags[x] & RED) != 0;
    }

    private void setRed(int x, boolean red) {
        if (x != NIL) {
            flags[x] = (byte) (red ? flags[x] | RED : flags[x] & ~RED);
        }
    }

    private void rotateLeft(int x) {
        int y = right[x];
        right[x] = left[y];
        if (left[y] != NIL) {
            parent[left[y]] = x;
        }
        parent[y] = parent[x];
        if (parent[x] == NIL) {
            root = y;
        } else if (x == left[parent[x]]) {
            left[parent[x]] = y;
        } else {
            right[parent[x]] = y;
        }
        left[y] = x;
        parent[x] = y;
    }

    private void rotateRight(int x) {
        int y = left[x];
        left[x] = right[y];
        if (right[y] != NIL) {
            parent[right[y]] = x;
        }
        parent[y] = parent[x];
        if (parent[x] == NIL) {
            root = y;
        } else if (x == right[parent[x]]) {
            right[parent[x]] = y;
        } else {
            left[parent[x]] = y;
        }
        right[y] = x;
        parent[x] = y;
    }

    private void insertFixup(int z) {
        while (isRed(parent[z])) {
            int p = parent[z];
            int g = parent[p];
            if (p == left[g]) {
                int u = right[g];
                if (isRed(u)) {
                    setRed(p, false);
                    setRed(u, false);
                    setRed(g, true);
                    z = g;
                } else {
                    if (z == right[p]) {
                        z = p;
                        rotateLeft(z);
                        p = parent[z];
                        g = parent[p];
                    }
                    setRed(p, false);
                    setRed(g, true);
                    rotateRight(g);
                }
            } else {
                int u = left[g];
                if (isRed(u)) {
                    setRed(p, false);
                    setRed(u, false);
                    setRed(g, true);
                    z = g;
                } else {
                    if (z == left[p]) {
                        z = p;
                        rotateRight(z);
                        p = parent[z];
                        g = parent[p];
                    }
                    setRed(p, false);
                    setRed(g, true);
                    rotateLeft(g);
                }
            }
        }
        setRed(root, false);
    }

    private void transplant(int u, int v) {
        if (parent[u] == NIL) {
            root = v;
        } else if (u == left[parent[u]]) {
            left[parent[u]] = v;
        } else {
            right[parent[u]] = v;
        }
        if (v != NIL) {
            parent[v] = parent[u];
        }
    }

    /** {@code rb_erase}: in-order sequence of the others is unchanged. */
    void rbErase(int z) {
        treeVersion++;
        if (!inTree(z)) {
            // erasing a node that is not in the tree would silently cut the tree (root = NIL)
            throw new IllegalStateException("rb_erase of entry " + z + ", which is not in the tree");
        }
        int x;
        int xParent;
        boolean removedBlack;
        if (left[z] == NIL) {
            x = right[z];
            xParent = parent[z];
            removedBlack = !isRed(z);
            transplant(z, x);
        } else if (right[z] == NIL) {
            x = left[z];
            xParent = parent[z];
            removedBlack = !isRed(z);
            transplant(z, x);
        } else {
            int y = right[z];
            while (left[y] != NIL) {
                y = left[y];
            }
            removedBlack = !isRed(y);
            x = right[y];
            if (parent[y] == z) {
                xParent = y;
            } else {
                xParent = parent[y];
                transplant(y, right[y]);
                right[y] = right[z];
                parent[right[y]] = y;
            }
            transplant(z, y);
            left[y] = left[z];
            parent[left[y]] = y;
            setRed(y, isRed(z));
        }
        if (removedBlack) {
            eraseFixup(x, xParent);
        }
        left[z] = NIL;
        right[z] = NIL;
        parent[z] = NIL;
        flags[z] &= ~IN_TREE;
    }

    private void eraseFixup(int x, int xParent) {
        while (x != root && !isRed(x)) {
            if (x == left[xParent]) {
                int w = right[xParent];
                if (isRed(w)) {
                    setRed(w, false);
                    setRed(xParent, true);
                    rotateLeft(xParent);
                    w = right[xParent];
                }
                if (!isRed(left[w]) && !isRed(right[w])) {
                    setRed(w, true);
                    x = xParent;
                    xParent = parent[x];
                } else {
                    if (!isRed(right[w])) {
                        setRed(left[w], false);
                        setRed(w, true);
                        rotateRight(w);
                        w = right[xParent];
                    }
                    setRed(w, isRed(xParent));
                    setRed(xParent, false);
                    setRed(right[w], false);
                    rotateLeft(xParent);
                    x = root;
                    xParent = NIL;
                }
            } else {
                int w = left[xParent];
                if (isRed(w)) {
                    setRed(w, false);
                    setRed(xParent, true);
                    rotateRight(xParent);
                    w = left[xParent];
                }
                if (!isRed(right[w]) && !isRed(left[w])) {
                    setRed(w, true);
                    x = xParent;
                    xParent = parent[x];
                } else {
                    if (!isRed(left[w])) {
                        setRed(right[w], false);
                        setRed(w, true);
                        rotateLeft(w);
                        w = left[xParent];
                    }
                    setRed(w, isRed(xParent));
                    setRed(xParent, false);
                    setRed(left[w], false);
                    rotateRight(xParent);
                    x = root;
                    xParent = NIL;
                }
            }
        }
        setRed(x, false);
    }

    // ------------------------------------------------------------------ ssd free tree

    /** Add to the index-ordered free tree; the first entry of an empty tree becomes current_free. */
    void freeTreeAdd(int e) {
        if (currentFree == NIL) {
            currentFree = e;
        }
        freeTree.set(e);
    }

    int currentFree() {
        return currentFree;
    }

    /** Remove current_free and advance the cursor to the next index, wrapping to the first. */
    int freeTreePopCurrent() {
        int e = currentFree;
        freeTree.clear(e);
        int nx = freeTree.nextSetBit(e + 1);
        if (nx < 0) {
            nx = freeTree.nextSetBit(0);
        }
        currentFree = nx < 0 ? NIL : nx;
        return e;
    }

    // ------------------------------------------------------------------ invariants

    /**
     * The structural invariants, for tests and the stress runner: the tree is ordered by
     * (original sector) and its links agree; every list is doubly linked consistently; every entry
     * on the LRU is in the tree; no entry is both in the tree and in the ssd free tree. Returns a
     * description of the first violation, or null. O(n); never called on the I/O path.
     */
    String checkInvariants() {
        boolean[] inTree = new boolean[n];
        int count = 0;
        long prevSector = Long.MIN_VALUE;
        for (int x = rbFirst(); x != NIL; x = rbNext(x)) {
            if (inTree[x]) {
                return "tree walk revisits entry " + x;
            }
            inTree[x] = true;
            if (++count > n) {
                return "tree walk longer than the entry count";
            }
            if (Long.compareUnsigned(originalSector[x], prevSector) < 0 && prevSector != Long.MIN_VALUE) {
                return "tree out of order at entry " + x;
            }
            prevSector = originalSector[x];
            if (left[x] != NIL && parent[left[x]] != x || right[x] != NIL && parent[right[x]] != x) {
                return "tree links disagree at entry " + x;
            }
            if (!inTree(x)) {
                return "entry " + x + " is reachable in the tree but not marked as in it";
            }
            if (freeTree != null && freeTree.get(x)) {
                return "entry " + x + " is both in the tree and free";
            }
        }
        for (int h = 0; h < HEADS; h++) {
            int steps = 0;
            for (int x = next[n + h]; x != n + h; x = next[x]) {
                if (next[prev[x]] != x || prev[next[x]] != x) {
                    return "list " + h + " links disagree at entry " + x;
                }
                if (++steps > n) {
                    return "list " + h + " does not return to its head";
                }
                if (h == LRU && !inTree[x]) {
                    return "entry " + x + " is on the LRU but not in the tree";
                }
            }
        }
        return null;
    }

    /** Heap bytes per block of the arrays above (for the memory benchmark). */
    static long bytesPerBlock() {
        return 8 + 8 + 4 + 4 + 4 + 1 + 4 + 4 + 4 + 2;
    }
}
