// SPDX-License-Identifier: GPL-2.0-only
/*
 * libdmwcnative - persistence primitives for dmwc's daxlib (x86-64).
 *
 * The kernel's pmem API on x86 in user space:
 *   dmwc_flush()                      arch_wb_cache_pmem: write back every 64-byte line
 *                                     with the best instruction the CPU has (clwb > clflushopt > clflush)
 *   dmwc_drain()                      pmem_wmb: sfence
 *   dmwc_memcpy_flushcache()          memcpy_flushcache: non-temporal stores, cached head/tail flushed
 *   dmwc_assign8/16()                 pmem_assign of an aligned 8- or 16-byte value: movnti only
 *                                     (what memcpy_flushcache compiles to for such sizes)
 *   dmwc_assign16_memcpy_flushcache() both in one call (an entry and its block: one return, one wait)
 *   dmwc_memcpy_flushcache_clflushopt() the dm-writecache "optimized" variant for >= 768 bytes:
 *                                     plain copy, then clflushopt of every line
 * Nothing here fences except dmwc_drain(): callers say where durability happens.
 * And one switch of the thread's protection key rights (pkey_set), for the pku backend.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cpuid.h>
#include <immintrin.h>
#include <sys/mman.h>

#define CL 64

enum {
	DMWC_F_CLFLUSH = 1 << 0,
	DMWC_F_CLFLUSHOPT = 1 << 1,
	DMWC_F_CLWB = 1 << 2,
	DMWC_F_PKU = 1 << 3,
	DMWC_F_OSPKE = 1 << 4,
	DMWC_F_SSE2 = 1 << 5,
};

enum { FLUSH_CLWB = 2, FLUSH_CLFLUSHOPT = 1, FLUSH_CLFLUSH = 0 };

static int flush_method = -1;

int dmwc_cpu_features(void)
{
	unsigned a, b, c, d;
	int f = 0;
	if (__get_cpuid(1, &a, &b, &c, &d)) {
		if (d & (1u << 19))
			f |= DMWC_F_CLFLUSH;
		if (d & (1u << 26))
			f |= DMWC_F_SSE2;
	}
	if (__get_cpuid_max(0, NULL) >= 7) {
		__cpuid_count(7, 0, a, b, c, d);
		if (b & (1u << 23))
			f |= DMWC_F_CLFLUSHOPT;
		if (b & (1u << 24))
			f |= DMWC_F_CLWB;
		if (c & (1u << 3))
			f |= DMWC_F_PKU;
		if (c & (1u << 4))
			f |= DMWC_F_OSPKE;
	}
	return f;
}

static int method(void)
{
	if (flush_method < 0) {
		int f = dmwc_cpu_features();
		flush_method = (f & DMWC_F_CLWB) ? FLUSH_CLWB
			     : (f & DMWC_F_CLFLUSHOPT) ? FLUSH_CLFLUSHOPT : FLUSH_CLFLUSH;
	}
	return flush_method;
}

int dmwc_flush_method(void)
{
	return method();
}

__attribute__((target("clwb"))) static void flush_clwb(char *p, char *end)
{
	for (; p < end; p += CL)
		_mm_clwb(p);
}

__attribute__((target("clflushopt"))) static void flush_clflushopt(char *p, char *end)
{
	for (; p < end; p += CL)
		_mm_clflushopt(p);
}

static void flush_clflush(char *p, char *end)
{
	for (; p < end; p += CL)
		_mm_clflush(p);
}

void dmwc_flush(void *addr, size_t len)
{
	if (!len)
		return;
	char *p = (char *)((uintptr_t)addr & ~(uintptr_t)(CL - 1));
	char *end = (char *)addr + len;
	switch (method()) {
	case FLUSH_CLWB:
		flush_clwb(p, end);
		break;
	case FLUSH_CLFLUSHOPT:
		flush_clflushopt(p, end);
		break;
	default:
		flush_clflush(p, end);
	}
}

void dmwc_drain(void)
{
	_mm_sfence();
}

/* Non-temporal copy: movnti for aligned 8-byte words, the unaligned edges copied and flushed. */
void dmwc_memcpy_flushcache(void *dst, const void *src, size_t len)
{
	char *d = dst;
	const char *s = src;
	size_t head = (8 - ((uintptr_t)d & 7)) & 7;
	if (head > len)
		head = len;
	if (head) {
		memcpy(d, s, head);
		dmwc_flush(d, head);
		d += head;
		s += head;
		len -= head;
	}
	/* 64-byte blocks with eight movnti each */
	while (len >= 64) {
		long long w0, w1, w2, w3, w4, w5, w6, w7;
		memcpy(&w0, s, 8);
		memcpy(&w1, s + 8, 8);
		memcpy(&w2, s + 16, 8);
		memcpy(&w3, s + 24, 8);
		memcpy(&w4, s + 32, 8);
		memcpy(&w5, s + 40, 8);
		memcpy(&w6, s + 48, 8);
		memcpy(&w7, s + 56, 8);
		_mm_stream_si64((long long *)d, w0);
		_mm_stream_si64((long long *)(d + 8), w1);
		_mm_stream_si64((long long *)(d + 16), w2);
		_mm_stream_si64((long long *)(d + 24), w3);
		_mm_stream_si64((long long *)(d + 32), w4);
		_mm_stream_si64((long long *)(d + 40), w5);
		_mm_stream_si64((long long *)(d + 48), w6);
		_mm_stream_si64((long long *)(d + 56), w7);
		d += 64;
		s += 64;
		len -= 64;
	}
	while (len >= 8) {
		long long w;
		memcpy(&w, s, 8);
		_mm_stream_si64((long long *)d, w);
		d += 8;
		s += 8;
		len -= 8;
	}
	if (len) {
		memcpy(d, s, len);
		dmwc_flush(d, len);
	}
}

