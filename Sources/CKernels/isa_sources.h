/* The sources every isa_*.c compiles for its instruction set (see isa.h), included
 * between its target pragmas with TX_ISA, TX_ISA_NAME and, for the attention's
 * micro-kernel, TX_GEMM_WIDTH and TX_GEMM_ROWS defined. Not a header of its own: no
 * include guard, as each isa_*.c is one translation unit. */
#include "vector_math.h"
#include "elementwise.c"
#include "reductions.c"
#include "kernels.c"
