/**
 * The on-media format of dm-writecache, byte for byte: {@link dev.dmwc.writecache.format.SuperblockLayout},
 * {@link dev.dmwc.writecache.format.EntryLayout}, {@link dev.dmwc.writecache.format.MemoryLayout}
 * ({@code calculate_memory_size}). Knows nothing of the engine.
 */
package dev.dmwc.writecache.format;
