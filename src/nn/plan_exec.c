/* The executor: runs a plan's steps on the pool (dynamic chunks, a barrier between steps) and hands out its
 * inputs, outputs and statistics. */
#include "nn/plan_internal.h"

#include <pthread.h>
#include <stdlib.h>

static void exec_step(const mf_nn_plan_t *p, const step *s, int ith, int nth) {
    if (s->kind == STEP_CONV) {
        const mf_nn_rop *r = &s->r;
        if (r->conv_kind == MF_NN_CK_DW)
            mf_nn_dwconv2d_run(&r->cs, p->isa, s->packed, s->in[0], s->residual, s->out, p->scratch, ith, nth);
        else if (r->conv_kind == MF_NN_CK_DECONV)
            mf_nn_deconv2d_run(&r->cs, p->isa, s->packed, s->in[0], s->residual, s->out, p->scratch, ith, nth);
        else
            mf_nn_conv2d_run(&r->cs, p->isa, s->packed, s->in[0], s->residual, s->out, p->scratch, ith, nth);
    } else {
        mf_nn_rop_eval(&s->r, s->in, s->out, ith, nth);
    }
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct {
    mf_nn_plan_t *p;
    double *step_ms; /* NULL unless profiling */
} run_ctx;

/* Each step is cut into p->chunks work units (the kernels' (ith, nth) partition with nth = chunks) that threads
 * take from a per-step counter; a thread moves to the next step once every unit of this one is finished. A
 * thread the OS preempts therefore delays the others by at most the unit it holds, instead of a static half of
 * every step plus a barrier (measured: on a loaded 2-core machine, static halves made 2 threads slower than 1). */
/* Denormal floats (tiny weights, decaying activations) make x86 arithmetic up to 100x slower: one model spent
 * 46 ms instead of 0.1 ms in a single 1x1 conv. Runs flush them to zero (FTZ + DAZ), restoring the caller's
 * mode afterwards; the effect on results is below 1e-37. */
static unsigned fp_fast_enter(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040); /* FTZ (bit 15) | DAZ (bit 6) */
    return old;
#else
    return 0;
#endif
}

static void fp_fast_leave(unsigned old) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(old);
#else
    (void)old;
#endif
}

static void run_thread(void *ctx, int ith, int nth) {
    run_ctx *rc = ctx;
    mf_nn_plan_t *p = rc->p;
    (void)nth;
    unsigned fp = fp_fast_enter();
    int C = p->chunks;
    double t = ith == 0 && rc->step_ms ? now_ms() : 0;
    for (int k = 0; k < p->n_steps; k++) {
        int c;
        while ((c = atomic_fetch_add_explicit(&p->next[k], 1, memory_order_relaxed)) < C) {
            exec_step(p, &p->steps[k], c, C);
            atomic_fetch_add_explicit(&p->done[k], 1, memory_order_release);
        }
        long spins = 0;
        while (atomic_load_explicit(&p->done[k], memory_order_acquire) < C)
            if (++spins > 1000) sched_yield();
        if (ith == 0 && rc->step_ms) {
            double t1 = now_ms();
            rc->step_ms[k] += t1 - t;
            t = t1;
        }
    }
    fp_fast_leave(fp);
}

static void reset_counters(mf_nn_plan_t *p) {
    for (int k = 0; k < p->n_steps; k++) {
        atomic_store_explicit(&p->next[k], 0, memory_order_relaxed);
        atomic_store_explicit(&p->done[k], 0, memory_order_relaxed);
    }
}

/* ---- the process's work counter (mf_nn_work_get) ---- */

static pthread_mutex_t work_lock = PTHREAD_MUTEX_INITIALIZER;
static mf_nn_work_entry work[MF_NN_WORK_KINDS];
static int n_work;

static void work_count(const mf_nn_plan_t *p) {
    pthread_mutex_lock(&work_lock);
    int i = 0;
    while (i < n_work && work[i].flops_per_run != p->flops)
        i++;
    if (i == n_work) {
        if (n_work < MF_NN_WORK_KINDS) work[n_work++].flops_per_run = p->flops;
        else i = MF_NN_WORK_KINDS - 1; /* pooled: its flops per run stay the first kind's */
    }
    work[i].runs++;
    pthread_mutex_unlock(&work_lock);
}

void mf_nn_work_reset(void) {
    pthread_mutex_lock(&work_lock);
    n_work = 0;
    memset(work, 0, sizeof work);
    pthread_mutex_unlock(&work_lock);
}

