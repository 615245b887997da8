/* Protobuf wire-format reader for the ONNX loader (internal to src/nn), and views of the few ONNX messages the
 * loader reads (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto).
 *
 * Zero-copy and non-recursive: every view points into the caller's buffer, which must outlive it. Every length,
 * count and offset read from the buffer is checked against the end of the enclosing message; a malformed input
 * gives MF_ERR_FORMAT with a message naming the message kind, the defect and its byte offset in the file. Unknown
 * fields are skipped (as protobuf requires); a known field with the wrong wire type is an error. */
#ifndef MF_NN_ONNX_PB_H
#define MF_NN_ONNX_PB_H

#include "core/bytes.h"
#include "mfmc/core.h"
#include "mfmc/limits.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *p;
    size_t n;
} mf_pb_span;

enum { MF_PB_VARINT = 0, MF_PB_I64 = 1, MF_PB_LEN = 2, MF_PB_I32 = 5 };

typedef struct {
    mf_cur cur;          /* the message being read (the shared bounds-checked cursor, src/core/bytes.h) */
    const uint8_t *base; /* start of the file, for offsets in messages */
    const char *what;    /* message kind, for messages ("NodeProto") */
} mf_pb_reader;

typedef struct {
    uint32_t num; /* field number */
    int wt;       /* wire type */
    uint64_t v;   /* MF_PB_VARINT, MF_PB_I64 and MF_PB_I32 values (raw bits) */
    mf_pb_span s; /* MF_PB_LEN payload */
    size_t off;   /* file offset of the field's tag */
} mf_pb_field;

void mf_pb_init(mf_pb_reader *r, mf_pb_span msg, const uint8_t *base, const char *what);
/* Next field: 1 with *f filled, 0 at the end of the message, or a negative status. */
int mf_pb_next(mf_pb_reader *r, mf_pb_field *f);
/* MF_ERR_FORMAT "<what>: field <num> has wire type <wt>, expected <want> (offset N)" unless f->wt == want. */
int mf_pb_expect(const mf_pb_reader *r, const mf_pb_field *f, int want);

/* ONNX TensorProto.DataType values used by the loader. */
enum {
    MF_ONNX_FLOAT = 1,
    MF_ONNX_UINT8 = 2,
    MF_ONNX_INT8 = 3,
    MF_ONNX_UINT16 = 4,
    MF_ONNX_INT16 = 5,
    MF_ONNX_INT32 = 6,
    MF_ONNX_INT64 = 7,
    MF_ONNX_STRING = 8,
    MF_ONNX_BOOL = 9,
    MF_ONNX_FLOAT16 = 10,
    MF_ONNX_DOUBLE = 11,
    MF_ONNX_UINT32 = 12,
    MF_ONNX_UINT64 = 13,
    MF_ONNX_BFLOAT16 = 16
};
const char *mf_onnx_dtype_name(int dt);

/* MF_ONNX_MAX_RANK, MF_ONNX_MAX_NODE_IO, MF_ONNX_MAX_ATTR_VALUES: mfmc/limits.h. */

typedef struct {
    mf_pb_span msg; /* the whole TensorProto */
    mf_pb_span name;
    int data_type;
    int ndim;
    int64_t dims[MF_ONNX_MAX_RANK];
    int has_raw;
    mf_pb_span raw;
    int typed_field;    /* the typed data field present (4 float, 5 int32, 7 int64, 10 double, 11 uint64) or 0 */
    size_t typed_count; /* elements in that field (packed and unpacked occurrences together) */
    int external;       /* data_location == EXTERNAL or external_data present */
    int has_segment;
} mf_onnx_tensor;

/* Parses a TensorProto (checks structure; dims must be >= 0 and at most MF_ONNX_MAX_RANK of them). */
int mf_onnx_tensor_parse(mf_pb_span msg, const uint8_t *base, mf_onnx_tensor *t);

/* Element count of a parsed tensor, checked: overflow or more than max_elems elements is MF_ERR_LIMIT. */
int mf_onnx_tensor_numel(const mf_onnx_tensor *t, size_t max_elems, size_t *numel);

