/* Shared by the files of the fast convolutions (conv.c: ISA choice and the conv entry points; conv_gemm.c: the
 * blocked GEMM driver; conv_winograd.c; conv_deconv.c: transposed convs; conv_dw.c: depthwise; conv_scalar.c:
 * the portable micro-kernel). Not part of the public API; the kernel contracts are in nn/kernels.h. */
#ifndef MF_NN_CONV_INTERNAL_H
#define MF_NN_CONV_INTERNAL_H

#include "nn/kernels.h"

#include "mfmc/core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
typedef float v4f __attribute__((vector_size(16)));

static inline v4f v4_load(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void v4_store(float *p, v4f v) { memcpy(p, &v, sizeof v); }
static inline v4f v4_set1(float x) { return (v4f){x, x, x, x}; }
typedef int32_t v4i __attribute__((vector_size(16)));
static inline v4f v4_sel(v4i m, v4f a, v4f b) { return (v4f)(((v4i)a & m) | ((v4i)b & ~m)); }
static inline v4f v4_max(v4f a, v4f b) { return v4_sel(a > b, a, b); }
static inline v4f v4_min(v4f a, v4f b) { return v4_sel(a < b, a, b); }

enum { SCALAR_MR = 4 };

typedef struct {
    int mr;
    void (*gemm)(const mf_nn_gemm_block *g);
    void (*gemm2)(const mf_nn_gemm_block *g0, const mf_nn_gemm_block *g1); /* two 16-wide panels, or NULL */
    void (*dw_row)(const mf_nn_dw_row *r);
} isa_ops;
static inline void check_shape(const mf_nn_conv_shape *s) {
    MF_ASSERT(s->n >= 1 && s->ih >= 1 && s->iw >= 1 && s->ic >= 1);
    MF_ASSERT(s->oh >= 1 && s->ow >= 1 && s->oc >= 1);
    MF_ASSERT(s->kh >= 1 && s->kw >= 1 && s->sh >= 1 && s->sw >= 1 && s->dh >= 1 && s->dw >= 1);
    MF_ASSERT(s->pad_t >= 0 && s->pad_l >= 0);
    MF_ASSERT(s->act >= MF_NN_ACT_NONE && s->act <= MF_NN_ACT_PRELU);
}

static inline void check_aligned(const void *p) { MF_ASSERT(((uintptr_t)p & 63) == 0); }

static inline size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }
static inline size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

/* ------------------------------------------------------------------------------------------------------------ */
/* GEMM plan shared by conv and deconv: M = n*oh*ow rows, K = kh*kw*ic, N = oc.                                  */

typedef struct {
    size_t M, K;
    int N;
    int npanels;  /* ceil(N / 16) */
    int last_nrp; /* width of the last panel (8 or 16) */
    int direct;   /* A rows are the input pixels (1x1 stride 1, no padding) */
    int nkb;      /* number of k blocks */
    size_t kc;    /* k block depth (the last block may be shorter) */
    size_t kcp;   /* kc rounded up to 32: the depth of a k block in the AMX bf16 copy */
    int amx;      /* the packing carries the AMX bf16 copy of its weights (MF_NN_ISA_AMX and the size rule) */
} gemm_plan;

typedef float (*gemm_getter)(const void *ctx, size_t k, int n);
typedef struct {
    const mf_nn_conv_shape *s;
    const float *w;
    int ry, rx; /* deconv: output class */
} pack_ctx;

/* Small copies (im2col runs of a few floats: ic = 3 first layers) in 16-byte chunks, the last one overlapping;
 * a byte loop here cost more than the GEMM itself on 5x5 stride-2 3->24 convs. */
static inline void copy_f(float *dst, const float *src, size_t n) {
    if (n >= 32) {
        memcpy(dst, src, n * sizeof *dst);
    } else if (n >= 4) {
        float t[4];
        size_t i = 0;
        for (; i + 4 <= n; i += 4) {
            memcpy(t, src + i, sizeof t);
            memcpy(dst + i, t, sizeof t);
        }
        if (i < n) {
            memcpy(t, src + n - 4, sizeof t);
            memcpy(dst + n - 4, t, sizeof t);
        }
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] = src[i];
    }
}
static inline void zero_f(float *dst, size_t n) {
    if (n >= 32) {
        memset(dst, 0, n * sizeof *dst);
    } else if (n >= 4) {
        const float z[4] = {0, 0, 0, 0};
        size_t i = 0;
        for (; i + 4 <= n; i += 4)
            memcpy(dst + i, z, sizeof z);
        if (i < n) memcpy(dst + n - 4, z, sizeof z);
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] = 0.0f;
    }
}

static inline v4f act4(v4f v, int act, const float *alpha) {
    switch (act) {
    case MF_NN_ACT_RELU: return v4_max(v, v4_set1(0.0f));
    case MF_NN_ACT_RELU6: return v4_min(v4_max(v, v4_set1(0.0f)), v4_set1(6.0f));
    case MF_NN_ACT_PRELU: return v4_max(v, v4_set1(0.0f)) + v4_load(alpha) * v4_min(v, v4_set1(0.0f));
    default: return v;
    }
}

/* ---- functions shared between the convolution files ---- */
isa_ops mf_nn_conv_ops_for(mf_nn_isa isa);
void mf_nn_conv_check_isa_usable(mf_nn_isa isa);
gemm_plan mf_nn_conv_plan_gemm_k(const mf_nn_conv_shape *s, size_t K, mf_nn_isa isa);
gemm_plan mf_nn_conv_plan_gemm(const mf_nn_conv_shape *s, mf_nn_isa isa);
size_t mf_nn_conv_gemm_packed_size(const gemm_plan *p);
size_t mf_nn_conv_gemm_scratch_size(const gemm_plan *p, int nth);
void mf_nn_conv_gemm_pack(const gemm_plan *p, gemm_getter get, const void *ctx, const float *bias, const float *alpha,
                          const float *post, float *packed);
float mf_nn_conv_get_hwio(const void *ctx, size_t k, int n);
void mf_nn_conv_gemm_panels(const isa_ops *ops, const gemm_plan *p, const float *packed, int j0, int j1, int kb,
                            const float *a, size_t lda, int rows, float *c, size_t ldc, const float *res, int act,
                            int post);
void mf_nn_conv_gemm_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                         const float *residual, float *out, float *scratch, int ith, int nth);
size_t mf_nn_conv_wino_packed_size(const mf_nn_conv_shape *s, mf_nn_isa isa);
size_t mf_nn_conv_wino_slice(const mf_nn_conv_shape *s, int nth);
void mf_nn_conv_wino_pack(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *w_hwio, const float *bias,
                          const float *alpha, const float *post, float *packed);
void mf_nn_conv_wino_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                         const float *residual, float *out, float *scratch, int ith, int nth);
void mf_nn_conv_dw_row_scalar(const mf_nn_dw_row *r);
void mf_nn_conv_gemm_block_scalar(const mf_nn_gemm_block *g);

/* The argument checks every pack function starts with (PReLU needs its slopes). */
static inline void check_pack_args(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *alpha, const float *packed) {
    check_shape(s);
    mf_nn_conv_check_isa_usable(isa);
    check_aligned(packed);
    MF_ASSERT(s->act != MF_NN_ACT_PRELU || alpha != NULL);
}

#endif