static int by_flops_desc(const void *pa, const void *pb) {
    const mf_nn_work_entry *a = pa, *b = pb;
    return a->flops_per_run < b->flops_per_run ? 1 : a->flops_per_run > b->flops_per_run ? -1 : 0;
}

int mf_nn_work_get(mf_nn_work_entry *out, int max) {
    pthread_mutex_lock(&work_lock);
    int n = n_work < max ? n_work : max;
    if (n > 0) memcpy(out, work, (size_t)n * sizeof *out);
    pthread_mutex_unlock(&work_lock);
    if (n > 1) qsort(out, (size_t)n, sizeof *out, by_flops_desc);
    return n < 0 ? 0 : n;
}

int mf_nn_plan_run(mf_nn_plan_t *p) {
    run_ctx rc = {p, NULL};
    work_count(p);
    reset_counters(p); /* the pool's start publishes these stores to the workers */
    mf_nn_pool_run(p->pool, run_thread, &rc);
    return MF_OK;
}

int mf_nn_plan_run_timed(mf_nn_plan_t *p, double *step_ms) {
    run_ctx rc = {p, step_ms};
    work_count(p);
    reset_counters(p);
    mf_nn_pool_run(p->pool, run_thread, &rc);
    return MF_OK;
}

void mf_nn_plan_step_describe(const mf_nn_plan_t *p, int i, char *buf, size_t len) {
    MF_ASSERT(i >= 0 && i < p->n_steps);
    const step *s = &p->steps[i];
    const mf_nn_rop *r = &s->r;
    static const char *acts[] = {"", " relu", " relu6", " prelu"};
    if (s->kind == STEP_CONV) {
        const mf_nn_conv_shape *c = &r->cs;
        snprintf(buf, len, "%s %dx%d/%d %dx%dx%d->%dx%dx%d%s%s%s%s", mf_nn_op_name(r->op), c->kh, c->kw, c->sh,
                 c->ih, c->iw, c->ic, c->oh, c->ow, c->oc, c->act >= 0 && c->act < 4 ? acts[c->act] : "",
                 r->bias ? " +bias" : "", r->residual ? " +residual" : "", c->post ? " *scale+shift" : "");
    } else {
        char dims[96] = "";
        size_t o = 0;
        for (int d = 0; d < r->out_shape.ndim && o + 12 < sizeof dims; d++)
            o += (size_t)snprintf(dims + o, sizeof dims - o, "%s%d", d ? "x" : "", r->out_shape.dim[d]);
        snprintf(buf, len, "%s -> %s (%s)", mf_nn_op_name(r->op), dims, p->m->nodes[s->node].name);
    }
}

float *mf_nn_plan_input(mf_nn_plan_t *p, int i, mf_nn_shape *shape) {
    MF_ASSERT(i >= 0 && i < p->m->n_inputs);
    int id = p->m->inputs[i];
    if (shape) *shape = p->shape[id];
    return (float *)(p->arena + p->offset[p->root[id]]);
}

const float *mf_nn_plan_output(const mf_nn_plan_t *p, int i, mf_nn_shape *shape) {
    MF_ASSERT(i >= 0 && i < p->m->n_outputs);
    int id = p->m->outputs[i];
    if (shape) *shape = p->shape[id];
    if (p->cdata[id]) return p->cdata[id];
    int rt = p->root[id];
    if (p->cdata[rt]) return p->cdata[rt];
    return (const float *)(p->arena + p->offset[rt]);
}

static int name_matches(const char *node, const char *name) {
    size_t ln = strlen(node);
    return strcmp(node, name) == 0 || (strncmp(node, name, ln) == 0 && strcmp(name + ln, ":0") == 0);
}

int mf_nn_plan_output_index(const mf_nn_plan_t *p, const char *name) {
    for (int i = 0; i < p->m->n_outputs; i++)
        if (strcmp(p->m->output_names[i], name) == 0 || name_matches(p->m->nodes[p->m->outputs[i]].name, name))
            return i;
    return -1;
}

int mf_nn_plan_input_index(const mf_nn_plan_t *p, const char *name) {
    for (int i = 0; i < p->m->n_inputs; i++)
        if (name_matches(p->m->nodes[p->m->inputs[i]].name, name)) return i;
    return -1;
}

void mf_nn_plan_get_stats(const mf_nn_plan_t *p, mf_nn_plan_stats *s) {
    s->steps = p->n_steps;
    s->arena_bytes = p->arena_bytes;
    s->packed_bytes = p->packed_bytes;
    s->flops = p->flops;
}
