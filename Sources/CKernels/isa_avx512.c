/* The kernels compiled for AVX-512 (with AVX2 and FMA); see isa.h. */
#include "isa.h"

#define TX_ISA avx512
#define TX_ISA_NAME "avx512"
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#endif
/* The attention's micro-kernel: vectors of 16 floats, tiles of 12 rows (see kernels.c). */
#define TX_GEMM_WIDTH 16
#define TX_GEMM_ROWS 12
#include "isa_sources.h"
#if defined(__x86_64__)
#pragma clang attribute pop
#endif
#include "isa_table.h"
