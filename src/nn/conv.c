/* Fast convolutions: ISA selection, weight packing, the blocked GEMM driver (1x1 convs read A straight from the
 * NHWC input; other convs and transposed convs go through an im2col of MF_NN_GEMM_MC rows x MF_NN_GEMM_KC depth
 * into per-thread scratch), the depthwise row driver, and the portable ("scalar") micro-kernels.
 * The AVX2 micro-kernels are in conv_avx2.c. Design notes: docs/kernels.md. */
#include "nn/conv_internal.h"
#include "nn/gemm_amx.h"

/* ------------------------------------------------------------------------------------------------------------ */
/* ISA                                                                                                          */

mf_nn_isa mf_nn_isa_best(void) {
    const char *e = getenv("MFMC_ISA");
    if (e && strcmp(e, "scalar") == 0) return MF_NN_ISA_SCALAR;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return MF_NN_ISA_AVX2;
#endif
    return MF_NN_ISA_SCALAR;
}

/* GCC/Clang generic vectors: 4 lanes map to SSE/NEON registers, or to scalar code on targets without SIMD. */

isa_ops mf_nn_conv_ops_for(mf_nn_isa isa) {
    switch (isa) {
    case MF_NN_ISA_SCALAR: return (isa_ops){SCALAR_MR, mf_nn_conv_gemm_block_scalar, NULL, mf_nn_conv_dw_row_scalar};
    case MF_NN_ISA_AVX2: /* AMX: the same kernels; the plans of its large GEMMs run on tiles (gemm_plan.amx) */
    case MF_NN_ISA_AMX: return (isa_ops){MF_NN_AVX2_MR, mf_nn_gemm_block_avx2, mf_nn_gemm_pair_avx2, mf_nn_dw_row_avx2};
    }
    MF_ASSERT(!"unknown ISA");
}

void mf_nn_conv_check_isa_usable(mf_nn_isa isa) {
    MF_ASSERT(isa == MF_NN_ISA_SCALAR || isa == MF_NN_ISA_AVX2 || isa == MF_NN_ISA_AMX);
    if (isa == MF_NN_ISA_AMX) MF_ASSERT(mf_nn_gemm_amx_usable());
#if defined(__x86_64__) || defined(__i386__)
    if (isa != MF_NN_ISA_SCALAR) {
        __builtin_cpu_init();
        MF_ASSERT(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
    }
#else
    MF_ASSERT(isa == MF_NN_ISA_SCALAR);
#endif
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Conv and deconv entry points                                                                                 */

size_t mf_nn_conv2d_packed_size(const mf_nn_conv_shape *s, mf_nn_isa isa) {
    check_shape(s);
    if (mf_nn_conv2d_uses_winograd(s, isa)) return mf_nn_conv_wino_packed_size(s, isa);
    gemm_plan p = mf_nn_conv_plan_gemm(s, isa);
    return mf_nn_conv_gemm_packed_size(&p);
}

void mf_nn_conv2d_pack(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *w_hwio, const float *bias,
                       const float *alpha, const float *post, float *packed) {
    check_pack_args(s, isa, alpha, packed);
    MF_ASSERT(!s->post || post != NULL);
    if (mf_nn_conv2d_uses_winograd(s, isa)) {
        mf_nn_conv_wino_pack(s, isa, w_hwio, bias, alpha, s->post ? post : NULL, packed);
        return;
    }
    gemm_plan p = mf_nn_conv_plan_gemm(s, isa);
    pack_ctx ctx = {s, w_hwio, 0, 0};
    mf_nn_conv_gemm_pack(&p, mf_nn_conv_get_hwio, &ctx, bias, alpha, s->post ? post : NULL, packed);
}

size_t mf_nn_conv2d_scratch_size(const mf_nn_conv_shape *s, mf_nn_isa isa, int nth) {
    check_shape(s);
    MF_ASSERT(nth >= 1);
    if (mf_nn_conv2d_uses_winograd(s, isa)) return mf_nn_conv_wino_slice(s, nth) * (size_t)nth;
    gemm_plan p = mf_nn_conv_plan_gemm(s, isa);
    return mf_nn_conv_gemm_scratch_size(&p, nth);
}

void mf_nn_conv2d_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                      const float *residual, float *out, float *scratch, int ith, int nth) {
    check_shape(s);
    MF_ASSERT(nth >= 1 && ith >= 0 && ith < nth);
    check_aligned(packed);
    if (mf_nn_conv2d_uses_winograd(s, isa))
        mf_nn_conv_wino_run(s, isa, packed, in, residual, out, scratch, ith, nth);
    else
        mf_nn_conv_gemm_run(s, isa, packed, in, residual, out, scratch, ith, nth);
}

/* Transposed conv: one packed GEMM per output class c = ry*sw + rx, each rounded to 16 floats (64 bytes). */
