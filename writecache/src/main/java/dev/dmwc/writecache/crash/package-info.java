/**
 * Crash exploration ({@code dmwc crashtest}): random workloads on crashable devices, power cuts
 * after every operation, many crash states per cut (pmem: daxlib's crash domain; ssd: any subset
 * of unflushed writes), recovery, and each mode's guarantee checked against a model. The
 * guarantees are written down in RELIABILITY.md.
 */
package dev.dmwc.writecache.crash;