void dmwc_memcpy_flushcache_clflushopt(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
	if (method() == FLUSH_CLFLUSH)
		dmwc_flush(dst, len);
	else
		flush_clflushopt((char *)((uintptr_t)dst & ~(uintptr_t)(CL - 1)), (char *)dst + len);
}

void dmwc_assign8(void *dst, int64_t v)
{
	_mm_stream_si64((long long *)dst, v);
}

void dmwc_assign16(void *dst, int64_t lo, int64_t hi)
{
	_mm_stream_si64((long long *)dst, lo);
	_mm_stream_si64((long long *)dst + 1, hi);
}

void dmwc_assign16_memcpy_flushcache(void *entry, int64_t lo, int64_t hi, void *dst, const void *src, size_t len)
{
	dmwc_assign16(entry, lo, hi);
	dmwc_memcpy_flushcache(dst, src, len);
}

void dmwc_memcpy(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
}

/*
 * JNI entry points of the hot primitives, for class dev.dmwc.daxlib.JniPmem. A JNA direct call
 * costs a few hundred nanoseconds on the machines measured (argument dispatch, IsInstanceOf and
 * ExceptionCheck per call), as much as a 4 KiB non-temporal copy; a JNI static method with
 * primitive arguments costs a few. Only primitives cross, so no jni.h is needed: the arguments
 * are (JNIEnv *, jclass, jlong...), and jlong is int64_t on x86-64.
 */
#define DMWC_JNI(name) __attribute__((visibility("default"))) void Java_dev_dmwc_daxlib_JniPmem_##name

DMWC_JNI(flush)(void *env, void *cls, int64_t addr, int64_t len)
{
	(void)env;
	(void)cls;
	dmwc_flush((void *)(uintptr_t)addr, (size_t)len);
}

DMWC_JNI(drain)(void *env, void *cls)
{
	(void)env;
	(void)cls;
	_mm_sfence();
}

DMWC_JNI(memcpyFlushcache)(void *env, void *cls, int64_t dst, int64_t src, int64_t len)
{
	(void)env;
	(void)cls;
	dmwc_memcpy_flushcache((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, (size_t)len);
}

DMWC_JNI(memcpy)(void *env, void *cls, int64_t dst, int64_t src, int64_t len)
{
	(void)env;
	(void)cls;
	memcpy((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, (size_t)len);
}

DMWC_JNI(assign8)(void *env, void *cls, int64_t dst, int64_t v)
{
	(void)env;
	(void)cls;
	dmwc_assign8((void *)(uintptr_t)dst, v);
}

DMWC_JNI(assign16)(void *env, void *cls, int64_t dst, int64_t lo, int64_t hi)
{
	(void)env;
	(void)cls;
	dmwc_assign16((void *)(uintptr_t)dst, lo, hi);
}

DMWC_JNI(assign16MemcpyFlushcache)(void *env, void *cls, int64_t entry, int64_t lo, int64_t hi, int64_t dst,
				   int64_t src, int64_t len)
{
	(void)env;
	(void)cls;
	dmwc_assign16_memcpy_flushcache((void *)(uintptr_t)entry, lo, hi, (void *)(uintptr_t)dst,
					(const void *)(uintptr_t)src, (size_t)len);
}

/*
 * JNI entry point of the pku backend's window switch, for class dev.dmwc.daxlib.JniPkeys: glibc's
 * pkey_set (RDPKRU, then WRPKRU of the thread's register with the key's two bits replaced). A
 * bracketed access switches it twice; through JNA that was two generic dispatches per access.
 */
__attribute__((visibility("default"))) int32_t Java_dev_dmwc_daxlib_JniPkeys_set(void *env, void *cls, int32_t pkey,
									     int32_t rights)
{
	(void)env;
	(void)cls;
	return pkey_set(pkey, (unsigned int)rights);
}
