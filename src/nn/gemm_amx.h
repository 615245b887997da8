/* AMX (bf16 tile) GEMM blocks with split-bf16 operands (gemm_amx.c; internal to src/nn). The weights' bf16 copy is
 * made at pack time by conv_gemm.c; mf_nn_conv_gemm_panels splits each A block once and runs every panel on it. */
#ifndef MF_NN_GEMM_AMX_H
#define MF_NN_GEMM_AMX_H

#include "nn/kernels.h"

#include <stddef.h>
#include <stdint.h>

/* 1 when this process may run the AMX blocks: the CPU has AMX-BF16, AMX-TILE and AVX512-BF16, MFMC_ISA is not
 * avx512, avx2 or scalar, and the kernel granted the tile state (asked once, on the first call). Packing adds the
 * bf16 weights exactly when this is 1. */
int mf_nn_gemm_amx_usable(void);
/* usable and not turned off by mf_nn_debug_amx_off (tests: the fp32 kernels on the same packing). */
int mf_nn_gemm_amx_on(void);
void mf_nn_debug_amx_off(int off);
/* Tests: how many AMX blocks this thread has run. */
size_t mf_nn_amx_block_count(void);

/* uint16 halves of one packed panel's k block of padded depth kcp (a multiple of 32): hi then lo. */
size_t mf_nn_amx_panel_halves(size_t kcp);
/* b: fp32 [kc][nrp] (nrp 8 or 16) -> dst (mf_nn_amx_panel_halves(kcp) halves): hi and lo, each [kcp/2][16][2],
 * zero padded. Portable. */
void mf_nn_amx_pack_b(const float *b, int nrp, size_t kc, size_t kcp, uint16_t *dst);
/* Splits rows x kc floats of A (row r at a + r*lda; rows <= MF_NN_GEMM_MC, kc <= kcp <= MF_NN_GEMM_KC) into this
 * thread's bf16 buffers for the following mf_nn_amx_block calls. Only where mf_nn_gemm_amx_on(). */
void mf_nn_amx_split_a(const float *a, size_t lda, int rows, int kc, int kcp);
/* c = (g's epilogue) of the split A block's g->m rows times the panel whose bf16 halves are at bp; g->a, g->lda, g->b
 * and g->kc are not read. Only where mf_nn_gemm_amx_on(), after mf_nn_amx_split_a on this thread. */
void mf_nn_amx_block(const mf_nn_gemm_block *g, const uint16_t *bp);

#endif
