/* The public entry points of tx_kernels.h: each calls the chosen instruction set's
 * kernel (see isa.h); elementwise functions, softmax rows and layer normalisation of
 * large tensors are spread over threads. Also the Ctrl-C flag, which is the same for
 * every instruction set. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "isa.h"
#include "tx_blas.h"
#include "tx_pool.h"

/* Instruction sets */

static int supports(const struct tx_kernel_table *table) {
#if defined(__x86_64__) && defined(__clang__)
    __builtin_cpu_init();
    if (table == &tx_kernel_table_avx512) return __builtin_cpu_supports("avx512f");
    if (table == &tx_kernel_table_avx2 || table == &tx_kernel_table_avx512_layout)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    if (table != &tx_kernel_table_generic) return 0;
#endif
    return 1;
}

/* The set named `wanted` (any case), or the newest the CPU has when it is NULL, unknown,
 * or a set the CPU lacks: then the newest older one it has. The AVX-512 layout on AVX2
 * (see isa.h) is taken only when it is named, never in another set's place. */
static const struct tx_kernel_table *named(const char *wanted) {
    static const struct tx_kernel_table *const ordered[] = {&tx_kernel_table_avx512, &tx_kernel_table_avx512_layout,
                                                            &tx_kernel_table_avx2, &tx_kernel_table_generic};
    enum { SETS = sizeof ordered / sizeof ordered[0] };
    int first = 0;
    if (wanted && *wanted)
        for (int i = 0; i < SETS; i++)
            if (strcasecmp(wanted, ordered[i]->name) == 0) first = i;
    for (int i = first; i < SETS; i++)
        if ((i == first || ordered[i] != &tx_kernel_table_avx512_layout) && supports(ordered[i])) return ordered[i];
    return &tx_kernel_table_generic;
}

static const struct tx_kernel_table *choose(void) { return named(getenv("TX_KERNELS")); }

static _Atomic(const struct tx_kernel_table *) chosen;

static const struct tx_kernel_table *kernels(void) {
    const struct tx_kernel_table *table = atomic_load_explicit(&chosen, memory_order_acquire);
    if (!table) {
        table = choose();
        atomic_store_explicit(&chosen, table, memory_order_release);
    }
    return table;
}

const char *tx_kernels_name(void) { return kernels()->name; }

#define TX_OTHER_WRAPPER(result, name, parameters, arguments) \
    result name parameters { return kernels()->name arguments; }
TX_OTHER_KERNELS(TX_OTHER_WRAPPER)
#undef TX_OTHER_WRAPPER

/* The table of `set` for one call (NULL: the chosen one). */
static const struct tx_kernel_table *table_on(const char *set) { return set ? named(set) : kernels(); }

const char *tx_attention_on(const char *set, const tx_attention_job *job, int *status) {
    const struct tx_kernel_table *table = table_on(set);
    *status = table->tx_attention(job);
    return table->name;
}

long tx_attention_scratch_on(const char *set, long block_keys, long dk, long dv, long block_rows, int weights) {
    return table_on(set)->tx_attention_scratch(block_keys, dk, dv, block_rows, weights);
}

const char *tx_attention_backward_on(const char *set, const tx_attention_backward_job *job, int *status) {
    const struct tx_kernel_table *table = table_on(set);
    *status = table->tx_attention_backward(job);
    return table->name;
}

long tx_attention_backward_scratch_on(const char *set, long nq, long dk, long dv, long block_rows, long block_keys) {
    return table_on(set)->tx_attention_backward_scratch(nq, dk, dv, block_rows, block_keys);
}

/* Threads */

/* A range job: body(context, begin, end) over [0, n) in pieces of `piece`, taken in
 * turn by the threads, which start no piece once Ctrl-C was pressed. */
struct range_job {
    void (*body)(void *context, long begin, long end);
    void *context;
    long n, piece;
    atomic_long next;
};

static void range_worker(void *argument, int t) {
    (void)t;
    struct range_job *job = argument;
    for (;;) {
        if (tx_interrupt_requested()) break;
        long begin = atomic_fetch_add(&job->next, job->piece);
        if (begin >= job->n) break;
        long end = job->n - begin < job->piece ? job->n : begin + job->piece;
        job->body(job->context, begin, end);
    }
}

/* Runs body over [0, n) on as many of the pool's threads (tx_pool.h) as there are, with at least
 * `grain` items per thread, in pieces of at most `most` items (a few milliseconds of
 * work), so that Ctrl-C, polled between pieces, stops it soon. Work below two grains
 * stays on the calling thread, in pieces of `grain`. Returns 1 when Ctrl-C stopped the
 * work, else 0. */
static int parallel_range(long n, long grain, long most, void (*body)(void *, long, long), void *context) {
    long threads = n / grain;
    if (threads > 1) {
        long available = tx_pool_threads();
        if (threads > available) threads = available;
    }
    if (threads < 1) threads = 1;
    struct range_job job = {.body = body, .context = context, .n = n};
    /* Four pieces per thread, so that a thread slowed by another process does not hold
     * up the others for long. */
    job.piece = threads > 1 ? (n + 4 * threads - 1) / (4 * threads) : grain;
    if (job.piece > most) job.piece = most;
    if (job.piece < 1) job.piece = 1;
    atomic_init(&job.next, 0);
    tx_pool_run((int)threads, range_worker, &job);
    return tx_interrupt_requested();
}

/* Elements per thread at least for the elementwise functions (about 100 us of exp),
 * and floats per thread at least for the row kernels. */
