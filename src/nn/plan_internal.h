/* Shared by the files of the planner and executor (plan.c: building a plan, packing, create/free; plan_passes.c:
 * graph passes (order, rewrites, dead nodes, fusion); plan_memory.c: arena placement; plan_exec.c: running a
 * plan and reading its results). Not part of the public API (nn.h). */
#ifndef MF_NN_PLAN_INTERNAL_H
#define MF_NN_PLAN_INTERNAL_H

#include "nn/ops.h"
#include "nn/pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ALIGN = 64, CHUNKS_PER_THREAD = 4 };

typedef struct {
    mf_nn_rop r;
    int node;        /* node whose value this step produces (after fusion: the last absorbed node) */
    int kind;        /* STEP_* */
    const void *in[MF_NN_MAX_INPUTS];
    void *out;
    const float *residual;
    float *packed;
} step;

enum { STEP_GENERIC = 0, STEP_CONV = 1 };

struct mf_nn_plan {
    const mf_nn_model_t *m;
    mf_nn_pool_t *pool;
    int isa, nth;
    int chunks;         /* work units per parallel step: threads take them dynamically (see run_thread) */
    atomic_int *next;   /* per step: next chunk to take */
    atomic_int *done;   /* per step: chunks finished */
    mf_nn_shape *shape; /* per node */
    int *dtype;
    const void **cdata; /* constant (model or folded) data per node, else NULL */
    int *root;          /* storage root per node (aliases point at what they reinterpret) */
    size_t *offset;     /* arena offset per root, bytes */
    void **owned;       /* plan-owned buffers */
    int n_owned, cap_owned;
    step *steps;
    int n_steps;
    uint8_t *arena;
    size_t arena_bytes, packed_bytes;
    float *scratch;
    double flops;
    size_t max_bytes, used_bytes; /* planning allocation cap and what mf_nn_plan_own() and the arena took so far */
    int over_limit;               /* mf_nn_plan_own() refused because of max_bytes */
};

static inline size_t numel(const mf_nn_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= (size_t)s->dim[i];
    return n;
}
typedef struct {
    int *consumers; /* runtime consumers per node */
    int *sole;      /* the consumer of a node that has exactly one (meaningless otherwise) */
    char *is_output;
    int *fused_into; /* node absorbed into this conv node (-1 none) */
    int *emit_at;    /* conv node: the node at whose position it runs */
    int *emit_owner; /* node -> conv emitted there (-1) */
} fuse_state;

typedef struct {
    int root;
    size_t bytes;
    int def, last;
} interval;

/* ---- functions shared between the planner's files ---- */
int mf_nn_plan_own_error(const mf_nn_plan_t *p);
void *mf_nn_plan_own(mf_nn_plan_t *p, size_t bytes);
int mf_nn_plan_topo_order(const mf_nn_model_t *m, int **order, int *n_order);
int mf_nn_plan_rewrite_prelu(mf_nn_plan_t *p, mf_nn_rop **rops, const int *order, int n_order);
int mf_nn_plan_drop_dead(const mf_nn_model_t *m, mf_nn_rop **rops, const int *order, int n_order);
int mf_nn_plan_is_conv_op(int op);
int mf_nn_plan_fuse_conv(mf_nn_plan_t *p, mf_nn_rop **rops, fuse_state *fs, int c);
int mf_nn_plan_place(interval *iv, int n, size_t *offset, size_t *total);

#endif
