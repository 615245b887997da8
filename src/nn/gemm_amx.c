/* AMX GEMM blocks (Intel Advanced Matrix Extensions, bf16 tiles) with near-fp32 accuracy: every float operand is
 * split into two bf16 halves, x = hi + lo with hi = bf16(x) and lo = bf16(x - hi) (16 significant bits of the 24),
 * and a product is hi*hi' + hi*lo' + lo*hi' (the lo*lo' term is below the halves' own rounding). The tile unit
 * multiplies bf16 pairs exactly and accumulates in fp32, so an output differs from the fp32 kernels' by about 1e-5
 * of its terms' magnitude: not bit-identical to conv_avx2.c / conv_avx512.c, but well inside the engine's parity
 * with the reference runtimes (docs/kernels.md, "AMX"). Three tile products per step still run about 5x the fp32
 * FMA rate of this machine's AVX-512 units.
 *
 * Layouts. The weights of every packed GEMM panel get a bf16 copy at pack time (conv_gemm.c appends it behind the
 * fp32 panels): per panel and k block, hi then lo, each [kcp / 2][16][2] (the tile unit's pair-interleaved "VNNI"
 * rows: column n of k-pair row r holds k = 2r and 2r + 1), kcp = the block depth rounded up to 32, zero padded.
 * The A block (rows x kc floats, any stride) is split once per call of mf_nn_conv_gemm_panels into this thread's
 * buffers, rows padded to 32 and depth to kcp with zeros, and then read by every panel.
 *
 * Use: the process asks the kernel for the tile state once (arch_prctl ARCH_REQ_XCOMP_PERM, mf_nn_gemm_amx_usable);
 * each thread loads its tile configuration on its first block. MFMC_ISA=avx512, avx2 or scalar turn AMX off. */
#include "nn/gemm_amx.h"

#include "mfmc/core.h"

#include <stdlib.h>
#include <string.h>

/* One float -> bf16 with round-to-nearest-even (the tile unit's own conversion rounds the same way); NaN stays NaN.
 * Portable: weights are packed with this, so packing needs no AMX. */
static uint16_t bf16_rne(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu)) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}
static float bf16_to_f(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

size_t mf_nn_amx_panel_halves(size_t kcp) { return kcp * 16 * 2; }

void mf_nn_amx_pack_b(const float *b, int nrp, size_t kc, size_t kcp, uint16_t *dst) {
    MF_ASSERT(kc <= kcp && kcp % 32 == 0 && (nrp == 8 || nrp == 16));
    uint16_t *hi = dst, *lo = dst + kcp * 16;
    memset(dst, 0, mf_nn_amx_panel_halves(kcp) * sizeof *dst);
    for (size_t k = 0; k < kc; k++)
        for (int n = 0; n < nrp; n++) {
            const float x = b[k * (size_t)nrp + (size_t)n];
            const uint16_t h = bf16_rne(x);
            const size_t at = (k / 2) * 32 + (size_t)n * 2 + (k % 2);
            hi[at] = h;
            lo[at] = bf16_rne(x - bf16_to_f(h));
        }
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11

#include "nn/avx512_inline.h"

#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { ARCH_REQ_XCOMP_PERM_ = 0x1023, XFEATURE_XTILEDATA_ = 18 };

static int state;     /* 0 unknown, 1 no, 2 yes: cpuid, the environment and the permission do not change */
static int debug_off; /* tests: run the fp32 kernels on the same packing */

int mf_nn_gemm_amx_usable(void) {
    int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
    if (!s) {
        const char *e = getenv("MFMC_ISA");
        int ok = !e || (strcmp(e, "avx512") != 0 && strcmp(e, "avx2") != 0 && strcmp(e, "scalar") != 0);
        unsigned a, b, c, d;
        /* leaf 7.0: EDX 22 AMX-BF16, 24 AMX-TILE, EBX 16 AVX512F, 30 AVX512BW; leaf 7.1: EAX 5 AVX512_BF16 */
        if (ok && __get_cpuid_count(7, 0, &a, &b, &c, &d))
            ok = (d >> 22 & 1) && (d >> 24 & 1) && (b >> 16 & 1) && (b >> 30 & 1);
        else
            ok = 0;
        if (ok && __get_cpuid_count(7, 1, &a, &b, &c, &d))
            ok = a >> 5 & 1;
        else
            ok = 0;
        /* the kernel grants the tile data state per process; refused (an old kernel, a small sigaltstack): no AMX */
        if (ok) ok = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM_, XFEATURE_XTILEDATA_) == 0;
        s = ok ? 2 : 1;
        __atomic_store_n(&state, s, __ATOMIC_RELEASE);
    }
    return s == 2;
}

int mf_nn_gemm_amx_on(void) { return mf_nn_gemm_amx_usable() && !__atomic_load_n(&debug_off, __ATOMIC_RELAXED); }

void mf_nn_debug_amx_off(int off) { __atomic_store_n(&debug_off, off != 0, __ATOMIC_RELAXED); }

/* This thread's split A block: up to MF_NN_GEMM_MC rows (padded to 32) x kcp <= MF_NN_GEMM_KC. */
enum { A_ROWS = (MF_NN_GEMM_MC + 31) / 32 * 32 };
static _Thread_local uint16_t a_hi[A_ROWS * MF_NN_GEMM_KC] __attribute__((aligned(64)));
static _Thread_local uint16_t a_lo[A_ROWS * MF_NN_GEMM_KC] __attribute__((aligned(64)));
static _Thread_local int a_kcp, tiles_ready;
static _Thread_local size_t n_blocks; /* tests: this thread's AMX blocks */

size_t mf_nn_amx_block_count(void) { return n_blocks; }

#define TBF __attribute__((target("avx512f,avx512bw,avx512bf16")))
#define TAMX __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx2,fma")))

TBF void mf_nn_amx_split_a(const float *a, size_t lda, int rows, int kc, int kcp) {
    MF_ASSERT(rows >= 1 && rows <= MF_NN_GEMM_MC && kc >= 1 && kc <= kcp && kcp <= MF_NN_GEMM_KC && kcp % 32 == 0);
    const int rows_p = (rows + 31) / 32 * 32;
    for (int r = 0; r < rows_p; r++) {
        uint16_t *hi = a_hi + (size_t)r * (size_t)kcp, *lo = a_lo + (size_t)r * (size_t)kcp;
        if (r >= rows) { /* padding rows of the last tiles: zeros */
            memset(hi, 0, (size_t)kcp * sizeof *hi);
            memset(lo, 0, (size_t)kcp * sizeof *lo);
            continue;
        }
        const float *src = a + (size_t)r * lda;
        for (int k = 0; k < kcp; k += 16) {
            const int n = kc - k >= 16 ? 16 : (kc - k > 0 ? kc - k : 0);
            const __mmask16 m = (__mmask16)((1u << n) - 1u);
            const __m512 x = n ? _mm512_maskz_loadu_ps(m, src + k) : _mm512_setzero_ps();
            const __m256bh h = _mm512_cvtneps_pbh(x);
            const __m512 hf = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32((__m256i)h), 16));
            const __m256bh l = _mm512_cvtneps_pbh(_mm512_sub_ps(x, hf));
            _mm256_store_si256((__m256i *)(hi + k), (__m256i)h);
            _mm256_store_si256((__m256i *)(lo + k), (__m256i)l);
        }
    }
    a_kcp = kcp;
}

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_cfg;

