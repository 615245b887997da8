/* mfmc limits: every cap that bounds what untrusted input (images, model files) can make the library allocate
 * or loop over, in one place (the model is SQLite's sqliteLimit.h). Each cap names the unit and why its value.
 * Caps that a caller can tighten at run time (mf_img_limits, mf_nn_plan_opts.max_bytes) have their defaults
 * here; the others are compile-time ceilings. Change a value here and every check and message follows. */
#ifndef MFMC_LIMITS_H
#define MFMC_LIMITS_H

#include <stddef.h>

/* A cap as a string literal, for fixed messages: "more than " MF_LIMIT_STR(MF_IMG_JPEG_MAX_SCANS) " scans". */
#define MF_LIMIT_STR_(x) #x
#define MF_LIMIT_STR(x) MF_LIMIT_STR_(x)

/* ---- images (src/image) ---- */

/* Default decode caps (mf_img_limits fields left 0). 100 megapixels is above any camera sold today; 16384 px
 * per side is libwebp's own maximum; 256 MiB of encoded input is far above any real photo. */
#define MF_IMG_DEFAULT_MAX_PIXELS 100000000u /* 100 megapixels */
#define MF_IMG_DEFAULT_MAX_SIDE 16384
#define MF_IMG_DEFAULT_MAX_BYTES ((size_t)256 << 20) /* 256 MiB */

/* Hard ceiling on a side of any mf_img / mf_imgf, whatever the caps: keeps every index computation of the
 * module inside int/size_t comfortably (65535^2 * 4 < 2^34). */
#define MF_IMG_SIDE_HARD_MAX 65535

/* JPEG: most progressive scans accepted. A file can declare thousands of tiny scans, each re-walking the
 * coefficient buffer; real encoders emit about 10. Same cap as TurboJPEG's "limit scans" option. */
#define MF_IMG_JPEG_MAX_SCANS 500

/* PNG: largest single ancillary chunk libpng may allocate while decoding (text, ICC, ...). */
#define MF_IMG_PNG_MAX_CHUNK_BYTES (8 << 20) /* 8 MiB */

/* Metadata blocks returned by the decoders and accepted by the encoders. ICC: 8 MiB holds any real profile
 * (printer profiles reach a few MB) and fits JPEG's 255 APP2 chunks of 65519 bytes. EXIF: one JPEG APP1
 * segment (65535 - 2 length bytes - 6 for "Exif\0\0"), the most any JPEG can carry. */
#define MF_IMG_MAX_ICC_BYTES ((size_t)8 << 20)
#define MF_IMG_MAX_EXIF_BYTES ((size_t)65527)

/* ---- models and tensors (src/nn) ---- */

/* Model files: a model.json / weights manifest, and all weight shards (or one ONNX file: both together).
 * The largest face model in use is ~170 MB of weights; 512 MiB leaves room and bounds what a file can make us
 * allocate. Plain ints (messages print them with %d). */
#define MF_NN_MAX_JSON_BYTES (64 << 20)    /* 64 MiB */
#define MF_NN_MAX_WEIGHT_BYTES (512 << 20) /* 512 MiB */

/* Entries of a weights manifest (TF.js, face-api). Real ones list a few hundred. */
#define MF_NN_MAX_MANIFEST_WEIGHTS (1 << 20)

/* Graph size: nodes per model (real models have a few thousand) and inputs per node (AddN, ConcatV2). */
#define MF_NN_MAX_NODES (1 << 20)
#define MF_NN_MAX_NODE_INPUTS (1 << 16)

/* Inputs an op can read at run time (ConcatV2/AddN/Pack of more is refused at planning). */
#define MF_NN_MAX_INPUTS 64

/* Tensors: rank, and elements per tensor (2^28 floats = 1 GiB), so every element count and byte size fits
 * comfortably in size_t and int arithmetic. */
#define MF_NN_MAX_DIMS 6
#define MF_NN_MAX_TENSOR_ELEMS (1 << 28)

/* One dimension of a model input, and the extent of a window or stride: far above any image side a model takes,
 * small enough that products of two stay inside int64 and most inside int. */
#define MF_NN_MAX_DIM_SIZE (1 << 20)

/* Default cap on what planning may allocate (arena, folded constants, packed weights); mf_nn_plan_opts.max_bytes
 * overrides it. */
#define MF_NN_DEFAULT_MAX_PLAN_BYTES ((size_t)2 << 30) /* 2 GiB */

/* Threads of an mf_nn_pool (more are clamped to this). */
#define MF_NN_MAX_THREADS 64

/* ONNX (src/nn/onnx*.c). Wire level: dimensions of a TensorProto or ValueInfo, inputs/outputs of a NodeProto,
 * values of a repeated attribute that are kept. Converter: attributes per node, bytes in a name, convolution and
 * pool windows, strides and pads, and the largest constant result folded at load when an input is smaller
 * (folding never turns a small file into a large allocation). */
#define MF_ONNX_MAX_RANK 8
#define MF_ONNX_MAX_NODE_IO 64
#define MF_ONNX_MAX_ATTR_VALUES 16
#define MF_ONNX_MAX_ATTRS 64
#define MF_ONNX_MAX_NAME 1024
#define MF_ONNX_MAX_KERNEL 4096
#define MF_ONNX_MAX_STRIDE 1024
#define MF_ONNX_MAX_PAD 4096
#define MF_ONNX_FOLD_MAX_ELEMS (1 << 22)

/* TensorFlow Lite flatbuffers (src/nn/tflite*.c): the file (weights included, so the weight cap), tensors,
 * operators and buffers of the one subgraph read, inputs or outputs of one operator, bytes of a name, and
 * the extent of a window, stride or dilation. Real face models have a few hundred tensors and operators. */
#define MF_TFLITE_MAX_BYTES MF_NN_MAX_WEIGHT_BYTES
#define MF_TFLITE_MAX_TENSORS (1 << 18)
#define MF_TFLITE_MAX_OPS (1 << 18)
#define MF_TFLITE_MAX_BUFFERS (1 << 18)
#define MF_TFLITE_MAX_OP_IO 64
#define MF_TFLITE_MAX_NAME 1024
#define MF_TFLITE_MAX_WINDOW 4096
/* Float32 constants the loader may create (dequantized and re-ordered weights): four times the file (int8 weights
 * become floats) plus 64 MiB, at most this; a file reusing one large filter in many operators cannot make it
 * allocate more. */
#define MF_TFLITE_MAX_CONST_BYTES ((size_t)2 << 30) /* 2 GiB */

/* ---- faces (src/face): the counts beyond which the face layer refuses work (MF_ERR_LIMIT, never a silent cut) */
enum {
    /* Faces one image may hold before detection (and so analysis) refuses it: far above any crowd photo (a
     * 100-megapixel stadium shot holds some 30,000 faces of 24 px). */
    MF_FACE_MAX_FOUND = 100000,
    /* Detector candidates of one image before merging (each face is seen by a few anchors on one or two pyramid
     * levels). */
    MF_FACE_MAX_CANDIDATES = 1 << 24,
    /* Largest embedding of any recognizer (the registry's largest is 1024). */
    MF_FACE_MAX_EMBEDDING_DIM = 4096,
    /* Bytes of an attribute model list ("faceres+gear+..."), normalised. */
    MF_FACE_ATTRIB_MAX_LIST = 256,
};


/* ---- requests (apps/server): the server's caps are named SRV_* in apps/server/srv.h. */

#endif
