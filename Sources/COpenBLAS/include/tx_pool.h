// tx's threads: one pool of workers, started once, shared by every parallel kernel and by
// the matrix products, which tx splits between them itself (OpenBLAS then runs each piece
// on the calling thread). A pool that is started once and waits between jobs costs a
// few microseconds per job, where starting threads for every job cost tens, and keeps
// one owner deciding how many threads run at a time.
#ifndef TX_POOL_H
#define TX_POOL_H
#ifdef __cplusplus
extern "C" {
#endif
/// The most threads a job runs on: OpenBLAS's own count when the library was loaded
/// (OPENBLAS_NUM_THREADS, else one per core this process may run on), at most 64.
/// Attention uses at most 8 of them.
int tx_pool_threads(void);
/// Runs body(context, t) once for each t in 0..<threads: t = 0 on the calling thread, the
/// others on the pool's workers; returns when all have returned. When the pool is busy
/// (a job started from inside a job, or from two threads at once), every t runs on the
/// calling thread in turn, so a body must not wait for another t.
void tx_pool_run(int threads, void (*body)(void *context, int t), void *context);
#ifdef __cplusplus
}
#endif
#endif
