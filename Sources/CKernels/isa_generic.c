/* The kernels compiled for x86-64's baseline (SSE2), or the build's target elsewhere; see isa.h. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isa.h"
#include "tx_blas.h"

#define TX_ISA generic
#define TX_ISA_NAME "generic"
#include "vector_math.h"
#include "elementwise.c"
#include "reductions.c"
#include "kernels.c"
#include "isa_table.h"