/* Tiles 0, 1: C (16 rows x 16 floats) for rows r..r+15 and r+16..r+31; 2, 3: A hi, lo of the first 16 rows; 4, 5:
 * of the next 16; 6, 7: B hi, lo (16 k-pair rows x 16 column pairs). */
TAMX static void tiles_setup(void) {
    tile_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    _tile_loadconfig(&cfg);
    tiles_ready = 1;
}

/* Rows r0 .. r0+n-1 of the block from the tile sums t[n][16]: the same epilogue as the fp32 kernels (start from
 * bias + residual in the first k block, else from c; activation and post in the last). `started`: t already holds
 * the start (the tile was loaded with it). */
__attribute__((target("avx512f,avx2,fma"))) static void epilogue(const mf_nn_gemm_block *g, int r0, int n,
                                                                 const float *t, int started) {
    const __mmask16 km = g->nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << g->nr) - 1u);
    const int last = g->last, act = g->act;
    __m512 ps = _mm512_setzero_ps(), pt = ps, bias = ps;
    if (last && g->post) ps = _mm512_maskz_loadu_ps(km, g->post), pt = _mm512_maskz_loadu_ps(km, g->post + g->nrp);
    if (g->bias) bias = _mm512_maskz_loadu_ps(km, g->bias);
    for (int i = 0; i < n; i++) {
        float *c = g->c + (size_t)(r0 + i) * g->ldc;
        __m512 v = _mm512_load_ps(t + (size_t)i * 16);
        if (!started) {
            __m512 s0;
            if (g->bias) {
                s0 = bias;
                if (g->res) s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(km, g->res + (size_t)(r0 + i) * g->ldc));
            } else {
                s0 = _mm512_maskz_loadu_ps(km, c);
            }
            v = _mm512_add_ps(s0, v);
        }
        if (last) {
            v = mf_nn_act16(v, act, g->alpha);
            if (g->post) v = _mm512_fmadd_ps(v, ps, pt);
        }
        _mm512_mask_storeu_ps(c, km, v);
    }
}

/* How C tile `q` (rows r..r+15) of the block starts and ends: a whole tile (16 rows, 16 columns) starts from c or from
 * the bias tile and, without activation or post, is stored straight into c; the others start from zero and go
 * through the epilogue. */
