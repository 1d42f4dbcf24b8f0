/**
 * Block I/O: {@link dev.dmwc.writecache.block.Bio} (op, sector, size, PREFLUSH/FUA/META flags,
 * payload) and {@link dev.dmwc.writecache.block.BlockDevice} with its file and memory
 * implementations. Depends on nothing else in dmwc.
 */
package dev.dmwc.writecache.block;
