/**
 * The dm-writecache port: {@link dev.dmwc.writecache.engine.Writecache} holds the target state and
 * the kernel's logic (map, commit, autocommit, discard, writeback selection and completion,
 * suspend, resume = recovery) with the kernel's names; {@code Entries} the struct-of-arrays entry
 * table with its red-black tree and lists; {@code MemoryMap} the metadata area (pmem through
 * daxlib's door, ssd as a RAM copy with the dirty bitmap); {@link dev.dmwc.writecache.engine.Scheduler}
 * the background contexts; {@link dev.dmwc.writecache.engine.Jiffies} the kernel's clock (HZ=250)
 * and timer wheel, on which the target's times and timers run. Depends on {@code format}, {@code block} and daxlib; knows nothing of
 * table-line parsing or the tools.
 *
 * <p>architecture.md §3 lists {@code writeback} and {@code recovery} as packages of their own. They
 * live here instead, as the sections "writeback" and "suspend / resume" of {@code Writecache}: like
 * the kernel's one file, they work on the target's state under {@code wc_lock} (the tree, the lists,
 * the freelist, the counters), and a package of their own would have to make all of that public.
 */
package dev.dmwc.writecache.engine;
