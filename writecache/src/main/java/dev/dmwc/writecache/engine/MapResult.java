package dev.dmwc.writecache.engine;

/** {@code enum wc_map_op}: what DM core does with a bio after {@code map}. */
public enum MapResult {
    /** Completed by the target ({@code bio_endio}). */
    SUBMIT,
    /** Redirected to the cache device at {@code bio.remapSector}. */
    REMAP,
    /** Sent to the origin at the same sector. */
    REMAP_ORIGIN,
    /** Offloaded (ssd flush thread); the engine already completed it, status in the bio's result. */
    RETURN,
    /** Failed with EIO. */
    ERROR
}
