/* Face attributes (apparent age, gender) from the networks of the human-models folder. Each model gets its own
 * crop around the face box (square, rotated by the box's roll, per-model scale and shift measured on LFW:
 * docs/attributes.md) and its own input normalisation and output decoding. */
#include "face/internal.h"
#include "mfmc/attrib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { IN_RGB01, IN_RGB255, IN_GREY_PM1 } in_kind;
typedef enum { OUT_GEAR, OUT_FACERES, OUT_SSR_AGE, OUT_CNN_GENDER, OUT_SSR_GENDER } out_kind;

/* How each attribute model of the catalogue (role MF_FACE_ROLE_ATTRIBUTE; info.name is its catalogue name, which
 * holds the files) is fed and decoded. */
typedef struct {
    mf_face_attrib_model_info info;
    int channels;
    in_kind in;
    out_kind out;
    const char *age_out, *gender_out; /* output tensor names (NULL if none) */
    int age_len, gender_len;          /* their element counts */
    mf_face_attrib_tuning tune;       /* measured defaults */
} model_spec;

/* Crops (scale, dy) and channel order measured on LFW with facemesh-detection-full boxes (docs/attributes.md).
 * The networks trained with OpenCV (HSE FaceRes, SSR-Net) want BGR although human feeds them RGB. */
static const model_spec specs[] = {
    {{"gear", "GEAR-Predictor: age in 7 buckets, gender, race (198 px, RGB 0..1)", 1, 1, 198},
     3, IN_RGB01, OUT_GEAR, "Identity:0", "Identity_1:0", 7, 2, {1.1f, 0.0f, 1.0f, 0, 0}},
    {{"faceres", "HSE FaceRes (fp16 weights): age softmax over 0..99 years, gender sigmoid (224 px, BGR 0..255)",
      1, 1, 224},
     3, IN_RGB255, OUT_FACERES, "age_pred/Softmax:0", "gender_pred/Sigmoid:0", 100, 1, {1.3f, 0.0f, 1.0f, 1, 0}},
    {{"faceres-deep", "HSE FaceRes, fp32 weights of another training run: same outputs as faceres (224 px, BGR 0..255)", 1, 1, 224},
     3, IN_RGB255, OUT_FACERES, "age_pred/Softmax:0", "gender_pred/Sigmoid:0", 100, 1, {1.3f, 0.0f, 1.0f, 1, 0}},
    {{"age", "SSR-Net age regression (64 px, BGR 0..255)", 1, 0, 64},
     3, IN_RGB255, OUT_SSR_AGE, "Identity:0", NULL, 1, 0, {1.8f, 0.0f, 1.0f, 1, 0}},
    {{"gender", "face_classification CNN gender [female, male] (64 px, grey -1..1)", 0, 1, 64},
     1, IN_GREY_PM1, OUT_CNN_GENDER, NULL, "Identity:0", 0, 2, {1.8f, 0.0f, 1.0f, 0, 0}},
    {{"gender-ssrnet-imdb", "SSR-Net gender trained on IMDB, 1 = male (64 px, BGR 0..255)", 0, 1, 64},
     3, IN_RGB255, OUT_SSR_GENDER, NULL, "Identity:0", 0, 1, {1.6f, 0.0f, 1.0f, 1, 0}},
};
enum { N_SPECS = sizeof specs / sizeof *specs, MAX_NAMES = MF_FACE_ATTRIB_MAX_LIST };

/* The age buckets of GEAR ('below 20', '21-25', '26-30', '31-40', '41-50', '51-60', 'above 60') as the ages
 * human's decoder gives them. */
static const float gear_ages[7] = {15, 23, 28, 35.5f, 45.5f, 55.5f, 65};

typedef struct {
    const model_spec *s;
    mf_face_session_model sm; /* shared model, this session's plan */
    mf_nn_plan_t *plan;       /* sm.plan */
    int out_age, out_gender;
    mf_face_attrib_tuning tune;
    int for_age, for_gender; /* member of the age / gender set */
} loaded_model;

