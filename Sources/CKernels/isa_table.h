/* The end of each isa_*.c: the table of the entry points just compiled. */
#define TX_UNARY_ENTRY(name) .name = TX_KERNEL(name),
#define TX_OTHER_ENTRY(result, name, parameters, arguments) .name = TX_KERNEL(name),
#define TX_ROW_ENTRY(name, parameters) .name = TX_KERNEL(name),
const struct tx_kernel_table TX_KERNEL(tx_kernel_table) = {
    .name = TX_ISA_NAME,
    TX_UNARY_KERNELS(TX_UNARY_ENTRY) TX_OTHER_KERNELS(TX_OTHER_ENTRY) TX_ROW_KERNELS(TX_ROW_ENTRY)
};
#undef TX_UNARY_ENTRY
#undef TX_OTHER_ENTRY
#undef TX_ROW_ENTRY
