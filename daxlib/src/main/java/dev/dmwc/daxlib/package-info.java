/**
 * daxlib: a DAX device on a plain file, its {@code dev_pagemap} protection (the PKS/PMEM series'
 * pgmap-based design), and the persistence primitives.
 *
 * <ul>
 *   <li>{@link dev.dmwc.daxlib.DaxDevice} — {@code struct dax_device}: mapping, {@code directAccess},
 *       {@code mapProtected()} derived from its {@link dev.dmwc.daxlib.Pgmap}.</li>
 *   <li>{@link dev.dmwc.daxlib.Pgmap} — {@code struct dev_pagemap}: {@code PGMAP_PROTECTION}, the
 *       per-thread nesting count, the chosen {@link dev.dmwc.daxlib.ProtectionKeys} backend.</li>
 *   <li>{@link dev.dmwc.daxlib.DaxAccessor} — the one door to a mapping: bounds, protection and
 *       crash-domain recording live there.</li>
 *   <li>{@link dev.dmwc.daxlib.Pmem} — {@code flush}, {@code drain}, {@code memcpyFlushcache}
 *       (native x86-64 or the Java fallback).</li>
 *   <li>{@link dev.dmwc.daxlib.CrashDomain} — which stores a power cut could lose.</li>
 * </ul>
 * This package depends on JNA and the JDK only (plus JNI into its own libdmwcnative for the three
 * hot persistence primitives, {@code JniPmem}); it knows nothing of dm-writecache.
 */
package dev.dmwc.daxlib;