struct mf_face_attrib {
    loaded_model m[N_SPECS];
    int n;
    char age_names[MAX_NAMES], gender_names[MAX_NAMES]; /* the sets, normalised ("a+b"), "" if none */
    float *rgb; /* crop scratch: largest input side squared * 3 */
    mf_face_models_t *own_models; /* created by mf_face_attrib_create, else NULL (shared) */
};

int mf_face_attrib_model_count(void) { return N_SPECS; }

const mf_face_attrib_model_info *mf_face_attrib_model_at(int i) {
    return i >= 0 && i < N_SPECS ? &specs[i].info : NULL;
}

static const model_spec *spec_find(const char *name, size_t len) {
    for (int i = 0; i < N_SPECS; i++)
        if (strlen(specs[i].info.name) == len && strncmp(specs[i].info.name, name, len) == 0) return &specs[i];
    return NULL;
}

const mf_face_attrib_model_info *mf_face_attrib_model_find(const char *name) {
    const model_spec *s = name ? spec_find(name, strlen(name)) : NULL;
    return s ? &s->info : NULL;
}

static loaded_model *loaded_find(const mf_face_attrib_t *h, const char *name) {
    for (int i = 0; i < h->n; i++)
        if (name && strcmp(h->m[i].s->info.name, name) == 0) return (loaded_model *)&h->m[i];
    return NULL;
}

static int known_list(char *buf, size_t len) {
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < N_SPECS && o < len; i++) o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", specs[i].info.name);
    return 0;
}

/* Parses "a+b+..." into the set (marking loaded entries, adding new ones) and writes the normalised names. */
static int parse_set(mf_face_attrib_t *h, const char *list, const char *dflt, int age, char *names) {
    if (!list || !*list) list = dflt;
    names[0] = 0;
    if (strcmp(list, "none") == 0) return MF_OK;
    const char *p = list;
    for (;;) {
        const char *e = strchr(p, '+');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const model_spec *s = spec_find(p, len);
        if (!s) {
            char known[512];
            known_list(known, sizeof known);
            return mf_error_set(MF_ERR_ARG, "unknown attribute model '%.*s' (known: %s)", (int)len, p, known);
        }
        if (age ? !s->info.has_age : !s->info.has_gender)
            return mf_error_set(MF_ERR_ARG, "model '%s' does not estimate %s", s->info.name, age ? "age" : "gender");
        loaded_model *m = loaded_find(h, s->info.name);
        if (!m) {
            m = &h->m[h->n++];
            memset(m, 0, sizeof *m);
            m->s = s;
            m->tune = s->tune;
        }
        int *flag = age ? &m->for_age : &m->for_gender;
        if (!*flag) {
            *flag = 1;
            size_t o = strlen(names);
            if (o + strlen(s->info.name) + 2 > MAX_NAMES) return mf_error_set(MF_ERR_ARG, "model list too long");
            snprintf(names + o, MAX_NAMES - o, "%s%s", o ? "+" : "", s->info.name);
        }
        if (!e) break;
        p = e + 1;
    }
    return MF_OK;
}

static int model_load(loaded_model *m, mf_face_models_t *models, mf_nn_pool_t *pool) {
    const model_spec *s = m->s;
    /* shapes checked once so that filling and decoding can never go out of bounds */
    int st = mf_face_session_model_init(&m->sm, models, s->info.name, pool, s->info.input_size, s->channels, 0);
    m->plan = m->sm.plan;
    m->out_age = m->out_gender = -1;
    if (!st && s->age_out)
        st = mf_nn_plan_find_output(m->plan, s->age_out, (size_t)s->age_len, s->info.name, &m->out_age);
    if (!st && s->gender_out)
        st = mf_nn_plan_find_output(m->plan, s->gender_out, (size_t)s->gender_len, s->info.name, &m->out_gender);
    return st;
}

