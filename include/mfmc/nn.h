/* mfmc neural inference engine.
 *
 * A model (mf_nn_model_t) is a loaded graph with its weights: read-only after loading, safe to share between
 * threads and plans. A plan (mf_nn_plan_t) is the model specialised for batch 1: shapes resolved, constants
 * folded, ops fused, weights re-packed for this CPU and every intermediate tensor placed in one arena allocated
 * once. mf_nn_plan_run() then allocates nothing. A plan is used by one thread at a time; make one plan per
 * concurrent user. A pool (mf_nn_pool_t) holds worker threads that plans may share (one run at a time). */
#ifndef MFMC_NN_H
#define MFMC_NN_H

#include "mfmc/core.h"
#include "mfmc/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The caps (MF_NN_MAX_DIMS, file sizes, tensor sizes, ...) are in mfmc/limits.h. */

typedef struct {
    int ndim;
    int dim[MF_NN_MAX_DIMS]; /* -1 = unknown (batch of a model input) */
} mf_nn_shape;

typedef struct mf_nn_model mf_nn_model_t;
typedef struct mf_nn_plan mf_nn_plan_t;
typedef struct mf_nn_pool mf_nn_pool_t;

/* Loads a TensorFlow.js graph model: `model_json` is the path of model.json; weight shards are read from the
 * paths of its weightsManifest, relative to the JSON's folder. Unsupported ops and malformed files are refused
 * with a message naming the op or the defect. On success *out owns everything; free with mf_nn_model_free. */
int mf_nn_model_load_tfjs(const char *model_json, mf_nn_model_t **out);

/* Same from memory: `json` (not necessarily NUL-terminated) and the concatenated weight shards. Copies what it
 * keeps; the caller keeps ownership of both buffers. */
int mf_nn_model_load_tfjs_mem(const char *json, size_t json_len, const uint8_t *weights, size_t weights_len,
                              mf_nn_model_t **out);

/* Loads an ONNX model (opsets 1-21, the op subset listed in docs/onnx.md). Activations are
 * converted to NHWC at load so the model runs on the same kernels. */
int mf_nn_model_load_onnx(const char *path, mf_nn_model_t **out);
int mf_nn_model_load_onnx_mem(const uint8_t *data, size_t len, mf_nn_model_t **out);

/* Loads face-api's FaceRecognitionNet (face_recognition_model, the 128-d ResNet-34-like recognizer) from its
 * weights-only manifest (face_recognition_model-weights_manifest.json; shards relative to its folder). The
 * network is built from face-api's code (see docs/faceapi-recognition.md); every weight is checked by name and
 * shape, a missing or misshaped one is refused with a message naming it. Input "input" [1,150,150,3] raw RGB
 * 0..255 (normalisation is in the graph), output "descriptor" [1,128]. */
int mf_nn_model_load_faceapi_recognition(const char *manifest_json, mf_nn_model_t **out);
/* Same from memory: the manifest JSON text (not necessarily NUL-terminated) and the concatenated shards. */
int mf_nn_model_load_faceapi_recognition_mem(const char *manifest_json, size_t json_len, const uint8_t *weights,
                                             size_t weights_len, mf_nn_model_t **out);

/* Loads a TensorFlow Lite flatbuffer (schema 3, first subgraph, float32 activations; the operators listed in
 * docs/tflite.md). Quantized or float16 weights are dequantized to float32 at load; the batch dimension of each
 * input becomes -1. Every offset, vtable and length of the file is checked before use: a malformed file is
 * MF_ERR_FORMAT naming the defect and its offset, an unsupported operator MF_ERR_UNSUPPORTED naming it, a file
 * above MF_TFLITE_MAX_BYTES or a table above its cap (mfmc/limits.h) MF_ERR_LIMIT. */
int mf_nn_model_load_tflite(const char *path, mf_nn_model_t **out);
/* Same from memory (copies what it keeps; the caller keeps the buffer). */
int mf_nn_model_load_tflite_mem(const uint8_t *data, size_t len, mf_nn_model_t **out);

void mf_nn_model_free(mf_nn_model_t *model);

/* Model inputs and outputs, in the model's declared order. Names are owned by the model. */
int mf_nn_model_input_count(const mf_nn_model_t *model);
const char *mf_nn_model_input_name(const mf_nn_model_t *model, int i);
mf_nn_shape mf_nn_model_input_shape(const mf_nn_model_t *model, int i);
int mf_nn_model_output_count(const mf_nn_model_t *model);
const char *mf_nn_model_output_name(const mf_nn_model_t *model, int i);
/* Counts of graph nodes and weight tensors, for `mfmc models`. */
int mf_nn_model_node_count(const mf_nn_model_t *model);
size_t mf_nn_model_weight_bytes(const mf_nn_model_t *model);

/* A pool of nthreads-1 worker threads (the caller of mf_nn_plan_run is the last one). nthreads <= 0 means one
 * per online CPU. Free with mf_nn_pool_free after every plan using it is done running. */
int mf_nn_pool_create(int nthreads, mf_nn_pool_t **out);
void mf_nn_pool_free(mf_nn_pool_t *pool);
int mf_nn_pool_threads(const mf_nn_pool_t *pool);

enum { MF_NN_PLAN_ISA_FAST = -2 };

