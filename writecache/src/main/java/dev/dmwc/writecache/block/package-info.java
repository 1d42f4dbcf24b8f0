/**
 * Block I/O: {@link dev.dmwc.writecache.block.Bio} (op, sector, size, PREFLUSH/FUA/META flags,
 * payload) and {@link dev.dmwc.writecache.block.BlockDevice} with its implementations: file
 * (O_DIRECT too), mapped, memory, crashable, faulty, and throttled (a slow origin's timing:
 * {@link dev.dmwc.writecache.block.ThrottledBlockDevice}, with a disk's arm and write cache in
 * {@link dev.dmwc.writecache.block.DiskArm}). Depends on nothing else in dmwc.
 */
package dev.dmwc.writecache.block;