/* Decodes the data into a malloc'd array of `numel` floats (as_float = 1: FLOAT, FLOAT16, BFLOAT16, DOUBLE) or
 * int32 (as_float = 0: INT32, INT64 clamped to the int32 range, INT8/16, UINT8/16, BOOL). The data size must
 * match the dims exactly. MF_ERR_UNSUPPORTED for other types, MF_ERR_FORMAT for a size mismatch. */
int mf_onnx_tensor_decode(const mf_onnx_tensor *t, int as_float, size_t numel, void **out);

/* 1 if the data type decodes to float, 0 to int32, -1 if unsupported. */
int mf_onnx_dtype_kind(int dt);

typedef enum {
    MF_ONNX_ATTR_UNDEFINED = 0,
    MF_ONNX_ATTR_FLOAT = 1,
    MF_ONNX_ATTR_INT = 2,
    MF_ONNX_ATTR_STRING = 3,
    MF_ONNX_ATTR_TENSOR = 4,
    MF_ONNX_ATTR_GRAPH = 5,
    MF_ONNX_ATTR_FLOATS = 6,
    MF_ONNX_ATTR_INTS = 7,
    MF_ONNX_ATTR_STRINGS = 8,
    MF_ONNX_ATTR_TENSORS = 9,
    MF_ONNX_ATTR_GRAPHS = 10
} mf_onnx_attr_type;

typedef struct {
    mf_pb_span name;
    int type; /* declared type, or inferred from the fields present when 0 (old files) */
    int64_t i;
    float f;
    mf_pb_span s;         /* string bytes */
    mf_pb_span t;         /* TensorProto bytes */
    int n_ints, n_floats; /* total counts; only the first MF_ONNX_MAX_ATTR_VALUES are stored */
    int64_t ints[MF_ONNX_MAX_ATTR_VALUES];
    float floats[MF_ONNX_MAX_ATTR_VALUES];
    int other; /* fields the loader does not read (graphs, strings lists, ...) are present */
} mf_onnx_attr;

int mf_onnx_attr_parse(mf_pb_span msg, const uint8_t *base, mf_onnx_attr *a);

typedef struct {
    mf_pb_span msg;
    mf_pb_span name, op, domain;
    int n_in, n_out, n_attr;
    mf_pb_span in[MF_ONNX_MAX_NODE_IO], out[MF_ONNX_MAX_NODE_IO];
} mf_onnx_node;

/* Parses a NodeProto (inputs, outputs, names; attributes are counted, read them with mf_onnx_node_attrs). More
 * than MF_ONNX_MAX_NODE_IO inputs or outputs is MF_ERR_LIMIT. */
int mf_onnx_node_parse(mf_pb_span msg, const uint8_t *base, mf_onnx_node *n);
/* Parses the node's attributes into a[0..cap); more than cap is MF_ERR_LIMIT. */
int mf_onnx_node_attrs(const mf_onnx_node *n, const uint8_t *base, mf_onnx_attr *a, int cap, int *count);

typedef struct {
    mf_pb_span name;
    int has_type; /* a tensor_type is present */
    int elem_type;
    int has_shape;
    int ndim;                       /* > MF_ONNX_MAX_RANK is reported as MF_ONNX_MAX_RANK + 1 */
    int64_t dims[MF_ONNX_MAX_RANK]; /* -1 = symbolic or unknown */
    int other_type;                 /* a non-tensor type (sequence, map, ...) */
} mf_onnx_value_info;

int mf_onnx_value_info_parse(mf_pb_span msg, const uint8_t *base, mf_onnx_value_info *v);

typedef struct {
    mf_pb_span name;
    mf_pb_span *node, *init, *input, *output; /* malloc'd arrays of message spans */
    int n_node, n_init, n_input, n_output;
    int n_sparse; /* sparse initializers present (unsupported) */
} mf_onnx_graph;

int mf_onnx_graph_parse(mf_pb_span msg, const uint8_t *base, mf_onnx_graph *g);
void mf_onnx_graph_free(mf_onnx_graph *g);

typedef struct {
    int64_t ir_version;
    int64_t opset; /* version of the default ("" or "ai.onnx") domain, -1 if not imported */
    int n_graph;
    mf_pb_span graph;
    int n_functions;
} mf_onnx_model_view;

int mf_onnx_model_parse(const uint8_t *data, size_t len, mf_onnx_model_view *m);

#endif
