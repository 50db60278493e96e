/* The kernels compiled for AVX2 and FMA (Haswell on, Zen); see isa.h. */
#include "isa.h"

#define TX_ISA avx2
#define TX_ISA_NAME "avx2"
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#endif
/* The attention's micro-kernel: vectors of 8 floats, tiles of 6 rows (see kernels.c). */
#define TX_GEMM_WIDTH 8
#define TX_GEMM_ROWS 6
#include "isa_sources.h"
#if defined(__x86_64__)
#pragma clang attribute pop
#endif
#include "isa_table.h"
