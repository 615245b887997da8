/* Protobuf wire-format reader and ONNX message views (see onnx_pb.h). Field numbers are those of onnx.proto
 * (onnx/onnx.proto3, IR version 10); only the fields listed in docs/onnx.md are interpreted. */
#include "nn/onnx_pb.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- wire format */

/* Spans never hold NULL (pointer arithmetic and memcmp on NULL are undefined even for length 0). */
static const uint8_t pb_empty[1];
#define EMPTY_SPAN ((mf_pb_span){pb_empty, 0})

/* Reads a base-128 varint from [*pp, end) with the shared cursor (src/core/bytes.h). 0 = ok, -1 = runs past
 * `end`, -2 = longer than 10 bytes or above 2^64. */
static int rd_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v) {
    mf_cur c;
    mf_cur_init(&c, *pp, (size_t)(end - *pp));
    int e = mf_cur_varint(&c, v);
    if (!e) *pp += c.pos;
    return e;
}

static int pb_err(const mf_pb_reader *r, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int pb_err(const mf_pb_reader *r, size_t off, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mf_error_set(MF_ERR_FORMAT, "%s: %s (offset %zu)", r->what, msg, off);
}

void mf_pb_init(mf_pb_reader *r, mf_pb_span msg, const uint8_t *base, const char *what) {
    if (!msg.p) msg = EMPTY_SPAN;
    mf_cur_init(&r->cur, msg.p, msg.n);
    r->base = base;
    r->what = what;
}

int mf_pb_next(mf_pb_reader *r, mf_pb_field *f) {
    mf_cur *c = &r->cur;
    if (!mf_cur_left(c)) return 0;
    f->off = (size_t)(c->base + c->pos - r->base);
    uint64_t tag;
    int e = mf_cur_varint(c, &tag);
    if (e) return pb_err(r, f->off, e == -1 ? "truncated field tag" : "overlong field tag");
    if (tag > UINT32_MAX || (tag >> 3) == 0)
        return pb_err(r, f->off, "invalid field tag %llu", (unsigned long long)tag);
    f->num = (uint32_t)(tag >> 3);
    f->wt = (int)(tag & 7);
    f->v = 0;
    f->s.p = c->base + c->pos; /* not NULL: an empty span at the value */
    f->s.n = 0;
    switch (f->wt) {
    case MF_PB_VARINT:
        if ((e = mf_cur_varint(c, &f->v)))
            return pb_err(r, f->off, "%s varint in field %u", e == -1 ? "truncated" : "overlong", f->num);
        return 1;
    case MF_PB_I64:
        if (mf_cur_u64(c, &f->v)) return pb_err(r, f->off, "truncated 64-bit value in field %u", f->num);
        return 1;
    case MF_PB_I32: {
        uint32_t u;
        if (mf_cur_u32(c, &u)) return pb_err(r, f->off, "truncated 32-bit value in field %u", f->num);
        f->v = u;
        return 1;
    }
    case MF_PB_LEN: {
        uint64_t len;
        if ((e = mf_cur_varint(c, &len)))
            return pb_err(r, f->off, "%s length of field %u", e == -1 ? "truncated" : "overlong", f->num);
        size_t left = mf_cur_left(c);
        if (len > left)
            return pb_err(r, f->off, "field %u claims %llu bytes but only %zu remain (truncated?)", f->num,
                          (unsigned long long)len, left);
        if (mf_cur_bytes(c, (size_t)len, &f->s.p)) return pb_err(r, f->off, "field %u runs past its message", f->num);
        f->s.n = (size_t)len;
        return 1;
    }
    default: return pb_err(r, f->off, "field %u has invalid wire type %d", f->num, f->wt);
    }
}

int mf_pb_expect(const mf_pb_reader *r, const mf_pb_field *f, int want) {
    if (f->wt == want) return MF_OK;
    return pb_err(r, f->off, "field %u has wire type %d, expected %d", f->num, f->wt, want);
}

/* Counts (and validates) the varints of a packed payload. */
static int count_packed_varints(const mf_pb_reader *r, const mf_pb_field *f, size_t *count) {
    const uint8_t *p = f->s.p, *end = f->s.p + f->s.n;
    size_t n = 0;
    uint64_t v;
    while (p < end) {
        if (rd_varint(&p, end, &v)) return pb_err(r, f->off, "bad varint in packed field %u", f->num);
        n++;
    }
    *count = n;
    return MF_OK;
}

/* ---------------------------------------------------------------- data types */

const char *mf_onnx_dtype_name(int dt) {
    static const char *names[] = {"UNDEFINED", "FLOAT",  "UINT8",     "INT8",       "UINT16",  "INT16",
                                  "INT32",     "INT64",  "STRING",    "BOOL",       "FLOAT16", "DOUBLE",
                                  "UINT32",    "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
    if (dt >= 0 && dt < (int)(sizeof names / sizeof *names)) return names[dt];
    return "unknown";
}

int mf_onnx_dtype_kind(int dt) {
    switch (dt) {
    case MF_ONNX_FLOAT:
    case MF_ONNX_FLOAT16:
    case MF_ONNX_BFLOAT16:
    case MF_ONNX_DOUBLE: return 1;
    case MF_ONNX_INT32:
    case MF_ONNX_INT64:
    case MF_ONNX_INT8:
    case MF_ONNX_UINT8:
    case MF_ONNX_INT16:
    case MF_ONNX_UINT16:
    case MF_ONNX_BOOL:
    case MF_ONNX_UINT32:
    case MF_ONNX_UINT64: return 0;
    default: return -1;
    }
}

static size_t dtype_size(int dt) {
    switch (dt) {
    case MF_ONNX_INT8:
    case MF_ONNX_UINT8:
    case MF_ONNX_BOOL: return 1;
    case MF_ONNX_FLOAT16:
    case MF_ONNX_BFLOAT16:
    case MF_ONNX_INT16:
    case MF_ONNX_UINT16: return 2;
    case MF_ONNX_FLOAT:
    case MF_ONNX_INT32:
    case MF_ONNX_UINT32: return 4;
    default: return 8;
    }
}

/* The typed repeated field that carries each type when raw_data is absent (onnx.proto comments). */
static int typed_field_of(int dt) {
    switch (dt) {
    case MF_ONNX_FLOAT: return 4;
    case MF_ONNX_DOUBLE: return 10;
    case MF_ONNX_INT64: return 7;
    case MF_ONNX_UINT32:
    case MF_ONNX_UINT64: return 11;
    default: return 5; /* int32_data: INT32, INT16, INT8, UINT16, UINT8, BOOL, FLOAT16, BFLOAT16 */
    }
}

static float half_to_float(uint16_t h) {
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
    if (e == 0) {
        if (m == 0)
            bits = s;
        else { /* subnormal: normalise */
            int sh = 0;
            while (!(m & 0x400)) {
                m <<= 1;
                sh++;
            }
            bits = s | (uint32_t)(127 - 15 + 1 - sh) << 23 | (m & 0x3ff) << 13;
        }
    } else if (e == 31)
        bits = s | 0x7f800000u | m << 13;
    else
        bits = s | (e + 127 - 15) << 23 | m << 13;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static float bits_to_float(uint32_t b) {
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static int32_t clamp_i64(int64_t v) { return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v; }

/* One element of raw little-endian data of type dt, as float or int32. */
static void raw_elem(int dt, const uint8_t *p, int as_float, void *out, size_t i) {
    if (as_float) {
        float v;
        switch (dt) {
        case MF_ONNX_FLOAT: v = bits_to_float(mf_le32(p)); break;
        case MF_ONNX_FLOAT16: v = half_to_float(mf_le16(p)); break;
        case MF_ONNX_BFLOAT16: v = bits_to_float((uint32_t)mf_le16(p) << 16); break;
        default: { /* DOUBLE */
            uint64_t b = mf_le64(p);
            double d;
            memcpy(&d, &b, 8);
            v = (float)d;
        }
        }
        ((float *)out)[i] = v;
    } else {
        int64_t v;
        switch (dt) {
        case MF_ONNX_INT8: v = (int8_t)p[0]; break;
        case MF_ONNX_UINT8: v = p[0]; break;
        case MF_ONNX_BOOL: v = p[0] != 0; break;
        case MF_ONNX_INT16: v = (int16_t)mf_le16(p); break;
        case MF_ONNX_UINT16: v = mf_le16(p); break;
        case MF_ONNX_INT32: v = (int32_t)mf_le32(p); break;
        case MF_ONNX_UINT32: v = mf_le32(p); break;
        case MF_ONNX_UINT64: {
            uint64_t u = mf_le64(p);
            v = u > INT64_MAX ? INT64_MAX : (int64_t)u;
            break;
        }
        default: v = (int64_t)mf_le64(p); break; /* INT64 */
        }
        ((int32_t *)out)[i] = clamp_i64(v);
    }
}

/* One element from a typed field value (varint, or the raw bits of a fixed32/fixed64). */
static void typed_elem(int dt, uint64_t raw, int as_float, void *out, size_t i) {
    if (as_float) {
        float v;
        switch (dt) {
        case MF_ONNX_FLOAT: v = bits_to_float((uint32_t)raw); break;
        case MF_ONNX_FLOAT16: v = half_to_float((uint16_t)raw); break;
        case MF_ONNX_BFLOAT16: v = bits_to_float((uint32_t)(uint16_t)raw << 16); break;
        default: {
            double d;
            memcpy(&d, &raw, 8);
            v = (float)d;
        }
        }
        ((float *)out)[i] = v;
    } else {
        int64_t v;
        switch (dt) {
        case MF_ONNX_UINT32:
        case MF_ONNX_UINT64: v = raw > INT64_MAX ? INT64_MAX : (int64_t)raw; break;
        case MF_ONNX_BOOL: v = raw != 0; break;
        case MF_ONNX_INT64: v = (int64_t)raw; break;
        default: v = (int32_t)(uint32_t)raw; break; /* int32_data holds int32 (sign-extended varint) */
        }
        ((int32_t *)out)[i] = clamp_i64(v);
    }
}

/* ---------------------------------------------------------------- TensorProto */

static const char *field_name(int f) {
    switch (f) {
    case 4: return "float_data";
    case 5: return "int32_data";
    case 7: return "int64_data";
    case 10: return "double_data";
    default: return "uint64_data";
    }
}

int mf_onnx_tensor_parse(mf_pb_span msg, const uint8_t *base, mf_onnx_tensor *t) {
    memset(t, 0, sizeof *t);
    t->msg = msg;
    t->name = t->raw = EMPTY_SPAN;
    mf_pb_reader r;
    mf_pb_field f;
    int st;
    mf_pb_init(&r, msg, base, "TensorProto");
    while ((st = mf_pb_next(&r, &f)) > 0) {
        switch (f.num) {
        case 1: { /* dims, packed or not */
            const uint8_t *p = f.s.p, *end = f.s.p + f.s.n;
            uint64_t v = f.v;
            int packed = f.wt == MF_PB_LEN;
            if (!packed && (st = mf_pb_expect(&r, &f, MF_PB_VARINT))) return st;
            for (;;) {
                if (packed) {
                    if (p >= end) break;
                    if (rd_varint(&p, end, &v)) return pb_err(&r, f.off, "bad varint in dims");
                }
                if (t->ndim >= MF_ONNX_MAX_RANK)
                    return mf_error_set(MF_ERR_UNSUPPORTED, "TensorProto: more than %d dims (offset %zu)",
                                        MF_ONNX_MAX_RANK, f.off);
                if ((int64_t)v < 0) return pb_err(&r, f.off, "negative dimension %lld", (long long)(int64_t)v);
                t->dims[t->ndim++] = (int64_t)v;
                if (!packed) break;
            }
            break;
        }
        case 2:
            if ((st = mf_pb_expect(&r, &f, MF_PB_VARINT))) return st;
            if ((int64_t)f.v < 0 || f.v > 1000) return pb_err(&r, f.off, "bad data_type %lld", (long long)f.v);
            t->data_type = (int)f.v;
            break;
        case 3: t->has_segment = 1; break;
        case 8:
            if ((st = mf_pb_expect(&r, &f, MF_PB_LEN))) return st;
            t->name = f.s;
            break;
        case 9:
            if ((st = mf_pb_expect(&r, &f, MF_PB_LEN))) return st;
            t->has_raw = 1;
            t->raw = f.s;
            break;
        case 13: t->external = 1; break;
        case 14:
            if ((st = mf_pb_expect(&r, &f, MF_PB_VARINT))) return st;
            if (f.v == 1) t->external = 1;
            break;
        case 4:
        case 5:
        case 7:
        case 10:
        case 11: {
            if (t->typed_field && t->typed_field != (int)f.num)
                return pb_err(&r, f.off, "both %s and %s present", field_name(t->typed_field), field_name((int)f.num));
            t->typed_field = (int)f.num;
            int fixed = f.num == 4 ? 4 : f.num == 10 ? 8 : 0; /* float_data fixed32, double_data fixed64 */
            size_t n = 0;
            if (f.wt == MF_PB_LEN) {
                if (fixed) {
                    if (f.s.n % (size_t)fixed)
                        return pb_err(&r, f.off, "packed %s is not a whole number of values", field_name((int)f.num));
                    n = f.s.n / (size_t)fixed;
                } else if ((st = count_packed_varints(&r, &f, &n)))
                    return st;
            } else {
                int want = fixed == 4 ? MF_PB_I32 : fixed == 8 ? MF_PB_I64 : MF_PB_VARINT;
                if ((st = mf_pb_expect(&r, &f, want))) return st;
                n = 1;
            }
            t->typed_count += n;
            break;
        }
        default: break;
        }
    }
    return st;
}

int mf_onnx_tensor_numel(const mf_onnx_tensor *t, size_t max_elems, size_t *numel) {
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        if (t->dims[i] > INT32_MAX || mf_size_mul(n, (size_t)t->dims[i], &n) || n > max_elems)
            return mf_error_set(MF_ERR_LIMIT, "tensor '%.*s' has more than %zu elements",
                                (int)(t->name.n > 200 ? 200 : t->name.n), (const char *)t->name.p, max_elems);
    *numel = n;
    return MF_OK;
}

int mf_onnx_tensor_decode(const mf_onnx_tensor *t, int as_float, size_t numel, void **out) {
    *out = NULL;
    int nl = (int)(t->name.n > 200 ? 200 : t->name.n);
    const char *nm = (const char *)t->name.p;
    int kind = mf_onnx_dtype_kind(t->data_type);
    if (kind < 0)
        return mf_error_set(MF_ERR_UNSUPPORTED, "tensor '%.*s': data type %s (%d) is not supported", nl, nm,
                            mf_onnx_dtype_name(t->data_type), t->data_type);
    if (kind != as_float)
        return mf_error_set(MF_ERR_UNSUPPORTED, "tensor '%.*s': %s where %s is needed", nl, nm,
                            mf_onnx_dtype_name(t->data_type), as_float ? "a float type" : "an integer type");
    if (t->external)
        return mf_error_set(MF_ERR_UNSUPPORTED, "tensor '%.*s': external data files are not supported", nl, nm);
    if (t->has_segment)
        return mf_error_set(MF_ERR_UNSUPPORTED, "tensor '%.*s': segmented tensors are not supported", nl, nm);
    size_t es = dtype_size(t->data_type);
    void *buf = malloc(numel ? numel * 4 : 4);
    if (!buf) return mf_error_set(MF_ERR_NOMEM, "out of memory decoding tensor '%.*s'", nl, nm);
    if (t->has_raw) {
        if (t->typed_field) {
            free(buf);
            return mf_error_set(MF_ERR_FORMAT, "tensor '%.*s' has both raw_data and %s", nl, nm,
                                field_name(t->typed_field));
        }
        if (t->raw.n / es != numel || t->raw.n % es) {
            free(buf);
            return mf_error_set(MF_ERR_FORMAT, "tensor '%.*s': raw_data has %zu bytes, its dims need %zu x %zu", nl, nm,
                                t->raw.n, numel, es);
        }
        for (size_t i = 0; i < numel; i++)
            raw_elem(t->data_type, t->raw.p + i * es, as_float, buf, i);
        *out = buf;
        return MF_OK;
    }
    if (numel == 0 && !t->typed_field) {
        *out = buf;
        return MF_OK;
    }
    int want = typed_field_of(t->data_type);
    if (!t->typed_field || t->typed_field != want || t->typed_count != numel) {
        free(buf);
        if (!t->typed_field) return mf_error_set(MF_ERR_FORMAT, "tensor '%.*s' has no data", nl, nm);
        if (t->typed_field != want)
            return mf_error_set(MF_ERR_FORMAT, "tensor '%.*s': %s data stored in %s", nl, nm,
                                mf_onnx_dtype_name(t->data_type), field_name(t->typed_field));
        return mf_error_set(MF_ERR_FORMAT, "tensor '%.*s': %zu values for %zu elements", nl, nm, t->typed_count, numel);
    }
    /* walk the message again, decoding every occurrence of the typed field */
    mf_pb_reader r;
    mf_pb_field f;
    int st;
    size_t i = 0;
    mf_pb_init(&r, t->msg, t->msg.p, "TensorProto");
    while ((st = mf_pb_next(&r, &f)) > 0) {
        if ((int)f.num != want) continue;
        if (f.wt != MF_PB_LEN) {
            if (i < numel) typed_elem(t->data_type, f.v, as_float, buf, i);
            i++;
            continue;
        }
        const uint8_t *p = f.s.p, *end = f.s.p + f.s.n;
        while (p < end && i < numel) {
            uint64_t v;
            if (want == 4) {
                v = mf_le32(p);
                p += 4;
            } else if (want == 10) {
                v = mf_le64(p);
                p += 8;
            } else if (rd_varint(&p, end, &v))
                break; /* validated when parsed */
            typed_elem(t->data_type, v, as_float, buf, i++);
        }
    }
    if (st < 0 || i != numel) {
        free(buf);
        return st < 0 ? st : mf_error_set(MF_ERR_FORMAT, "tensor '%.*s': inconsistent data", nl, nm);
    }
    *out = buf;
    return MF_OK;
}

/* ---------------------------------------------------------------- AttributeProto */

int mf_onnx_attr_parse(mf_pb_span msg, const uint8_t *base, mf_onnx_attr *a) {
    memset(a, 0, sizeof *a);
    a->name = a->s = a->t = EMPTY_SPAN;
    mf_pb_reader r;
    mf_pb_field f;
    int st, has_f = 0, has_i = 0, has_s = 0, has_t = 0;
    mf_pb_init(&r, msg, base, "AttributeProto");
    while ((st = mf_pb_next(&r, &f)) > 0) {
        switch (f.num) {
        case 1:
            if ((st = mf_pb_expect(&r, &f, MF_PB_LEN))) return st;
            a->name = f.s;
            break;
        case 20:
            if ((st = mf_pb_expect(&r, &f, MF_PB_VARINT))) return st;
            if (f.v > 100) return pb_err(&r, f.off, "bad attribute type %llu", (unsigned long long)f.v);
            a->type = (int)f.v;
            break;
        case 2:
            if ((st = mf_pb_expect(&r, &f, MF_PB_I32))) return st;
            a->f = bits_to_float((uint32_t)f.v);
            has_f = 1;
            break;
        case 3:
            if ((st = mf_pb_expect(&r, &f, MF_PB_VARINT))) return st;
            a->i = (int64_t)f.v;
            has_i = 1;
            break;
        case 4:
            if ((st = mf_pb_expect(&r, &f, MF_PB_LEN))) return st;
            a->s = f.s;
            has_s = 1;
            break;
        case 5:
            if ((st = mf_pb_expect(&r, &f, MF_PB_LEN))) return st;
            a->t = f.s;
            has_t = 1;
            break;
        case 7: /* floats */
            if (f.wt == MF_PB_LEN) {
                if (f.s.n % 4) return pb_err(&r, f.off, "packed floats is not a whole number of values");
                for (size_t k = 0; k < f.s.n / 4; k++) {
                    if (a->n_floats < MF_ONNX_MAX_ATTR_VALUES)
                        a->floats[a->n_floats] = bits_to_float(mf_le32(f.s.p + 4 * k));
                    if (a->n_floats < INT_MAX) a->n_floats++;
                }
            } else {
                if ((st = mf_pb_expect(&r, &f, MF_PB_I32))) return st;
                if (a->n_floats < MF_ONNX_MAX_ATTR_VALUES) a->floats[a->n_floats] = bits_to_float((uint32_t)f.v);
                if (a->n_floats < INT_MAX) a->n_floats++;
            }
            break;
        case 8: /* ints */
            if (f.wt == MF_PB_LEN) {
                const uint8_t *p = f.s.p, *end = f.s.p + f.s.n;
                while (p < end) {
                    uint64_t v;
                    if (rd_varint(&p, end, &v)) return pb_err(&r, f.off, "bad varint in ints");
                    if (a->n_ints < MF_ONNX_MAX_ATTR_VALUES) a->ints[a->n_ints] = (int64_t)v;
                    if (a->n_ints < INT_MAX) a->n_ints++;
                }
            } else {
                if ((st = mf_pb_expect(&r, &f, MF_PB_VARINT))) return st;
                if (a->n_ints < MF_ONNX_MAX_ATTR_VALUES) a->ints[a->n_ints] = (int64_t)f.v;
                if (a->n_ints < INT_MAX) a->n_ints++;
            }
            break;
        case 6:
        case 9:
        case 10:
        case 11:
        case 14:
        case 15:
        case 21:
        case 22:
        case 23: a->other = 1; break;
        default: break;
        }
    }
    if (st < 0) return st;
    if (a->type == MF_ONNX_ATTR_UNDEFINED) { /* IR version 1 files have no type: infer it */
        if (has_f)
            a->type = MF_ONNX_ATTR_FLOAT;
        else if (has_i)
            a->type = MF_ONNX_ATTR_INT;
        else if (has_s)
            a->type = MF_ONNX_ATTR_STRING;
        else if (has_t)
            a->type = MF_ONNX_ATTR_TENSOR;
        else if (a->n_floats)
            a->type = MF_ONNX_ATTR_FLOATS;
        else if (a->n_ints)
            a->type = MF_ONNX_ATTR_INTS;
    }
    return MF_OK;
}

/* ---------------------------------------------------------------- NodeProto */

int mf_onnx_node_parse(mf_pb_span msg, const uint8_t *base, mf_onnx_node *n) {
    n->msg = msg;
    n->name = n->op = n->domain = EMPTY_SPAN;
    n->n_in = n->n_out = n->n_attr = 0;
    mf_pb_reader r;
    mf_pb_field f;
    int st;
    mf_pb_init(&r, msg, base, "NodeProto");
    while ((st = mf_pb_next(&r, &f)) > 0) {
        switch (f.num) {
        case 1:
        case 2: {
            if ((st = mf_pb_expect(&r, &f, MF_PB_LEN))) return st;
            int *cnt = f.num == 1 ? &n->n_in : &n->n_out;
            if (*cnt >= MF_ONNX_MAX_NODE_IO)
                return mf_error_set(MF_ERR_LIMIT, "NodeProto: more than %d %s (offset %zu)", MF_ONNX_MAX_NODE_IO,
                                    f.num == 1 ? "inputs" : "outputs", f.off);
            (f.num == 1 ? n->in : n->out)[(*cnt)++] = f.s;
            break;
        }
        case 3:
        case 4:
        case 7:
            if ((st = mf_pb_expect(&r, &f, MF_PB_LEN))) return st;
            *(f.num == 3 ? &n->name : f.num == 4 ? &n->op : &n->domain) = f.s;
            break;
        case 5:
            if ((st = mf_pb_expect(&r, &f, MF_PB_LEN))) return st;
            if (n->n_attr < INT_MAX) n->n_attr++;
            break;
        default: break;
        }
    }
    return st;
}

int mf_onnx_node_attrs(const mf_onnx_node *n, const uint8_t *base, mf_onnx_attr *a, int cap, int *count) {
    mf_pb_reader r;
    mf_pb_field f;
    int st, k = 0;
    *count = 0;
    mf_pb_init(&r, n->msg, base, "NodeProto");
    while ((st = mf_pb_next(&r, &f)) > 0) {
        if (f.num != 5) continue;
        if (k >= cap) return mf_error_set(MF_ERR_LIMIT, "NodeProto: more than %d attributes (offset %zu)", cap, f.off);
        if ((st = mf_onnx_attr_parse(f.s, base, &a[k]))) return st;
        k++;
    }
    *count = k;
    return st;
}

/* ---------------------------------------------------------------- ValueInfoProto */

static int parse_shape(mf_pb_span msg, const uint8_t *base, mf_onnx_value_info *v) {
    mf_pb_reader r, rd;
    mf_pb_field f, g;
    int st;
    mf_pb_init(&r, msg, base, "TensorShapeProto");
    while ((st = mf_pb_next(&r, &f)) > 0) {
        if (f.num != 1) continue;
        if ((st = mf_pb_expect(&r, &f, MF_PB_LEN))) return st;
        int64_t d = -1;
        mf_pb_init(&rd, f.s, base, "TensorShapeProto.Dimension");
        while ((st = mf_pb_next(&rd, &g)) > 0) {
            if (g.num == 1) {
                if ((st = mf_pb_expect(&rd, &g, MF_PB_VARINT))) return st;
                d = (int64_t)g.v;
                if (d < 0) return pb_err(&rd, g.off, "negative dim_value");
            } else if (g.num == 2) {
                if ((st = mf_pb_expect(&rd, &g, MF_PB_LEN))) return st;
                d = -1;
            }
        }
        if (st < 0) return st;
        if (v->ndim < MF_ONNX_MAX_RANK) v->dims[v->ndim] = d;
        if (v->ndim <= MF_ONNX_MAX_RANK) v->ndim++;
    }
    return st;
}

int mf_onnx_value_info_parse(mf_pb_span msg, const uint8_t *base, mf_onnx_value_info *v) {
    memset(v, 0, sizeof *v);
    v->name = EMPTY_SPAN;
    mf_pb_reader r, rt, rtt;
    mf_pb_field f, g, h;
    int st;
    mf_pb_init(&r, msg, base, "ValueInfoProto");
    while ((st = mf_pb_next(&r, &f)) > 0) {
        if (f.num == 1) {
            if ((st = mf_pb_expect(&r, &f, MF_PB_LEN))) return st;
            v->name = f.s;
        } else if (f.num == 2) {
            if ((st = mf_pb_expect(&r, &f, MF_PB_LEN))) return st;
            mf_pb_init(&rt, f.s, base, "TypeProto");
            while ((st = mf_pb_next(&rt, &g)) > 0) {
                if (g.num == 1) {
                    if ((st = mf_pb_expect(&rt, &g, MF_PB_LEN))) return st;
                    v->has_type = 1;
                    mf_pb_init(&rtt, g.s, base, "TypeProto.Tensor");
                    while ((st = mf_pb_next(&rtt, &h)) > 0) {
                        if (h.num == 1) {
                            if ((st = mf_pb_expect(&rtt, &h, MF_PB_VARINT))) return st;
                            v->elem_type = h.v > 1000 ? -1 : (int)h.v;
                        } else if (h.num == 2) {
                            if ((st = mf_pb_expect(&rtt, &h, MF_PB_LEN))) return st;
                            v->has_shape = 1;
                            v->ndim = 0;
                            if ((st = parse_shape(h.s, base, v))) return st;
                        }
                    }
                    if (st < 0) return st;
                } else if (g.num == 4 || g.num == 5 || g.num == 8 || g.num == 9)
                    v->other_type = 1;
            }
            if (st < 0) return st;
        }
    }
    return st;
}

/* ---------------------------------------------------------------- GraphProto, ModelProto */

void mf_onnx_graph_free(mf_onnx_graph *g) {
    free(g->node);
    free(g->init);
    free(g->input);
    free(g->output);
    memset(g, 0, sizeof *g);
}

int mf_onnx_graph_parse(mf_pb_span msg, const uint8_t *base, mf_onnx_graph *g) {
    memset(g, 0, sizeof *g);
    g->name = EMPTY_SPAN;
    mf_pb_reader r;
    mf_pb_field f;
    int st;
    size_t cnt[4] = {0};
    /* pass 1: validate and count */
    mf_pb_init(&r, msg, base, "GraphProto");
    while ((st = mf_pb_next(&r, &f)) > 0) {
        int k = f.num == 1 ? 0 : f.num == 5 ? 1 : f.num == 11 ? 2 : f.num == 12 ? 3 : -1;
        if (k >= 0 || f.num == 2 || f.num == 15)
            if ((st = mf_pb_expect(&r, &f, MF_PB_LEN))) return st;
        if (k >= 0) cnt[k]++;
        if (f.num == 2) g->name = f.s;
        if (f.num == 15 && g->n_sparse < INT_MAX) g->n_sparse++;
    }
    if (st < 0) return st;
    for (int k = 0; k < 4; k++)
        if (cnt[k] > (size_t)INT_MAX / 2) return mf_error_set(MF_ERR_LIMIT, "GraphProto: too many entries");
    g->node = malloc((cnt[0] + 1) * sizeof(mf_pb_span));
    g->init = malloc((cnt[1] + 1) * sizeof(mf_pb_span));
    g->input = malloc((cnt[2] + 1) * sizeof(mf_pb_span));
    g->output = malloc((cnt[3] + 1) * sizeof(mf_pb_span));
    if (!g->node || !g->init || !g->input || !g->output) {
        mf_onnx_graph_free(g);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    /* pass 2: collect (already validated) */
    mf_pb_init(&r, msg, base, "GraphProto");
    while (mf_pb_next(&r, &f) > 0) {
        if (f.num == 1)
            g->node[g->n_node++] = f.s;
        else if (f.num == 5)
            g->init[g->n_init++] = f.s;
        else if (f.num == 11)
            g->input[g->n_input++] = f.s;
        else if (f.num == 12)
            g->output[g->n_output++] = f.s;
    }
    return MF_OK;
}

int mf_onnx_model_parse(const uint8_t *data, size_t len, mf_onnx_model_view *m) {
    memset(m, 0, sizeof *m);
    m->opset = -1;
    m->graph = EMPTY_SPAN;
    mf_pb_reader r, ro;
    mf_pb_field f, g;
    int st;
    mf_pb_span all = {data, len};
    mf_pb_init(&r, all, data, "ModelProto");
    while ((st = mf_pb_next(&r, &f)) > 0) {
        switch (f.num) {
        case 1:
            if ((st = mf_pb_expect(&r, &f, MF_PB_VARINT))) return st;
            m->ir_version = (int64_t)f.v;
            break;
        case 7:
            if ((st = mf_pb_expect(&r, &f, MF_PB_LEN))) return st;
            m->graph = f.s;
            m->n_graph++;
            break;
        case 8: {
            if ((st = mf_pb_expect(&r, &f, MF_PB_LEN))) return st;
            mf_pb_span domain = EMPTY_SPAN;
            int64_t version = -1;
            mf_pb_init(&ro, f.s, data, "OperatorSetIdProto");
            while ((st = mf_pb_next(&ro, &g)) > 0) {
                if (g.num == 1) {
                    if ((st = mf_pb_expect(&ro, &g, MF_PB_LEN))) return st;
                    domain = g.s;
                } else if (g.num == 2) {
                    if ((st = mf_pb_expect(&ro, &g, MF_PB_VARINT))) return st;
                    version = (int64_t)g.v;
                }
            }
            if (st < 0) return st;
            if (domain.n == 0 || (domain.n == 7 && !memcmp(domain.p, "ai.onnx", 7)))
                if (version > m->opset) m->opset = version;
            break;
        }
        case 25:
            if (m->n_functions < INT_MAX) m->n_functions++;
            break;
        default: break;
        }
    }
    return st;
}
