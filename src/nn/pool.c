#include "nn/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* An idle worker spins SPIN_BEFORE_SLEEP pauses (about 0.1 ms: back-to-back runs) and then sleeps on the condition
 * variable. It used to sched_yield() up to 200,000 more times first (35-43 ms of CPU): on this project's 2-vCPU
 * virtual machines that spinning cost the busy thread time (demo photo 1's analysis stage 405 -> 321 ms wall, the photo
 * 0.85x, the results identical: docs/engine.md, "The pool's idle workers"). The caller waiting for its workers' shares
 * of a run does the same: SPIN_BEFORE_SLEEP pauses, then it sleeps until the last worker signals done_cv. */
enum { SPIN_BEFORE_SLEEP = 2000 };

struct mf_nn_pool {
    int n;
    pthread_t th[MF_NN_MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_cond_t done_cv; /* the caller sleeps here for its workers' shares */
    pthread_mutex_t run_mu;
    mf_nn_pool_fn fn;
    void *ctx;
    atomic_uint gen;
    atomic_int pending;
    atomic_int stop;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker(void *p) {
    mf_nn_pool_t *pool = ((void **)p)[0];
    int ith = (int)(intptr_t)((void **)p)[1];
    free(p);
    unsigned seen = 0; /* gen is 0 at creation; reading it here could miss a run started before we got here */
    for (;;) {
        /* spin briefly (back-to-back runs), then sleep on the condition variable */
        unsigned g;
        long spins = 0;
        while ((g = atomic_load_explicit(&pool->gen, memory_order_acquire)) == seen && !atomic_load(&pool->stop)) {
            if (++spins < SPIN_BEFORE_SLEEP) cpu_relax();
            else {
                pthread_mutex_lock(&pool->mu);
                while (atomic_load(&pool->gen) == seen && !atomic_load(&pool->stop))
                    pthread_cond_wait(&pool->cv, &pool->mu);
                pthread_mutex_unlock(&pool->mu);
            }
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = g;
        pool->fn(pool->ctx, ith, pool->n);
        if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool->mu); /* the caller checks pending under mu before it sleeps */
            pthread_cond_broadcast(&pool->done_cv);
            pthread_mutex_unlock(&pool->mu);
        }
    }
}

int mf_nn_pool_create(int nthreads, mf_nn_pool_t **out) {
    *out = NULL;
    if (nthreads <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = c > 0 ? (int)c : 1;
    }
    if (nthreads > MF_NN_MAX_THREADS) nthreads = MF_NN_MAX_THREADS;
    mf_nn_pool_t *p = calloc(1, sizeof *p);
    if (!p) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    p->n = nthreads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    pthread_mutex_init(&p->run_mu, NULL);
    for (int i = 1; i < nthreads; i++) {
        void **arg = malloc(2 * sizeof(void *));
        if (arg) {
            arg[0] = p;
            arg[1] = (void *)(intptr_t)i;
        }
        if (!arg || pthread_create(&p->th[i], NULL, worker, arg)) {
            free(arg);
            p->n = i; /* join the ones that started */
            mf_nn_pool_free(p);
            return mf_error_set(MF_ERR_NOMEM, "cannot start worker thread %d", i);
        }
    }
    *out = p;
    return MF_OK;
}

void mf_nn_pool_free(mf_nn_pool_t *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->th[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->run_mu);
    free(p);
}

int mf_nn_pool_threads(const mf_nn_pool_t *p) { return p ? p->n : 1; }

void mf_nn_pool_run(mf_nn_pool_t *p, mf_nn_pool_fn fn, void *ctx) {
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->run_mu);
    p->fn = fn;
    p->ctx = ctx;
    atomic_store(&p->pending, p->n - 1);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0, p->n);
    long spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) {
        if (++spins < SPIN_BEFORE_SLEEP) cpu_relax();
        else {
            pthread_mutex_lock(&p->mu);
            while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) pthread_cond_wait(&p->done_cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
    }
    pthread_mutex_unlock(&p->run_mu);
}
