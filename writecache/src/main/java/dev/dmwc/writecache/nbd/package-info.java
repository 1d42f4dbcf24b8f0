/**
 * {@code dmwc serve}: the cache as an NBD export (fixed newstyle) for fio, qemu-img, nbdcopy and
 * nbdinfo. {@link dev.dmwc.writecache.nbd.EngineLoop} owns the target: one thread runs every
 * engine call and advances the engine's clock with the wall clock, so autocommit, max_age and
 * writeback timers fire as in the kernel; {@link dev.dmwc.writecache.nbd.NbdServer} speaks the
 * protocol, one reader thread per connection, requests pipelined into the engine loop.
 */
package dev.dmwc.writecache.nbd;
