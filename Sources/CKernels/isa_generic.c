/* The kernels compiled for x86-64's baseline (SSE2), or the build's target elsewhere; see isa.h. */
#include "isa.h"

#define TX_ISA generic
#define TX_ISA_NAME "generic"
#include "isa_sources.h"
#include "isa_table.h"
