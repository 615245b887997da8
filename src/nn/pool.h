/* Worker pool internals: run one function on every thread of the pool. */
#ifndef MF_NN_POOL_H
#define MF_NN_POOL_H

#include "mfmc/nn.h"

typedef void (*mf_nn_pool_fn)(void *ctx, int ith, int nth);

/* Runs fn(ctx, ith, nth) on every thread (the caller is ith 0) and returns when all have finished. Runs on one
 * pool are serialised. pool may be NULL: then fn(ctx, 0, 1) runs on the caller. */
void mf_nn_pool_run(mf_nn_pool_t *pool, mf_nn_pool_fn fn, void *ctx);

#endif
