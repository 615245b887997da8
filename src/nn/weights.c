/* TF.js weightsManifest decoding: float32, int32, and the converter's quantisations (float16, uint8, uint16 with
 * scale/min). Used for graph models and for face-api's weights-only models. */
#include "nn/graph.h"

#include <cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: renormalise */
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400));
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | mant << 13;
    } else {
        bits = sign | (exp + 127 - 15) << 23 | mant << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Parses a JSON shape array into *s; dims must be >= 0 (weights have no unknown dims). */
static int parse_shape(const cJSON *arr, mf_nn_shape *s, const char *what) {
    if (!cJSON_IsArray(arr)) return mf_error_set(MF_ERR_FORMAT, "%s: shape is not an array", what);
    int n = cJSON_GetArraySize(arr);
    if (n > MF_NN_MAX_DIMS) return mf_error_set(MF_ERR_UNSUPPORTED, "%s: rank %d > %d", what, n, MF_NN_MAX_DIMS);
    s->ndim = n;
    int i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, arr) {
        if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > INT_MAX || d->valuedouble != floor(d->valuedouble))
            return mf_error_set(MF_ERR_FORMAT, "%s: bad dimension in shape", what);
        s->dim[i++] = (int)d->valuedouble;
    }
    return MF_OK;
}

void mf_nn_weights_free(mf_nn_weight *w, int n) {
    if (!w) return;
    for (int i = 0; i < n; i++) free(w[i].data);
    free(w);
}