enum { ELEMENT_GRAIN = 1 << 15, ROW_GRAIN = 1 << 14 };

struct unary_context {
    void (*kernel)(const float *x, float *y, long n);
    const float *x;
    float *y;
};

static void unary_range(void *context, long begin, long end) {
    struct unary_context *c = context;
    c->kernel(c->x + begin, c->y + begin, end - begin);
}

#define TX_UNARY_WRAPPER(name)                                                 \
    void name(const float *x, float *y, long n) {                              \
        struct unary_context c = {kernels()->name, x, y};                      \
        if (n < 2 * ELEMENT_GRAIN) c.kernel(x, y, n);                          \
        else parallel_range(n, ELEMENT_GRAIN, TX_CHUNK, unary_range, &c);      \
    }
TX_UNARY_KERNELS(TX_UNARY_WRAPPER)
#undef TX_UNARY_WRAPPER

int tx_parallel_elements(long n, void (*body)(void *, long, long), void *context) {
    return parallel_range(n, ELEMENT_GRAIN, TX_CHUNK, body, context);
}

/* Rows of n floats per piece of a row kernel: TX_CHUNK floats, or one longer row. */
static long rows_per_piece(long n) { return n > 0 && n < TX_CHUNK ? TX_CHUNK / n : 1; }

struct softmax_context {
    float *x;
    long n, stride;
};

static void softmax_range(void *context, long begin, long end) {
    struct softmax_context *c = context;
    kernels()->tx_softmax_rows_range(c->x, c->n, c->stride, begin, end);
}

int tx_softmax_rows(float *x, long rows, long n, long stride) {
    struct softmax_context c = {x, n, stride};
    return parallel_range(rows, ROW_GRAIN / (n > 0 ? n : 1) + 1, rows_per_piece(n), softmax_range, &c);
}

struct layernorm_context {
    const float *x;
    float *y;
    long n;
    const float *gamma, *beta;
    float eps;
};

static void layernorm_range(void *context, long begin, long end) {
    struct layernorm_context *c = context;
    kernels()->tx_layernorm_rows_range(c->x, c->y, c->n, c->gamma, c->beta, c->eps, begin, end);
}

int tx_layernorm_rows(const float *x, float *y, long rows, long n, const float *gamma, const float *beta, float eps) {
    struct layernorm_context c = {x, y, n, gamma, beta, eps};
    return parallel_range(rows, ROW_GRAIN / (n > 0 ? n : 1) + 1, rows_per_piece(n), layernorm_range, &c);
}

struct layernorm_backward_context {
    const float *x, *g;
    float *dx, *gxhat;
    long n;
    const float *gamma, *mean, *rstd;
};

static void layernorm_backward_range(void *context, long begin, long end) {
    struct layernorm_backward_context *c = context;
    kernels()->tx_layernorm_backward_rows_range(c->x, c->g, c->dx, c->gxhat, c->n, c->gamma, c->mean, c->rstd, begin,
                                                end);
}

int tx_layernorm_backward_rows(const float *x, const float *g, float *dx, float *gxhat, long rows, long n,
                               const float *gamma, const float *mean, const float *rstd) {
    struct layernorm_backward_context c = {x, g, dx, gxhat, n, gamma, mean, rstd};
    return parallel_range(rows, ROW_GRAIN / (n > 0 ? n : 1) + 1, rows_per_piece(n), layernorm_backward_range, &c);
}

struct relu_backward_context {
    const float *g, *y;
    float *out;
};

static void relu_backward_range(void *context, long begin, long end) {
    struct relu_backward_context *c = context;
    const float *g = c->g, *y = c->y;
    float *out = c->out;
    for (long i = begin; i < end; i++) out[i] = y[i] > 0 ? g[i] : 0;
}

int tx_relu_backward(const float *g, const float *y, float *out, long n) {
    struct relu_backward_context c = {g, y, out};
    return parallel_range(n, ELEMENT_GRAIN, TX_CHUNK, relu_backward_range, &c);
}

struct rows_context {
    float *c;
    const float *row;
    long ldc, n;
    int activation;
};

static void fill_range(void *context, long begin, long end) {
    struct rows_context *c = context;
    for (long r = begin; r < end; r++) memcpy(c->c + r * c->ldc, c->row, (size_t)c->n * sizeof(float));
}

int tx_fill_rows(float *c, long rows, long n, long ldc, const float *row) {
    struct rows_context context = {.c = c, .row = row, .ldc = ldc, .n = n};
    return parallel_range(rows, ROW_GRAIN / (n > 0 ? n : 1) + 1, rows_per_piece(n), fill_range, &context);
}

static void activation_range(void *context, long begin, long end) {
    struct rows_context *c = context;
    kernels()->tx_activation_rows_range(c->c, c->ldc, c->n, c->activation, begin, end);
}

int tx_activation_rows(float *c, long rows, long n, long ldc, int activation) {
    if (activation == TX_ACTIVATION_NONE) return 0;
    struct rows_context context = {.c = c, .ldc = ldc, .n = n, .activation = activation};
    return parallel_range(rows, ROW_GRAIN / (n > 0 ? n : 1) + 1, rows_per_piece(n), activation_range, &context);
}

/* Ctrl-C */

static atomic_int interrupt_flag;

void tx_interrupt_request(void) { atomic_store_explicit(&interrupt_flag, 1, memory_order_relaxed); }
void tx_interrupt_clear(void) { atomic_store_explicit(&interrupt_flag, 0, memory_order_relaxed); }
int tx_interrupt_requested(void) { return atomic_load_explicit(&interrupt_flag, memory_order_relaxed); }

