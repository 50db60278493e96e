/* The AVX-512 kernels' layout compiled for AVX2 and FMA: vectors of 16 floats and tiles
 * of 12 rows, as in isa_avx512.c, which clang lowers to pairs of 8-wide operations. It
 * runs the AVX-512 build's tiles, packed panels, scratch layout and edge handling (its
 * arithmetic too: both contract to FMA) on any AVX2 machine, for tests; it is never
 * chosen by the CPU's features, and is not offered to users. See isa.h. */
#include "isa.h"

#define TX_ISA avx512_layout
#define TX_ISA_NAME "avx512-layout"
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#endif
/* The attention's micro-kernel as isa_avx512.c's: vectors of 16 floats, tiles of 12 rows. */
#define TX_GEMM_WIDTH 16
#define TX_GEMM_ROWS 12
#include "isa_sources.h"
#if defined(__x86_64__)
#pragma clang attribute pop
#endif
#include "isa_table.h"