int mf_face_attrib_create_from(mf_face_models_t *models, mf_nn_pool_t *pool, const mf_face_attrib_opts *opts,
                               mf_face_attrib_t **out) {
    *out = NULL;
    if (!models) return mf_error_set(MF_ERR_ARG, "no models folder");
    mf_face_attrib_t *h = calloc(1, sizeof *h);
    if (!h) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int st = parse_set(h, opts ? opts->age_model : NULL, MF_FACE_ATTRIB_DEFAULT_AGE, 1, h->age_names);
    if (!st) st = parse_set(h, opts ? opts->gender_model : NULL, MF_FACE_ATTRIB_DEFAULT_GENDER, 0, h->gender_names);
    int maxS = 1;
    for (int i = 0; !st && i < h->n; i++) {
        st = model_load(&h->m[i], models, pool);
        if (h->m[i].s->info.input_size > maxS) maxS = h->m[i].s->info.input_size;
    }
    if (!st && !(h->rgb = malloc((size_t)maxS * maxS * 3 * sizeof(float))))
        st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    if (st) {
        mf_face_attrib_free(h);
        return st;
    }
    *out = h;
    return MF_OK;
}

int mf_face_attrib_create(const char *models_root, mf_nn_pool_t *pool, const mf_face_attrib_opts *opts,
                          mf_face_attrib_t **out) {
    *out = NULL;
    if (!models_root) return mf_error_set(MF_ERR_ARG, "no models folder");
    mf_face_models_t *models = NULL;
    int st = mf_face_models_create(models_root, &models);
    if (!st) st = mf_face_attrib_create_from(models, pool, opts, out);
    return mf_face_models_adopt(st, models, st ? NULL : &(*out)->own_models);
}

void mf_face_attrib_free(mf_face_attrib_t *h) {
    if (!h) return;
    for (int i = 0; i < h->n; i++) mf_face_session_model_free(&h->m[i].sm);
    free(h->rgb);
    mf_face_models_free(h->own_models);
    free(h);
}

int mf_face_attrib_get_tuning(const mf_face_attrib_t *h, const char *model, mf_face_attrib_tuning *t) {
    const loaded_model *m = loaded_find(h, model);
    if (!m) return mf_error_set(MF_ERR_NOTFOUND, "attribute model '%s' is not loaded", model ? model : "(null)");
    *t = m->tune;
    return MF_OK;
}

int mf_face_attrib_set_tuning(mf_face_attrib_t *h, const char *model, const mf_face_attrib_tuning *t) {
    loaded_model *m = loaded_find(h, model);
    if (!m) return mf_error_set(MF_ERR_NOTFOUND, "attribute model '%s' is not loaded", model ? model : "(null)");
    if (!(t->scale > 0.1f && t->scale < 10) || !(t->aspect > 0.1f && t->aspect < 10) || !(fabsf(t->dy) < 2))
        return mf_error_set(MF_ERR_ARG, "tuning out of range");
    m->tune = *t;
    return MF_OK;
}

/* ---------------------------------------------------------------- crop */

static int check_args(const mf_img *img, const mf_face_box *f) {
    int st = mf_face_check_rgb(img, "attributes need");
    if (st) return st;
    if (!f) return mf_error_set(MF_ERR_ARG, "no face box");
    if (!isfinite(f->x) || !isfinite(f->y) || !isfinite(f->w) || !isfinite(f->h) || !isfinite(f->roll))
        return mf_error_set(MF_ERR_ARG, "face box is not finite");
    float big = (float)(img->w > img->h ? img->w : img->h);
    if (f->w < 1 || f->h < 1 || f->w > 16 * big || f->h > 16 * big)
        return mf_error_set(MF_ERR_ARG, "face box size %gx%g out of range", f->w, f->h);
    float cx = f->x + f->w / 2, cy = f->y + f->h / 2;
    if (cx < 0 || cy < 0 || cx > (float)img->w || cy > (float)img->h)
        return mf_error_set(MF_ERR_ARG, "face box centre (%g, %g) outside the %dx%d image", cx, cy, img->w, img->h);
    return MF_OK;
}