enum { START_ZERO, START_C, START_BIAS };
static int tile_start(const mf_nn_gemm_block *g, int rows) {
    if (rows < 16 || g->nr < 16) return START_ZERO;
    if (!g->bias) return START_C;
    return g->res ? START_ZERO : START_BIAS;
}

TAMX void mf_nn_amx_block(const mf_nn_gemm_block *g, const uint16_t *bp) {
    const int kcp = a_kcp;
    MF_ASSERT(g->m >= 1 && g->m <= MF_NN_GEMM_MC && kcp >= 32);
    if (!tiles_ready) tiles_setup();
    n_blocks++;
    const uint16_t *bhi = bp, *blo = bp + (size_t)kcp * 16;
    const size_t sa = (size_t)kcp * sizeof(uint16_t), sc = g->ldc * sizeof(float);
    const int direct_end = !(g->last && (g->act != MF_NN_ACT_NONE || g->post));
    float t[32 * 16] __attribute__((aligned(64)));
    float bias16[16 * 16] __attribute__((aligned(64)));
    if (g->bias && g->nr == 16)
        for (int i = 0; i < 16; i++)
            _mm512_store_ps(bias16 + i * 16, _mm512_loadu_ps(g->bias));
    for (int r = 0; r < g->m; r += 32) {
        const uint16_t *ah = a_hi + (size_t)r * (size_t)kcp, *al = a_lo + (size_t)r * (size_t)kcp;
        float *c0 = g->c + (size_t)r * g->ldc, *c1 = c0 + 16 * g->ldc;
        const int s0 = tile_start(g, g->m - r), s1 = tile_start(g, g->m - r - 16);
        if (s0 == START_C)
            _tile_loadd(0, c0, sc);
        else if (s0 == START_BIAS)
            _tile_loadd(0, bias16, 64);
        else
            _tile_zero(0);
        if (g->m - r > 16) {
            if (s1 == START_C)
                _tile_loadd(1, c1, sc);
            else if (s1 == START_BIAS)
                _tile_loadd(1, bias16, 64);
            else
                _tile_zero(1);
            for (int k = 0; k < kcp; k += 32) {
                _tile_loadd(6, bhi + (size_t)k * 16, 64);
                _tile_loadd(7, blo + (size_t)k * 16, 64);
                _tile_loadd(2, ah + k, sa);
                _tile_loadd(3, al + k, sa);
                _tile_loadd(4, ah + 16 * (size_t)kcp + k, sa);
                _tile_loadd(5, al + 16 * (size_t)kcp + k, sa);
                _tile_dpbf16ps(0, 3, 6);
                _tile_dpbf16ps(0, 2, 7);
                _tile_dpbf16ps(0, 2, 6);
                _tile_dpbf16ps(1, 5, 6);
                _tile_dpbf16ps(1, 4, 7);
                _tile_dpbf16ps(1, 4, 6);
            }
            if (s1 != START_ZERO && direct_end) {
                _tile_stored(1, c1, sc);
            } else {
                _tile_stored(1, t + 256, 64);
                epilogue(g, r + 16, g->m - r - 16 < 16 ? g->m - r - 16 : 16, t + 256, s1 != START_ZERO);
            }
        } else {
            for (int k = 0; k < kcp; k += 32) {
                _tile_loadd(6, bhi + (size_t)k * 16, 64);
                _tile_loadd(7, blo + (size_t)k * 16, 64);
                _tile_loadd(2, ah + k, sa);
                _tile_loadd(3, al + k, sa);
                _tile_dpbf16ps(0, 3, 6);
                _tile_dpbf16ps(0, 2, 7);
                _tile_dpbf16ps(0, 2, 6);
            }
        }
        if (s0 != START_ZERO && direct_end) {
            _tile_stored(0, c0, sc);
        } else {
            _tile_stored(0, t, 64);
            epilogue(g, r, g->m - r < 16 ? g->m - r : 16, t, s0 != START_ZERO);
        }
    }
}

#else /* no AMX in this build: never usable */

int mf_nn_gemm_amx_usable(void) { return 0; }
int mf_nn_gemm_amx_on(void) { return 0; }
size_t mf_nn_amx_block_count(void) { return 0; }
void mf_nn_debug_amx_off(int off) { (void)off; }
void mf_nn_amx_split_a(const float *a, size_t lda, int rows, int kc, int kcp) {
    (void)a, (void)lda, (void)rows, (void)kc, (void)kcp;
    MF_ASSERT(!"AMX kernel called without AMX");
}
void mf_nn_amx_block(const mf_nn_gemm_block *g, const uint16_t *bp) {
    (void)g, (void)bp;
    MF_ASSERT(!"AMX kernel called without AMX");
}

#endif
