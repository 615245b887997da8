/* The 16-lane activation shared by the AVX-512 GEMM kernel (conv_avx512.c) and the AMX blocks' epilogue
 * (gemm_amx.c). x86 with GCC only; callers carry target("avx512f,avx2,fma") or more. */
#ifndef MF_NN_AVX512_INLINE_H
#define MF_NN_AVX512_INLINE_H

#include "nn/kernels.h"

#include <immintrin.h>

/* act(v) per lane (mf_nn_act); PReLU reads 16 slopes at alpha. */
static inline __attribute__((always_inline, target("avx512f,avx2,fma"))) __m512 mf_nn_act16(__m512 v, int act,
                                                                                            const float *alpha) {
    const __m512 z = _mm512_setzero_ps();
    switch (act) {
    case MF_NN_ACT_RELU: return _mm512_max_ps(v, z);
    case MF_NN_ACT_RELU6: return _mm512_min_ps(_mm512_max_ps(v, z), _mm512_set1_ps(6.0f));
    case MF_NN_ACT_PRELU: return _mm512_fmadd_ps(_mm512_loadu_ps(alpha), _mm512_min_ps(v, z), _mm512_max_ps(v, z));
    default: return v;
    }
}

#endif