/* Writes the S x S crop of the face for tuning t into rgb (RGB floats 0..255, black outside the image).
 * Where the crop shrinks the image by more than 1.5, the region under it is first area-resized so that the
 * bilinear warp samples at about one source pixel per output pixel (no aliasing on large faces). */
static int make_crop(const mf_img *img, const mf_face_box *f, const mf_face_attrib_tuning *t, int S, float *rgb) {
    float side = t->scale * fmaxf(f->w, f->h);
    float sx = side / (float)S, sy = side * t->aspect / (float)S; /* source pixels per output pixel */
    float c = cosf(f->roll), s = sinf(f->roll);
    /* crop centre in pixel-centre coordinates (the box uses pixel edges: pixel i spans [i, i + 1)) */
    float shift = t->dy * fmaxf(f->w, f->h);
    float cx = f->x + f->w / 2 - s * shift - 0.5f, cy = f->y + f->h / 2 + c * shift - 0.5f;
    float h0 = 0.5f * (float)(S - 1);
    float m[6] = {c * sx, -s * sy, 0, s * sx, c * sy, 0};
    m[2] = cx - (m[0] + m[1]) * h0;
    m[5] = cy - (m[3] + m[4]) * h0;
    float ratio = fmaxf(sx, sy);
    if (ratio <= 1.5f) {
        mf_img_warp_to_float(img, m, S, S, 1.0f, 0.0f, 0.0f, rgb);
        return MF_OK;
    }
    /* bounding box of the crop in the image, with room for the bilinear neighbours */
    float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
    for (int k = 0; k < 4; k++) {
        float u = (k & 1) ? (float)S - 0.5f : -0.5f, v = (k & 2) ? (float)S - 0.5f : -0.5f;
        float px = m[0] * u + m[1] * v + m[2], py = m[3] * u + m[4] * v + m[5];
        x0 = fminf(x0, px), x1 = fmaxf(x1, px), y0 = fminf(y0, py), y1 = fmaxf(y1, py);
    }
    float pad = ratio + 2;
    int rx0 = (int)fmaxf(0, floorf(x0 - pad)), ry0 = (int)fmaxf(0, floorf(y0 - pad));
    int rx1 = (int)fminf((float)img->w - 1, ceilf(x1 + pad)), ry1 = (int)fminf((float)img->h - 1, ceilf(y1 + pad));
    if (rx1 < rx0 || ry1 < ry0) { /* cannot happen with the centre inside the image; stay safe */
        mf_img_warp_to_float(img, m, S, S, 1.0f, 0.0f, 0.0f, rgb);
        return MF_OK;
    }
    int cw = rx1 - rx0 + 1, ch = ry1 - ry0 + 1;
    int ow = (int)lroundf((float)cw / ratio), oh = (int)lroundf((float)ch / ratio);
    if (ow < 1) ow = 1;
    if (oh < 1) oh = 1;
    mf_img region, small;
    int st = mf_img_crop(img, rx0, ry0, cw, ch, &region);
    if (st) return st;
    st = mf_img_resize(&region, ow, oh, &small);
    mf_img_free(&region);
    if (st) return st;
    /* small pixel i has its centre at image pixel-centre coordinate rx0 - 0.5 + (i + 0.5) * fx */
    float fx = (float)cw / (float)ow, fy = (float)ch / (float)oh;
    float ms[6] = {m[0] / fx, m[1] / fx, (m[2] - (float)rx0 + 0.5f) / fx - 0.5f,
                   m[3] / fy, m[4] / fy, (m[5] - (float)ry0 + 0.5f) / fy - 0.5f};
    mf_img_warp_to_float(&small, ms, S, S, 1.0f, 0.0f, 0.0f, rgb);
    mf_img_free(&small);
    return MF_OK;
}

/* ---------------------------------------------------------------- run and decode */

typedef struct {
    int has_age, has_gender;
    float age, p_male;
} raw_result;

