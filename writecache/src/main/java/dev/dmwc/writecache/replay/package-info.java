/**
 * Trace replay through the write-back cache: {@link dev.dmwc.writecache.replay.Replayer} (a
 * pre-scan for the extent and bad lines, devices on sparse files, the replay in trace time with
 * verification against a per-sector model), {@link dev.dmwc.writecache.replay.ReplayReport} (the
 * table and the JSON form).
 */
package dev.dmwc.writecache.replay;