int mf_nn_weights_decode(const cJSON *manifest, const uint8_t *bytes, size_t len, mf_nn_weight **out, int *nout) {
    *out = NULL;
    *nout = 0;
    if (!cJSON_IsArray(manifest)) return mf_error_set(MF_ERR_FORMAT, "weightsManifest is not an array");
    int total = 0;
    const cJSON *group;
    cJSON_ArrayForEach(group, manifest) {
        const cJSON *ws = cJSON_GetObjectItemCaseSensitive(group, "weights");
        if (!cJSON_IsArray(ws)) return mf_error_set(MF_ERR_FORMAT, "weightsManifest group without a weights array");
        int k = cJSON_GetArraySize(ws);
        if (k > MF_NN_MAX_MANIFEST_WEIGHTS - total) return mf_error_set(MF_ERR_LIMIT, "too many weights in manifest");
        total += k;
    }
    mf_nn_weight *w = calloc(total ? (size_t)total : 1, sizeof *w);
    if (!w) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    size_t off = 0;
    int n = 0, st = MF_OK;
    cJSON_ArrayForEach(group, manifest) {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(group, "weights")) {
            mf_nn_weight *cur = &w[n];
            const cJSON *jn = cJSON_GetObjectItemCaseSensitive(e, "name");
            const cJSON *jd = cJSON_GetObjectItemCaseSensitive(e, "dtype");
            if (!cJSON_IsString(jn) || !cJSON_IsString(jd)) {
                st = mf_error_set(MF_ERR_FORMAT, "weight entry %d without name or dtype", n);
                goto fail;
            }
            if (strlen(jn->valuestring) >= sizeof cur->name) {
                st = mf_error_set(MF_ERR_LIMIT, "weight name longer than %zu bytes", sizeof cur->name - 1);
                goto fail;
            }
            strcpy(cur->name, jn->valuestring);
            if ((st = parse_shape(cJSON_GetObjectItemCaseSensitive(e, "shape"), &cur->shape, cur->name))) goto fail;
            size_t count = 1;
            for (int i = 0; i < cur->shape.ndim; i++)
                if (mf_size_mul(count, (size_t)cur->shape.dim[i], &count) || count > ((size_t)1 << 31)) {
                    st = mf_error_set(MF_ERR_LIMIT, "weight %s: element count overflows", cur->name);
                    goto fail;
                }
            if (strcmp(jd->valuestring, "float32") == 0) cur->dtype = MF_NN_F32;
            else if (strcmp(jd->valuestring, "int32") == 0) cur->dtype = MF_NN_I32;
            else {
                st = mf_error_set(MF_ERR_UNSUPPORTED, "weight %s: unsupported dtype '%s'", cur->name, jd->valuestring);
                goto fail;
            }
            const cJSON *q = cJSON_GetObjectItemCaseSensitive(e, "quantization");
            const char *qd = NULL;
            double scale = 1, qmin = 0;
            size_t esize = 4;
            if (q) {
                const cJSON *jqd = cJSON_GetObjectItemCaseSensitive(q, "dtype");
                if (!cJSON_IsString(jqd)) {
                    st = mf_error_set(MF_ERR_FORMAT, "weight %s: quantization without dtype", cur->name);
                    goto fail;
                }
                qd = jqd->valuestring;
                if (strcmp(qd, "float16") == 0) esize = 2;
                else if (strcmp(qd, "uint8") == 0 || strcmp(qd, "uint16") == 0) {
                    esize = qd[4] == '8' ? 1 : 2;
                    const cJSON *js = cJSON_GetObjectItemCaseSensitive(q, "scale");
                    const cJSON *jm = cJSON_GetObjectItemCaseSensitive(q, "min");
                    if (!cJSON_IsNumber(js) || !cJSON_IsNumber(jm)) {
                        st = mf_error_set(MF_ERR_FORMAT, "weight %s: %s quantization without scale/min", cur->name, qd);
                        goto fail;
                    }
                    scale = js->valuedouble;
                    qmin = jm->valuedouble;
                } else {
                    st = mf_error_set(MF_ERR_UNSUPPORTED, "weight %s: unsupported quantization '%s'", cur->name, qd);
                    goto fail;
                }
            }
            size_t nbytes = count * esize;
            if (nbytes > len || off > len - nbytes) {
                st = mf_error_set(MF_ERR_FORMAT, "weight %s needs bytes %zu..%zu but the shards hold only %zu",
                                  cur->name, off, off + nbytes, len);
                goto fail;
            }
            cur->data = malloc(count ? count * 4 : 4);
            if (!cur->data) {
                st = mf_error_set(MF_ERR_NOMEM, "out of memory");
                goto fail;
            }
            n++;
            const uint8_t *src = bytes + off;
            if (!qd) {
                memcpy(cur->data, src, count * 4);
            } else if (esize == 2 && qd[0] == 'f') {
                for (size_t i = 0; i < count; i++) {
                    float v = half_to_float((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
                    if (cur->dtype == MF_NN_F32) ((float *)cur->data)[i] = v;
                    else ((int32_t *)cur->data)[i] = (int32_t)lrintf(v);
                }
            } else {
                for (size_t i = 0; i < count; i++) {
                    unsigned u = esize == 1 ? src[i] : (unsigned)(src[2 * i] | src[2 * i + 1] << 8);
                    /* TF.js dequantises in float32: value = q * scale + min */
                    float v = (float)u * (float)scale + (float)qmin;
                    if (cur->dtype == MF_NN_F32) ((float *)cur->data)[i] = v;
                    else ((int32_t *)cur->data)[i] = (int32_t)lrintf(v);
                }
            }
            off += nbytes;
        }
    }
    *out = w;
    *nout = n;
    return MF_OK;
fail:
    mf_nn_weights_free(w, n);
    return st;
}

int mf_nn_weights_read_shards(const cJSON *manifest, const char *dir, uint8_t **bytes, size_t *len) {
    *bytes = NULL;
    *len = 0;
    uint8_t *all = NULL;
    size_t n = 0;
    const cJSON *group;
    cJSON_ArrayForEach(group, manifest) {
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(group, "paths")) {
            if (!cJSON_IsString(p) || strstr(p->valuestring, "..") || p->valuestring[0] == '/') {
                free(all);
                return mf_error_set(MF_ERR_FORMAT, "weight shard path is not a plain relative file name");
            }
            char path[4096];
            if (snprintf(path, sizeof path, "%s/%s", dir, p->valuestring) >= (int)sizeof path) {
                free(all);
                return mf_error_set(MF_ERR_LIMIT, "weight shard path too long");
            }
            uint8_t *part;
            size_t plen;
            int st = mf_file_read(path, MF_NN_MAX_WEIGHT_BYTES, &part, &plen);
            if (st) {
                free(all);
                return st;
            }
            if (plen > MF_NN_MAX_WEIGHT_BYTES - n) {
                free(part);
                free(all);
                return mf_error_set(MF_ERR_LIMIT, "weight shards exceed %d bytes", MF_NN_MAX_WEIGHT_BYTES);
            }
            uint8_t *na = realloc(all, n + plen + 1);
            if (!na) {
                free(part);
                free(all);
                return mf_error_set(MF_ERR_NOMEM, "out of memory");
            }
            all = na;
            memcpy(all + n, part, plen);
            n += plen;
            free(part);
        }
    }
    *bytes = all;
    *len = n;
    return MF_OK;
}
