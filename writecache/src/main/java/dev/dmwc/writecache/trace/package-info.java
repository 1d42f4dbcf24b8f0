/**
 * Block traces: the formats people bring (blkparse text, blktrace binary, fio iolog v2/v3, MSR
 * Cambridge, SPC/UMass, Alibaba 2020, Tencent CBS, column-mapped CSV), read as streams of
 * {@link dev.dmwc.writecache.trace.TraceRecord}s with transparent gzip and format detection
 * ({@link dev.dmwc.writecache.trace.Traces}); every malformed line is reported with file:line and
 * what was expected ({@link dev.dmwc.writecache.trace.TraceFormatException}). The replayer is in
 * {@code dev.dmwc.writecache.replay}.
 */
package dev.dmwc.writecache.trace;