/* have_crop: h->rgb already holds this model's crop (the previous model of the same call had the same input size
 * and crop tuning, e.g. the default faceres-deep + faceres pair), so it is not computed twice. */
static int model_run(mf_face_attrib_t *h, loaded_model *m, const mf_img *img, const mf_face_box *f, int have_crop,
                     raw_result *r) {
    const model_spec *s = m->s;
    int S = s->info.input_size;
    size_t n = (size_t)S * S;
    int st = have_crop ? MF_OK : make_crop(img, f, &m->tune, S, h->rgb);
    if (st) return st;
    float *in = mf_nn_plan_input(m->plan, 0, NULL);
    const float *p = h->rgb;
    int r0 = m->tune.bgr ? 2 : 0, b0 = 2 - r0;
    switch (s->in) {
    case IN_RGB01:
    case IN_RGB255: {
        float k = s->in == IN_RGB01 ? 1.0f / 255.0f : 1.0f;
        for (size_t i = 0; i < n; i++) {
            in[3 * i] = p[3 * i + r0] * k;
            in[3 * i + 1] = p[3 * i + 1] * k;
            in[3 * i + 2] = p[3 * i + b0] * k;
        }
        break;
    }
    case IN_GREY_PM1:
        for (size_t i = 0; i < n; i++)
            in[i] = (0.2989f * p[3 * i] + 0.5870f * p[3 * i + 1] + 0.1140f * p[3 * i + 2]) * (2.0f / 255.0f) - 1.0f;
        break;
    }
    mf_nn_plan_run(m->plan);
    const float *a = m->out_age >= 0 ? mf_nn_plan_output(m->plan, m->out_age, NULL) : NULL;
    const float *g = m->out_gender >= 0 ? mf_nn_plan_output(m->plan, m->out_gender, NULL) : NULL;
    r->has_age = a != NULL, r->has_gender = g != NULL;
    r->age = 0, r->p_male = 0.5f;
    /* a damaged model is an environment error naming the file, never a silent default nor the image's fault */
    if ((a && (st = mf_nn_check_finite(a, (size_t)s->age_len, m->sm.path))) ||
        (g && (st = mf_nn_check_finite(g, (size_t)s->gender_len, m->sm.path))))
        return st;
    switch (s->out) {
    case OUT_GEAR: {
        float sum = 0, e = 0;
        for (int i = 0; i < 7; i++) sum += a[i], e += a[i] * gear_ages[i];
        if (m->tune.decode == 1) { /* human: start at the best bucket, pull toward the others by their weight */
            int order[7];
            for (int i = 0; i < 7; i++) order[i] = i;
            for (int i = 1; i < 7; i++)
                for (int j = i; j > 0 && a[order[j]] > a[order[j - 1]]; j--) {
                    int tmp = order[j];
                    order[j] = order[j - 1], order[j - 1] = tmp;
                }
            float age = gear_ages[order[0]];
            for (int i = 1; i < 7; i++) age += a[order[i]] * (gear_ages[order[i]] - age);
            r->age = age;
        } else {
            r->age = sum > 0 ? e / sum : 35;
        }
        float gs = g[0] + g[1];
        r->p_male = gs > 0 ? g[0] / gs : 0.5f; /* [male, female] */
        break;
    }
    case OUT_FACERES: {
        if (m->tune.decode == 1) { /* human: argmax, moved toward the larger neighbour */
            int k = 0;
            for (int i = 1; i < 100; i++)
                if (a[i] > a[k]) k = i;
            float lo = k > 0 ? a[k - 1] : 0, hi = k < 99 ? a[k + 1] : 0;
            r->age = lo > hi ? (float)k - 10 * lo : (float)k + 10 * hi;
        } else {
            float sum = 0, e = 0;
            for (int i = 0; i < 100; i++) sum += a[i], e += a[i] * (float)i;
            r->age = sum > 0 ? e / sum : 35;
        }
        r->p_male = g[0]; /* sigmoid, > 0.5 male */
        break;
    }
    case OUT_SSR_AGE: r->age = a[0]; break;
    case OUT_CNN_GENDER: {
        float gs = g[0] + g[1];
        r->p_male = gs > 0 ? g[1] / gs : 0.5f; /* [female, male] */
        break;
    }
    case OUT_SSR_GENDER: r->p_male = g[0]; break;
    }
    /* a broken model must not leak NaN to the caller */
    r->p_male = !(r->p_male >= 0) ? (isnan(r->p_male) ? 0.5f : 0) : r->p_male > 1 ? 1 : r->p_male;
    if (!isfinite(r->age)) r->age = 35;
    return MF_OK;
}

