/** The {@code dmwc} command line (picocli): one class per command, {@link dev.dmwc.writecache.cli.Main} wires them. */
package dev.dmwc.writecache.cli;
