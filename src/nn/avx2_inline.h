/* Small AVX2 helpers shared by the AVX2 kernel files (conv_avx2.c, winograd_avx2.c), which are compiled with
 * -mavx2 -mfma; include only from those, inside their x86 guard. Channel tails use a prefix mask of lanes. */
#ifndef MF_NN_AVX2_INLINE_H
#define MF_NN_AVX2_INLINE_H

#include "nn/kernels.h"

#include <immintrin.h>
#include <stdint.h>

#define INLINE static inline __attribute__((always_inline))

static const int32_t mask_tab[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

/* Stores the lanes of `mk` (always a prefix: mask_first) with plain 16/8/4-byte stores: vmaskmovps stores are
 * microcoded and slow on AMD before Zen 4 (loads are fine). */
INLINE void store_first(float *p, __m256i mk, __m256 v) {
    const int n = __builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(mk)));
    __m128 h = _mm256_castps256_ps128(v);
    if (n & 4) {
        _mm_storeu_ps(p, h);
        h = _mm256_extractf128_ps(v, 1);
        p += 4;
    }
    if (n & 2) {
        _mm_storel_pi((__m64 *)(void *)p, h);
        h = _mm_movehl_ps(h, h);
        p += 2;
    }
    if (n & 1) _mm_store_ss(p, h);
}

/* Mask of the first n lanes (0 <= n <= 8). */
INLINE __m256i mask_first(int n) { return _mm256_loadu_si256((const __m256i *)(mask_tab + 8 - n)); }

INLINE __m256 act8(__m256 v, int act, const float *alpha) {
    switch (act) {
    case MF_NN_ACT_RELU: return _mm256_max_ps(v, _mm256_setzero_ps());
    case MF_NN_ACT_RELU6: return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(6.0f));
    case MF_NN_ACT_PRELU:
        return _mm256_fmadd_ps(_mm256_loadu_ps(alpha), _mm256_min_ps(v, _mm256_setzero_ps()),
                               _mm256_max_ps(v, _mm256_setzero_ps()));
    default: return v;
    }
}

INLINE __m256 load_cols(const float *p, int full, __m256i mk) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mk);
}
INLINE void store_cols(float *p, __m256 v, int full, __m256i mk) {
    if (full)
        _mm256_storeu_ps(p, v);
    else
        store_first(p, mk, v);
}

#endif
