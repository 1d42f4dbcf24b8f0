/**
 * WCSCRIPT ({@code shared/kernel/WCSCRIPT.md}): {@link dev.dmwc.writecache.script.WcScript} parses
 * and normalises a script exactly as the kernel runner does, {@link dev.dmwc.writecache.script.ScriptRunner}
 * runs it against the target in virtual time and writes the transcript and images, each op taking
 * the time it takes on the kernel oracle ({@link dev.dmwc.writecache.script.OpTiming}),
 * {@link dev.dmwc.writecache.script.Pattern} makes and decodes the PATTERN data, and
 * {@link dev.dmwc.writecache.script.TraceScript} writes a block trace as a script ({@code dmwc
 * trace convert … .wcs}), for the kernel oracle and dmwc to run the same real workload.
 */
package dev.dmwc.writecache.script;
