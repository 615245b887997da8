/* Identity model file: allocation, loading (untrusted input: every size checked), saving.
 *
 * Format (little-endian), version 1:
 *   0   "MFIDENT1"
 *   8   u32 version (1), u32 n_sections (<= MF_ANON_MAX_SECTIONS)
 *   16  u32 T, n_tri, ks, kt, nd, n_train
 *   40  f32 age_mean, age_min, age_max, male_frac, age_r2, gender_acc
 *   64  section table: n_sections x {u32 id, u32 type (0 f32, 1 f16, 2 u8, 3 i32), u64 offset, u64 bytes}
 *   then the sections, each at its offset. Every section id 1..11 appears exactly once with the type and size
 *   its dimensions give: 1 tri i32 [n_tri*3], 2 hole u8 [n_tri], 3 uv f32 [468*2], 4 shape mean f32 [468*3],
 *   5 shape basis f16 [ks*1404], 6 texture mean f16 [T*T*3], 7 texture basis f16 [kt*T*T*3],
 *   8 age read-out f32 [ks+kt+1], 9 gender read-out f32 [ks+kt+1], 10 detail f16 [nd*T*T], 11 valid u8 [T*T],
 *   12 conditional code statistics f32 [14 * (2 + 2*(ks+kt))] (per age bin and gender: count, mean age, means,
 *   standard deviations; each bucket pools at least 5 training faces or is empty).
 *   Optional (n_sections 13): 13 recognizer metric f32 [(ks+kt)^2] (push38: which code directions the recognizers
 *   read; fitted by mf_anon_train with opts->rec).
 *   Optional (age47): 14 detail ages f32 [nd] (the mean age of the training faces whose skin made each detail map;
 *   the anonymizer takes a map of the target's age group). n_sections counts the sections present (12 to 14). */
#include "anon/internal.h"
#include "core/bytes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { HDR = 64, ENTRY = 24, N_IDS = 12, N_OPT = 14, T_F32 = 0, T_F16 = 1, T_U8 = 2, T_I32 = 3 };
static const char MAGIC[8] = {'M', 'F', 'I', 'D', 'E', 'N', 'T', '1'};


