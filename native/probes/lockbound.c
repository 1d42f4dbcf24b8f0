/*
 * lockbound: what one lock per write allows on this machine, with no engine at all.
 *
 * dm-writecache maps every bio under one lock (wc_lock) and, in doing so, writes a handful of
 * cache lines that the other CPU wrote a moment before (the lock word, counters, list heads, the
 * new entry's neighbours). This probe measures that shape in plain C, as the ceiling any port of it
 * can reach here (`dmwc bench` absorb, BENCHMARKS.md "Absorb, session 20"):
 *
 *   1. one-way latency of a cache line between two threads (ping-pong on one line);
 *   2. two threads, each op a 4 KiB copy to a random page of a 256 MiB /dev/shm mapping, beside
 *      the same with a spin lock taken first and K shared lines read-modify-written under it, one
 *      after another (each load depends on the one before, like a walk of the engine's state);
 *      "outside" copies after the unlock (ssd mode), "inside" before it (pmem mode copies under
 *      wc_lock). Each figure is printed as a ratio to the lock-free copy of the same round.
 *
 * Not part of the build. Run:  gcc -O2 -pthread native/probes/lockbound.c -o /tmp/lockbound && /tmp/lockbound
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAP_BYTES (256L << 20)
#define PAGE 4096L
#define OPS_PER_THREAD 400000L
#define PING_PONGS 2000000L
#define MAX_LINES 32

static char *mapping;
static int shared_lines;   /* K */
static int locked;         /* take the lock at all */
static int copy_inside;    /* copy while holding it */

static _Alignas(64) atomic_int lock_word;
static _Alignas(64) long state[MAX_LINES][8]; /* one line each */
static _Alignas(64) atomic_long ball;

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *returner(void *unused) {
    (void) unused;
    for (long i = 0; i < PING_PONGS; i++) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 1) {
        }
        atomic_store_explicit(&ball, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static double one_way_ns(void) {
    pthread_t t;
    atomic_store(&ball, 0);
    pthread_create(&t, NULL, returner, NULL);
    double t0 = seconds();
    for (long i = 0; i < PING_PONGS; i++) {
        atomic_store_explicit(&ball, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 2) {
        }
    }
    double elapsed = seconds() - t0;
    pthread_join(t, NULL);
    return elapsed * 1e9 / PING_PONGS / 2;
}

static void take_lock(void) {
    for (;;) {
        int expected = 0;
        if (atomic_compare_exchange_weak(&lock_word, &expected, 1)) {
            return;
        }
        while (atomic_load_explicit(&lock_word, memory_order_relaxed)) {
            __builtin_ia32_pause();
        }
    }
}

static void *writer(void *arg) {
    unsigned long seed = (unsigned long) arg * 7919 + 1;
    char block[PAGE];
    memset(block, (int) (long) arg, sizeof block);
    for (long i = 0; i < OPS_PER_THREAD; i++) {
        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
        char *dst = mapping + (long) ((seed >> 20) % (MAP_BYTES / PAGE)) * PAGE;
        if (locked) {
            take_lock();
            long v = 0;
            for (int k = 0; k < shared_lines; k++) {
                v += state[k][0];
                state[k][0] = v + 1;
            }
            if (copy_inside) {
                memcpy(dst, block, PAGE);
            }
            atomic_store_explicit(&lock_word, 0, memory_order_release);
            if (copy_inside) {
                continue;
            }
        }
        memcpy(dst, block, PAGE);
    }
    return NULL;
}

/* Writes a second over threads x OPS_PER_THREAD. */
static double rate(int threads) {
    pthread_t t[2];
    double t0 = seconds();
    for (long i = 0; i < threads; i++) {
        pthread_create(&t[i], NULL, writer, (void *) (i + 1));
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
    }
    return threads * OPS_PER_THREAD / (seconds() - t0);
}

int main(void) {
    char path[] = "/dev/shm/lockbound-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, MAP_BYTES) != 0) {
        perror(path);
        return 1;
    }
    unlink(path);
    mapping = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mapping == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    memset(mapping, 0, MAP_BYTES); /* every page faulted in before anything is timed */

    for (int r = 0; r < 3; r++) {
        printf("round %d: line one-way %.0f ns\n", r + 1, one_way_ns());
        static const int ks[] = {0, 4, 8, 16, 32};
        for (copy_inside = 0; copy_inside <= 1; copy_inside++) {
            locked = 0;
            double base = rate(2);
            printf("  copy %-7s 2 threads, no lock %5.2f M/s |", copy_inside ? "inside" : "outside", base / 1e6);
            locked = 1;
            for (unsigned j = 0; j < sizeof ks / sizeof ks[0]; j++) {
                shared_lines = ks[j];
                printf(" K=%-2d %.2f", shared_lines, rate(2) / base);
            }
            shared_lines = 16;
            printf(" | 1 thread K=16 %.2f\n", rate(1) / base);
        }
    }
    return 0;
}
