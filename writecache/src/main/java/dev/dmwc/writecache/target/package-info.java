/**
 * The device-mapper side: the table line with the kernel's error texts
 * ({@link dev.dmwc.writecache.target.TableParser}), and the target as DM core drives it
 * ({@link dev.dmwc.writecache.target.WritecacheTarget}: ctr, resume, bio submission with
 * {@code dm_accept_partial_bio} splitting, flush bios, status and table output, messages,
 * suspend, remove).
 */
package dev.dmwc.writecache.target;