static void fill(mf_face_attributes *out, float age, float p_male, const char *age_name, const char *gender_name) {
    out->age = age;
    out->age_model = age_name;
    out->gender_model = gender_name;
    if (p_male < 0) {
        out->gender = MF_GENDER_UNKNOWN, out->gender_score = 0.5f, out->p_male = 0.5f;
    } else {
        out->p_male = p_male;
        out->gender = p_male > 0.5f ? MF_GENDER_MALE : MF_GENDER_FEMALE;
        out->gender_score = p_male > 0.5f ? p_male : 1 - p_male;
    }
}

int mf_face_attrib_estimate(mf_face_attrib_t *h, const mf_img *img, const mf_face_box *face, mf_face_attributes *out) {
    fill(out, -1, -1, "", "");
    int st = check_args(img, face);
    if (st) return st;
    double age = 0, pm = 0;
    int na = 0, ng = 0;
    for (int i = 0; i < h->n; i++) {
        loaded_model *m = &h->m[i];
        raw_result r;
        const loaded_model *p = i ? &h->m[i - 1] : NULL; /* its crop is in h->rgb */
        int same = p && p->s->info.input_size == m->s->info.input_size && p->tune.scale == m->tune.scale &&
                   p->tune.dy == m->tune.dy && p->tune.aspect == m->tune.aspect;
        st = model_run(h, m, img, face, same, &r);
        if (st) return st;
        if (m->for_age) age += r.age, na++;
        if (m->for_gender) pm += r.p_male, ng++;
    }
    fill(out, na ? (float)(age / na) : -1, ng ? (float)(pm / ng) : -1, h->age_names, h->gender_names);
    return MF_OK;
}

int mf_face_attrib_estimate_one(mf_face_attrib_t *h, const mf_img *img, const mf_face_box *face,
                                mf_face_attributes *out) {
    loaded_model *one = NULL;
    int n_age = 0;
    for (int i = 0; i < h->n; i++) {
        n_age += h->m[i].for_age;
        if (!one && h->m[i].for_age && h->m[i].out_age >= 0 && h->m[i].out_gender >= 0) one = &h->m[i];
    }
    if (!one || n_age != 1) return mf_face_attrib_estimate(h, img, face, out); /* no single model reads both */
    fill(out, -1, -1, "", "");
    int st = check_args(img, face);
    if (st) return st;
    raw_result r;
    if ((st = model_run(h, one, img, face, 0, &r))) return st;
    fill(out, r.age, r.p_male, h->age_names, one->s->info.name);
    return MF_OK;
}

int mf_face_attrib_run_model(mf_face_attrib_t *h, const char *model, const mf_img *img, const mf_face_box *face,
                             mf_face_attributes *out) {
    fill(out, -1, -1, "", "");
    loaded_model *m = loaded_find(h, model);
    if (!m) return mf_error_set(MF_ERR_NOTFOUND, "attribute model '%s' is not loaded", model ? model : "(null)");
    int st = check_args(img, face);
    if (st) return st;
    raw_result r;
    st = model_run(h, m, img, face, 0, &r);
    if (st) return st;
    const char *name = m->s->info.name;
    fill(out, r.has_age ? r.age : -1, r.has_gender ? r.p_male : -1, r.has_age ? name : "", r.has_gender ? name : "");
    return MF_OK;
}
