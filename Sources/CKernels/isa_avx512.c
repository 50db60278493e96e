/* The kernels compiled for AVX-512 (with AVX2 and FMA); see isa.h. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isa.h"
#include "tx_blas.h"

#define TX_ISA avx512
#define TX_ISA_NAME "avx512"
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#endif
/* The attention's micro-kernel: vectors of 16 floats, tiles of 12 rows (see kernels.c). */
#define TX_GEMM_WIDTH 16
#define TX_GEMM_ROWS 12
#include "vector_math.h"
#include "elementwise.c"
#include "reductions.c"
#include "kernels.c"
#if defined(__x86_64__)
#pragma clang attribute pop
#endif
#include "isa_table.h"
