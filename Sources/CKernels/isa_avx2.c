/* The kernels compiled for AVX2 and FMA (Haswell on, Zen); see isa.h. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isa.h"
#include "tx_blas.h"

#define TX_ISA avx2
#define TX_ISA_NAME "avx2"
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#endif
/* The attention's micro-kernel: vectors of 8 floats, tiles of 6 rows (see kernels.c). */
#define TX_GEMM_WIDTH 8
#define TX_GEMM_ROWS 6
#include "vector_math.h"
#include "elementwise.c"
#include "reductions.c"
#include "kernels.c"
#if defined(__x86_64__)
#pragma clang attribute pop
#endif
#include "isa_table.h"