typedef struct {
    mf_nn_pool_t *pool; /* NULL = run on the calling thread only */
    int isa;            /* -1 = best for this CPU, else an mf_nn_isa value (tests force the scalar path);
                           MF_NN_PLAN_ISA_FAST: best, and AMX bf16 tiles for the large GEMMs where the CPU has them
                           (about 1e-5 of the fp32 kernels, not bit-identical; docs/kernels.md, "AMX") */
    int no_fuse;        /* 1 = skip fusion passes (tests) */
    size_t max_bytes;   /* cap on what planning may allocate (arena, folded constants, packed weights);
                           0 = MF_NN_DEFAULT_MAX_PLAN_BYTES. Exceeding it fails with MF_ERR_LIMIT. */
} mf_nn_plan_opts;

/* Plans `model` for batch 1 (a -1 batch dimension becomes 1). `opts` may be NULL (defaults: no pool, best ISA).
 * The model must outlive the plan. */
int mf_nn_plan_create(const mf_nn_model_t *model, const mf_nn_plan_opts *opts, mf_nn_plan_t **out);
void mf_nn_plan_free(mf_nn_plan_t *plan);

/* The input buffer to fill before a run (NHWC float32, owned by the plan); its shape in *shape if not NULL. */
float *mf_nn_plan_input(mf_nn_plan_t *plan, int i, mf_nn_shape *shape);

/* Runs the plan. Returns MF_OK; the engine does not fail at run time (everything was checked when planning). */
int mf_nn_plan_run(mf_nn_plan_t *plan);

/* Output i of the last run (owned by the plan, valid until the next run or free); its shape in *shape. */
const float *mf_nn_plan_output(const mf_nn_plan_t *plan, int i, mf_nn_shape *shape);

/* Index of the output or input named `name` ("node" or "node:0"), or -1. */
int mf_nn_plan_output_index(const mf_nn_plan_t *plan, const char *name);
int mf_nn_plan_input_index(const mf_nn_plan_t *plan, const char *name);

/* Planning facts: steps after fusion, arena bytes, packed-weight bytes, and floating-point operations of one run
 * (multiply-add = 2), for benchmarks. */
typedef struct {
    int steps;
    size_t arena_bytes;
    size_t packed_bytes;
    double flops;
} mf_nn_plan_stats;
void mf_nn_plan_get_stats(const mf_nn_plan_t *plan, mf_nn_plan_stats *stats);

/* Work counter (for measuring what a stage costs independently of the machine's load): every mf_nn_plan_run and
 * mf_nn_plan_run_timed of this process is counted, per distinct flops value of one run (one entry per model and
 * input size in practice; MF_NN_WORK_KINDS at most, later ones pooled into the last entry). Thread-safe; a reset
 * starts from zero. mf_nn_work_get writes up to max entries (sorted by flops per run, descending) and returns the
 * number written. */
enum { MF_NN_WORK_KINDS = 32 };
typedef struct {
    double flops_per_run; /* of one run (mf_nn_plan_stats.flops) */
    long runs;
} mf_nn_work_entry;
void mf_nn_work_reset(void);
int mf_nn_work_get(mf_nn_work_entry *out, int max);

/* Profiling: runs the plan once and adds each step's wall time in milliseconds (measured on the calling thread,
 * barrier included) to step_ms[0..steps-1]. */
int mf_nn_plan_run_timed(mf_nn_plan_t *plan, double *step_ms);
/* One-line description of step i ("Conv2D 3x3/2 56x56x32->28x28x64 relu", ...) into buf. */
void mf_nn_plan_step_describe(const mf_nn_plan_t *plan, int i, char *buf, size_t len);

/* ---------------------------------------------------------------- loading and checking, for model users */

/* File formats of mf_nn_model_load. */
typedef enum {
    MF_NN_FORMAT_TFJS = 0,
    MF_NN_FORMAT_ONNX = 1,
    MF_NN_FORMAT_FACEAPI_RECOGNITION = 2,
    MF_NN_FORMAT_TFLITE = 3
} mf_nn_format;

/* Loads the model file `path` of format `format` with the matching mf_nn_model_load_* function. MF_ERR_ARG for
 * an unknown format. */
int mf_nn_model_load(const char *path, mf_nn_format format, mf_nn_model_t **out);

/* Checks that input i of `plan` is one NHWC image of h x w x c ([1,h,w,c]). MF_ERR_FORMAT naming `what` (the
 * model, for the message) otherwise. */
int mf_nn_plan_check_input(mf_nn_plan_t *plan, int i, int h, int w, int c, const char *what);

/* Finds output `name` ("node" or "node:0") of `plan` and checks that it holds exactly `numel` values: its index
 * to *index. MF_ERR_FORMAT naming `what` and the output otherwise (so decoding can never read out of bounds). */
int mf_nn_plan_find_output(const mf_nn_plan_t *plan, const char *name, size_t numel, const char *what, int *index);

/* MF_ERR_MODEL when any of v[0..n) is not finite: the weights of model `what` are damaged (an environment error,
 * never the input's fault); the message names `what` and says `mfmc models` checks the files. */
int mf_nn_check_finite(const float *v, size_t n, const char *what);

/* Element count of a shape (product of dims; unknown dims count as 1). */
size_t mf_nn_shape_numel(const mf_nn_shape *shape);

#ifdef __cplusplus
}
#endif
#endif