static float half_to_float(uint16_t h) {
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023, u;
    if (e == 0) {
        float f = ldexpf((float)m, -24);
        return s ? -f : f;
    }
    if (e == 31) u = s | 0x7f800000u | (m << 13);
    else u = s | ((e + 112) << 23) | (m << 13);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint16_t float_to_half(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t s = (uint16_t)((u >> 16) & 0x8000);
    float a = fabsf(f);
    if (!(a == a)) return s | 0x7e00;
    if (a >= 65504.f) return s | 0x7bff; /* clamp to the largest finite half */
    if (a < 6.103515625e-05f) return s | (uint16_t)lrintf(a * 16777216.f);
    int e;
    float fr = frexpf(a, &e); /* a = fr * 2^e, fr in [0.5, 1) */
    int m = (int)lrintf((fr * 2 - 1) * 1024);
    int eb = e - 1 + 15;
    if (m == 1024) m = 0, eb++;
    if (eb >= 31) return s | 0x7bff;
    return s | (uint16_t)(eb << 10) | (uint16_t)m;
}

static size_t sec_count(const struct mf_anon_model *m, int id) {
    size_t T2 = (size_t)m->T * m->T, k = (size_t)m->ks + m->kt + 1;
    switch (id) {
    case 1: return (size_t)m->n_tri * 3;
    case 2: return (size_t)m->n_tri;
    case 3: return NV * 2;
    case 4: return NV * 3;
    case 5: return (size_t)m->ks * NV * 3;
    case 6: return T2 * 3;
    case 7: return (size_t)m->kt * T2 * 3;
    case 8:
    case 9: return k;
    case 10: return (size_t)m->nd * T2;
    case 11: return T2;
    case 12: return (size_t)MF_ANON_BUCKETS * (2 + 2 * ((size_t)m->ks + m->kt));
    case 13: return ((size_t)m->ks + m->kt) * ((size_t)m->ks + m->kt);
    case 14: return (size_t)m->nd;
    }
    return 0;
}
static int sec_type(int id) { return id == 1 ? T_I32 : id == 2 || id == 11 ? T_U8 : id == 5 || id == 6 || id == 7 || id == 10 ? T_F16 : T_F32; }
static size_t type_size(int t) { return t == T_F16 ? 2 : t == T_U8 ? 1 : 4; }

int mf_anon_model_alloc(struct mf_anon_model *m) {
    size_t T2 = (size_t)m->T * m->T, k = (size_t)m->ks + m->kt + 1;
    m->tri = malloc(sizeof(int) * ((size_t)m->n_tri * 3 + 1));
    m->hole = calloc((size_t)m->n_tri + 1, 1);
    m->uv = malloc(sizeof(float) * NV * 2);
    m->shape_mean = malloc(sizeof(float) * NV * 3);
    m->shape_basis = malloc(sizeof(float) * ((size_t)m->ks * NV * 3 + 1));
    m->tex_mean = malloc(sizeof(float) * T2 * 3);
    m->tex_basis = malloc(sizeof(float) * ((size_t)m->kt * T2 * 3 + 1));
    m->age_w = calloc(k, sizeof(float));
    m->male_w = calloc(k, sizeof(float));
    m->detail = malloc(sizeof(float) * ((size_t)m->nd * T2 + 1));
    m->valid = calloc(T2, 1);
    m->cond = calloc((size_t)MF_ANON_BUCKETS * (2 + 2 * (k - 1)), sizeof(float));
    if (!m->tri || !m->hole || !m->uv || !m->shape_mean || !m->shape_basis || !m->tex_mean || !m->tex_basis ||
        !m->age_w || !m->male_w || !m->detail || !m->valid || !m->cond)
        return mf_error_set(MF_ERR_NOMEM, "out of memory (identity model)");
    return MF_OK;
}

void mf_anon_model_free(mf_anon_model_t *m) {
    if (!m) return;
    free(m->tri), free(m->hole), free(m->uv), free(m->shape_mean), free(m->shape_basis), free(m->tex_mean);
    free(m->tex_basis), free(m->age_w), free(m->male_w), free(m->detail), free(m->valid), free(m->cond);
    free(m->metric), free(m->detail_age);
    free(m);
}

static void *sec_ptr(struct mf_anon_model *m, int id) {
    switch (id) {
    case 1: return m->tri;
    case 2: return m->hole;
    case 3: return m->uv;
    case 4: return m->shape_mean;
    case 5: return m->shape_basis;
    case 6: return m->tex_mean;
    case 7: return m->tex_basis;
    case 8: return m->age_w;
    case 9: return m->male_w;
    case 10: return m->detail;
    case 11: return m->valid;
    case 12: return m->cond;
    case 13: return m->metric;
    case 14: return m->detail_age;
    }
    return NULL;
}

/* Every read goes through the shared bounds-checked cursor (src/core/bytes.h): the header and section table
 * sequentially, each section as a checked view of [offset, offset + bytes). */
int mf_anon_model_load_mem(const uint8_t *buf, size_t len, mf_anon_model_t **out) {
    *out = NULL;
    mf_cur c;
    const uint8_t *magic;
    uint32_t version, ns, d[6];
    mf_cur_init(&c, buf, len);
    if (len < HDR || mf_cur_bytes(&c, 8, &magic) || memcmp(magic, MAGIC, 8))
        return mf_error_set(MF_ERR_FORMAT, "identity model: not an MFIDENT1 file");
    if (mf_cur_u32(&c, &version) || mf_cur_u32(&c, &ns))
        return mf_error_set(MF_ERR_FORMAT, "identity model: truncated header");
    if (version != 1) return mf_error_set(MF_ERR_UNSUPPORTED, "identity model: version %u", version);
    if (ns < N_IDS || ns > N_OPT || ns > MF_ANON_MAX_SECTIONS) return mf_error_set(MF_ERR_FORMAT, "identity model: %u sections", ns);
    if (!mf_cur_has(&c, HDR, (size_t)ns * ENTRY)) return mf_error_set(MF_ERR_FORMAT, "identity model: truncated section table");
    for (int i = 0; i < 6; i++)
        if (mf_cur_u32(&c, &d[i])) return mf_error_set(MF_ERR_FORMAT, "identity model: truncated header");
    if (d[0] < 8 || d[0] > MF_ANON_MAX_TEX || d[1] < 1 || d[1] > MF_ANON_MAX_TRIS || d[2] > MF_ANON_MAX_COMPONENTS ||
        d[3] > MF_ANON_MAX_COMPONENTS || d[4] > MF_ANON_MAX_DETAIL)
        return mf_error_set(MF_ERR_LIMIT, "identity model: dimensions over the caps");
    mf_anon_model_t *m = calloc(1, sizeof *m);
    if (!m) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    m->T = (int)d[0], m->n_tri = (int)d[1], m->ks = (int)d[2], m->kt = (int)d[3], m->nd = (int)d[4];
    m->n_train = (int)(d[5] > 1000000 ? 1000000 : d[5]);
    float *fs[6] = {&m->age_mean, &m->age_min, &m->age_max, &m->male_frac, &m->age_r2, &m->gender_acc};
    for (int i = 0; i < 6; i++) {
        if (mf_cur_f32(&c, fs[i]) || !isfinite(*fs[i])) {
            free(m);
            return mf_error_set(MF_ERR_FORMAT, "identity model: non-finite header value");
        }
    }
    int st = mf_anon_model_alloc(m);
    int seen[N_OPT + 1] = {0};
    for (uint32_t i = 0; !st && i < ns; i++) {
        size_t e = HDR + (size_t)i * ENTRY; /* inside: the whole table was checked */
        uint32_t id = 0, type = 0;
        uint64_t off = 0, bytes = 0;
        mf_cur_u32_at(&c, e, &id), mf_cur_u32_at(&c, e + 4, &type);
        mf_cur_u64_at(&c, e + 8, &off), mf_cur_u64_at(&c, e + 16, &bytes);
        if (id < 1 || id > N_OPT || seen[id]++) {
            st = mf_error_set(MF_ERR_FORMAT, "identity model: bad or repeated section id %u", id);
            break;
        }
        /* the optional sections (13 metric, 14 detail ages) are allocated when the table lists them */
        float **opt = id == 13 ? &m->metric : id == 14 ? &m->detail_age : NULL;
        if (opt && !(*opt = malloc(sizeof(float) * sec_count(m, (int)id) + 1))) {
            st = mf_error_set(MF_ERR_NOMEM, "out of memory (identity model)");
            break;
        }
        size_t cnt = sec_count(m, (int)id), want;
        const uint8_t *p = NULL;
        if ((int)type != sec_type((int)id) || mf_size_mul(cnt, type_size((int)type), &want) || bytes != want ||
            off > SIZE_MAX || mf_cur_bytes_at(&c, (size_t)off, (size_t)bytes, &p)) {
            st = mf_error_set(MF_ERR_FORMAT, "identity model: section %u has the wrong type, size or offset", id);
            break;
        }
        void *dst = sec_ptr(m, (int)id);
        for (size_t j = 0; j < cnt && !st; j++) {
            if (type == T_U8) ((uint8_t *)dst)[j] = p[j];
            else if (type == T_I32) {
                uint32_t v = mf_le32(p + 4 * j);
                if (v >= NV) st = mf_error_set(MF_ERR_FORMAT, "identity model: vertex index %u out of range", v);
                ((int *)dst)[j] = (int)v;
            } else {
                float v = type == T_F16 ? half_to_float(mf_le16(p + 2 * j)) : mf_lef32(p + 4 * j);
                if (!isfinite(v) || fabsf(v) > 1e6f) st = mf_error_set(MF_ERR_FORMAT, "identity model: section %u value out of range", id);
                ((float *)dst)[j] = v;
            }
        }
    }
    for (int i = 1; !st && i <= N_IDS; i++)
        if (!seen[i]) st = mf_error_set(MF_ERR_FORMAT, "identity model: section %d missing", i);
    for (int i = 0; !st && i < NV * 2; i++)
        if (m->uv[i] < 0 || m->uv[i] > m->T) st = mf_error_set(MF_ERR_FORMAT, "identity model: texture coordinate outside the texture");
    for (int i = 0; !st && m->detail_age && i < m->nd; i++)
        if (m->detail_age[i] < 0 || m->detail_age[i] > 150) st = mf_error_set(MF_ERR_FORMAT, "identity model: detail map age out of range");
    if (st) {
        mf_anon_model_free(m);
        return st;
    }
    *out = m;
    return MF_OK;
}

int mf_anon_model_load(const char *path, mf_anon_model_t **out) {
    *out = NULL;
    uint8_t *buf;
    size_t len;
    int st = mf_file_read(path, MF_ANON_MODEL_MAX_BYTES, &buf, &len);
    if (st) return mf_error_prefix(st, "identity model %s", path);
    st = mf_anon_model_load_mem(buf, len, out);
    free(buf);
    return st ? mf_error_prefix(st, "%s", path) : MF_OK;
}

static void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24); }

