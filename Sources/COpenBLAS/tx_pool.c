/* tx's pool of threads (see tx_pool.h). Each worker has its own ticket, which the caller
 * bumps to hand it the current job; the worker spins for a while on its ticket, because
 * the next job of a training step usually comes within microseconds, and then sleeps on
 * it (a futex), so that an idle REPL costs nothing. The caller does its own share, then
 * waits the same way until the workers it used have counted themselves done. */
#define _GNU_SOURCE
#include "tx_pool.h"
#include "tx_blas.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void relax(void) { _mm_pause(); }
#else
static inline void relax(void) {}
#endif

enum { MOST_THREADS = 64 };

/* One cache line per worker, so that bumping one ticket does not disturb the others. */
struct worker {
    _Alignas(64) atomic_uint ticket;
    atomic_int sleeping;
    pthread_t thread;
};

static struct worker workers[MOST_THREADS];
static int started;              /* workers running: indices 1..started */
static pthread_once_t start_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER;

/* The current job, written by the caller before it bumps the tickets. */
static void (*job_body)(void *, int);
static void *job_context;
static atomic_uint remaining;    /* workers of the current job not yet done */
static atomic_int caller_sleeping;

static long spin_nanoseconds(void) {
    static long cached = -1;
    if (cached < 0) {
        const char *text = getenv("TX_POOL_SPIN_US");
        long us = text && *text ? atol(text) : 200;
        cached = (us < 0 ? 0 : us) * 1000;
    }
    return cached;
}

static long elapsed_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000000000L + (now.tv_nsec - start->tv_nsec);
}

static void futex_wait(atomic_uint *word, unsigned expected) {
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(atomic_uint *word) {
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* Waits until *word differs from `old` (spinning first, then sleeping with `sleeping`
 * raised, so that the writer knows to wake it) and returns the new value. */
static unsigned wait_for_change(atomic_uint *word, unsigned old, atomic_int *sleeping) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long limit = spin_nanoseconds();
    for (unsigned spins = 1;; spins++) {
        unsigned value = atomic_load_explicit(word, memory_order_acquire);
        if (value != old) return value;
        if ((spins & 255) != 0 || elapsed_since(&start) < limit) {
            relax();
            continue;
        }
        atomic_store(sleeping, 1);
        while ((value = atomic_load(word)) == old) futex_wait(word, old);
        atomic_store(sleeping, 0);
        return value;
    }
}

static void *work(void *argument) {
    int index = (int)(intptr_t)argument;
    struct worker *self = &workers[index];
    /* Tickets start at 0 before the thread does, and only a job bumps them: a job handed
     * over before this thread ran is still seen. */
    unsigned seen = 0;
    for (;;) {
        seen = wait_for_change(&self->ticket, seen, &self->sleeping);
        job_body(job_context, index);
        if (atomic_fetch_sub(&remaining, 1) == 1 && atomic_load(&caller_sleeping)) futex_wake(&remaining);
    }
    return NULL;
}

static void start(void) {
    int wanted = tx_pool_threads();
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    for (int t = 1; t < wanted && t < MOST_THREADS; t++) {
        atomic_init(&workers[t].ticket, 0);
        atomic_init(&workers[t].sleeping, 0);
        if (pthread_create(&workers[t].thread, &attributes, work, (void *)(intptr_t)t) != 0) break;
        started = t;
    }
    pthread_attr_destroy(&attributes);
}

void tx_pool_run(int threads, void (*body)(void *context, int t), void *context) {
    if (threads > MOST_THREADS) threads = MOST_THREADS;
    if (threads > 1) pthread_once(&start_once, start);
    if (threads <= 1 || started == 0 || pthread_mutex_trylock(&busy) != 0) {
        for (int t = 0; t < threads || t == 0; t++) body(context, t);
        return;
    }
    int helpers = threads - 1 < started ? threads - 1 : started;
    job_body = body;
    job_context = context;
    atomic_store(&remaining, (unsigned)helpers);
    for (int t = 1; t <= helpers; t++) {
        atomic_fetch_add_explicit(&workers[t].ticket, 1, memory_order_seq_cst);
        if (atomic_load(&workers[t].sleeping)) futex_wake(&workers[t].ticket);
    }
    body(context, 0);
    /* Shares the pool could not take (more asked for than started) run here. */
    for (int t = helpers + 1; t < threads; t++) body(context, t);
    /* Each worker that finishes changes `remaining`: wait for the next change, the way
     * the workers wait for their tickets, until none is left. */
    for (unsigned left; (left = atomic_load_explicit(&remaining, memory_order_acquire)) != 0;)
        wait_for_change(&remaining, left, &caller_sleeping);
    pthread_mutex_unlock(&busy);
}