int mf_anon_model_save(const mf_anon_model_t *m, const char *path) {
    int ids[N_OPT], ns = 0; /* the sections present, in id order */
    for (int id = 1; id <= N_OPT; id++)
        if (id <= N_IDS || sec_ptr((struct mf_anon_model *)m, id)) ids[ns++] = id;
    size_t total = HDR + (size_t)ns * ENTRY, offs[N_OPT + 1], sizes[N_OPT + 1];
    for (int i = 0; i < ns; i++) {
        int id = ids[i];
        offs[id] = total;
        sizes[id] = sec_count(m, id) * type_size(sec_type(id));
        total += (sizes[id] + 7) & ~(size_t)7;
    }
    uint8_t *b = calloc(total, 1);
    if (!b) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    memcpy(b, MAGIC, 8);
    wr32(b + 8, 1), wr32(b + 12, (uint32_t)ns);
    uint32_t d[6] = {(uint32_t)m->T, (uint32_t)m->n_tri, (uint32_t)m->ks, (uint32_t)m->kt, (uint32_t)m->nd, (uint32_t)m->n_train};
    for (int i = 0; i < 6; i++) wr32(b + 16 + 4 * i, d[i]);
    const float fs[6] = {m->age_mean, m->age_min, m->age_max, m->male_frac, m->age_r2, m->gender_acc};
    for (int i = 0; i < 6; i++) {
        uint32_t u;
        memcpy(&u, &fs[i], 4);
        wr32(b + 40 + 4 * i, u);
    }
    for (int i = 0; i < ns; i++) {
        int id = ids[i];
        uint8_t *e = b + HDR + (size_t)i * ENTRY;
        wr32(e, (uint32_t)id), wr32(e + 4, (uint32_t)sec_type(id));
        wr32(e + 8, (uint32_t)offs[id]), wr32(e + 12, (uint32_t)((uint64_t)offs[id] >> 32));
        wr32(e + 16, (uint32_t)sizes[id]), wr32(e + 20, (uint32_t)((uint64_t)sizes[id] >> 32));
        uint8_t *p = b + offs[id];
        size_t cnt = sec_count(m, id);
        const void *src = sec_ptr((struct mf_anon_model *)m, id);
        for (size_t j = 0; j < cnt; j++) {
            switch (sec_type(id)) {
            case T_U8: p[j] = ((const uint8_t *)src)[j]; break;
            case T_I32: wr32(p + 4 * j, (uint32_t)((const int *)src)[j]); break;
            case T_F16: {
                uint16_t h = float_to_half(((const float *)src)[j]);
                p[2 * j] = (uint8_t)h, p[2 * j + 1] = (uint8_t)(h >> 8);
                break;
            }
            default: {
                uint32_t u;
                memcpy(&u, (const float *)src + j, 4);
                wr32(p + 4 * j, u);
            }
            }
        }
    }
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        free(b);
        return mf_error_set(MF_ERR_ARG, "path too long");
    }
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(b, 1, total, f) == total;
    if (f && fclose(f)) ok = 0;
    free(b);
    if (!ok || rename(tmp, path)) {
        remove(tmp);
        return mf_error_set(MF_ERR_IO, "cannot write %s", path);
    }
    return MF_OK;
}

void mf_anon_model_get_info(const mf_anon_model_t *m, mf_anon_model_info *i) {
    memset(i, 0, sizeof *i);
    i->tex_side = m->T, i->n_tri = m->n_tri, i->n_shape = m->ks, i->n_tex = m->kt, i->n_detail = m->nd;
    i->n_train = m->n_train, i->age_mean = m->age_mean, i->age_min = m->age_min, i->age_max = m->age_max;
    i->male_fraction = m->male_frac, i->age_r2 = m->age_r2, i->gender_acc = m->gender_acc;
    i->has_metric = m->metric != NULL;
    for (int d = 0; m->detail_age && d < m->nd; d++) {
        int new_age = 1;
        for (int e = 0; e < d; e++) new_age &= m->detail_age[e] != m->detail_age[d];
        i->n_detail_ages += new_age;
    }
}

int mf_anon_detail_pick(const struct mf_anon_model *m, float age, uint64_t pick) {
    if (m->nd <= 0) return -1;
    if (!m->detail_age || age < 0) return (int)(pick % (uint64_t)m->nd);
    float best = 1e30f;
    int n = 0;
    for (int d = 0; d < m->nd; d++) best = fminf(best, fabsf(m->detail_age[d] - age));
    for (int d = 0; d < m->nd; d++) n += fabsf(m->detail_age[d] - age) == best;
    uint64_t k = pick % (uint64_t)n;
    for (int d = 0; d < m->nd; d++)
        if (fabsf(m->detail_age[d] - age) == best && k-- == 0) return d;
    return 0; /* not reached */
}
