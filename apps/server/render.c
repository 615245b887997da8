/* Rendering per viewer: each face real or replaced from the current decisions and the viewer's relation to the
 * person; the anonymized base made once at analysis (mf_srv_anonymize); the legacy replacement seam and its
 * baseline (photos of layout 1); the render cache, keyed by what decides the pixels. */
#include "srv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mf_srv_face_real(mf_store_t *st, int64_t viewer, const mf_store_face *f, int *real) {
    *real = 0;
    if (!f->user_id) return MF_OK;        /* unknown: nobody can approve it */
    if (viewer && f->user_id == viewer) { /* a person always sees their own face (strict: from their own patch) */
        *real = 1;
        return MF_OK;
    }
    if (f->discarded || f->decision != MF_DEC_APPROVED) return MF_OK;
    if (f->audience == MF_AUD_EVERYONE) {
        *real = 1;
        return MF_OK;
    }
    int yes = 0;
    int s = viewer ? mf_store_are_friends(st, viewer, f->user_id, &yes) : MF_OK;
    *real = yes;
    return s;
}

void mf_srv_face_rect(const mf_store_face *f, int w, int h, int *x, int *y, int *rw, int *rh) {
    /* the box grown by 20% each side and 30% upwards (forehead, hair line) */
    float x0 = f->x - 0.2f * f->w, y0 = f->y - 0.3f * f->h, x1 = f->x + 1.2f * f->w, y1 = f->y + 1.2f * f->h;
    int ix0 = x0 < 0 ? 0 : (int)x0, iy0 = y0 < 0 ? 0 : (int)y0;
    int ix1 = x1 > w ? w : (int)(x1 + 0.999f), iy1 = y1 > h ? h : (int)(y1 + 0.999f);
    if (ix1 <= ix0) ix1 = ix0 < w ? ix0 + 1 : ix0, ix0 = ix1 - 1;
    if (iy1 <= iy0) iy1 = iy0 < h ? iy0 + 1 : iy0, iy0 = iy1 - 1;
    *x = ix0;
    *y = iy0;
    *rw = ix1 - ix0;
    *rh = iy1 - iy0;
}

uint64_t mf_srv_face_seed(const uint8_t key[crypto_secretbox_KEYBYTES], int idx) {
    uint8_t h[8];
    char msg[32];
    int n = snprintf(msg, sizeof msg, "mfmc-face-seed:%d", idx);
    crypto_generichash(h, sizeof h, (const uint8_t *)msg, (size_t)n, key, crypto_secretbox_KEYBYTES);
    uint64_t s = 0;
    for (int i = 0; i < 8; i++)
        s = s << 8 | h[i];
    return s;
}

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Baseline replacement: a mosaic whose colours come from the rectangle's border (the surroundings, not the
 * face) and the seed; no pixel inside the rectangle reaches the output. */
int mf_srv_replace_baseline(mf_img *img, int x, int y, int w, int h, uint64_t seed, void *ctx) {
    (void)ctx;
    if (img->c != 3 || x < 0 || y < 0 || w < 1 || h < 1 || x + w > img->w || y + h > img->h)
        return mf_error_set(MF_ERR_ARG, "replace: rectangle outside the image");
    double sum[3] = {0, 0, 0};
    long n = 0;
    for (int i = 0; i < w; i++)
        for (int side = 0; side < 2; side++) {
            int yy = side ? y + h - 1 : y;
            const uint8_t *p = img->data + ((size_t)yy * img->w + (size_t)(x + i)) * 3;
            for (int k = 0; k < 3; k++)
                sum[k] += p[k];
            n++;
        }
    for (int j = 0; j < h; j++)
        for (int side = 0; side < 2; side++) {
            int xx = side ? x + w - 1 : x;
            const uint8_t *p = img->data + ((size_t)(y + j) * img->w + (size_t)xx) * 3;
            for (int k = 0; k < 3; k++)
                sum[k] += p[k];
            n++;
        }
    int base[3];
    for (int k = 0; k < 3; k++)
        base[k] = (int)(sum[k] / (double)n);
    enum { CELLS = 8 };
    uint64_t s = seed;
    int tint[3];
    for (int k = 0; k < 3; k++)
        tint[k] = (int)(splitmix(&s) % 41) - 20;
    for (int cy = 0; cy < CELLS; cy++)
        for (int cx = 0; cx < CELLS; cx++) {
            int v = (int)(splitmix(&s) % 61) - 30;
            uint8_t c[3];
            for (int k = 0; k < 3; k++) {
                int q = base[k] + tint[k] + v;
                c[k] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
            }
            int x0 = x + cx * w / CELLS, x1 = x + (cx + 1) * w / CELLS;
            int y0 = y + cy * h / CELLS, y1 = y + (cy + 1) * h / CELLS;
            for (int yy = y0; yy < y1; yy++)
                for (int xx = x0; xx < x1; xx++)
                    memcpy(img->data + ((size_t)yy * img->w + (size_t)xx) * 3, c, 3);
        }
    return MF_OK;
}

/* Weight of the replacement at pixel (px, py) of rectangle (x, y, w, h) in a W x H image: 1 inside, falling to 0
 * over `ramp` pixels at the rectangle's sides that are not the image's own border. */
static float rect_alpha(int px, int py, int x, int y, int w, int h, int W, int H, float ramp) {
    float d = 1e9f;
    if (x > 0) d = fminf(d, (float)(px - x) + 0.5f);
    if (x + w < W) d = fminf(d, (float)(x + w - px) - 0.5f);
    if (y > 0) d = fminf(d, (float)(py - y) + 0.5f);
    if (y + h < H) d = fminf(d, (float)(y + h - py) - 0.5f);
    return d >= ramp ? 1.0f : d <= 0 ? 0.0f : d / ramp;
}

int mf_srv_anonymize(mf_srv *srv, mf_anon_t *anon, const mf_img *img, const mf_face *faces, const mf_store_face *rec,
                     int n, const uint8_t key[crypto_secretbox_KEYBYTES], const mf_anon_galleries *galleries,
                     mf_img *base, int *repl, mf_anon_result *results, void (*progress)(void *ctx), void *ctx) {
    (void)srv;
    *base = (mf_img){0};
    if (img->c != 3) return mf_error_set(MF_ERR_ARG, "anonymize: RGB image expected");
    mf_img tmp = {0};
    size_t bytes = (size_t)img->w * img->h * 3;
    int s = mf_img_init(base, img->w, img->h, 3);
    if (!s) s = mf_img_init(&tmp, img->w, img->h, 3);
    if (!s) memcpy(base->data, img->data, bytes);
    for (int i = 0; i < n && !s; i++) {
        if (progress) progress(ctx);
        memcpy(tmp.data, base->data, bytes);
        mf_anon_result res;
        uint64_t seed = mf_srv_face_seed(key, i);
        if ((s = mf_anon_face(anon, &tmp, &faces[i], MF_ANON_SYNTH, seed, galleries, &res))) break;
        if (results) results[i] = res;
        repl[i] = !faces[i].confirmed                  ? MF_REPL_UNCONFIRMED
                  : res.decision == MF_ANON_ACCEPTED ? MF_REPL_SYNTHETIC
                                                       : MF_REPL_FALLBACK;
        int x, y, w, h;
        mf_srv_face_rect(&rec[i], img->w, img->h, &x, &y, &w, &h);
        /* fail closed: the face box itself must have changed, else the mosaic covers the rectangle */
        int bx0 = (int)fmaxf(rec[i].x, 0), by0 = (int)fmaxf(rec[i].y, 0);
        int bx1 = (int)fminf(rec[i].x + rec[i].w, (float)img->w), by1 = (int)fminf(rec[i].y + rec[i].h, (float)img->h);
        double diff = 0;
        long cnt = 0;
        for (int yy = by0; yy < by1; yy++)
            for (int xx = bx0; xx < bx1; xx++, cnt++)
                for (int k = 0; k < 3; k++) {
                    size_t o = ((size_t)yy * img->w + (size_t)xx) * 3 + (size_t)k;
                    diff += abs((int)tmp.data[o] - (int)img->data[o]);
                }
        if (cnt == 0 || diff / (double)(cnt * 3) < 2.0) {
            memcpy(tmp.data, base->data, bytes);
            if ((s = mf_srv_replace_baseline(&tmp, x, y, w, h, seed, NULL))) break;
            repl[i] = MF_REPL_FALLBACK;
        }
        /* confined to the rectangle: the new face inside (the box and a margin), a soft edge in the margin */
        float ramp = 0.1f * fmaxf(rec[i].w, rec[i].h);
        if (ramp < 1) ramp = 1;
        for (int yy = y; yy < y + h; yy++)
            for (int xx = x; xx < x + w; xx++) {
                float a = rect_alpha(xx, yy, x, y, w, h, img->w, img->h, ramp);
                uint8_t *b = base->data + ((size_t)yy * img->w + (size_t)xx) * 3;
                const uint8_t *t = tmp.data + ((size_t)yy * img->w + (size_t)xx) * 3;
                for (int k = 0; k < 3; k++)
                    b[k] = (uint8_t)lrintf((float)b[k] + a * ((float)t[k] - (float)b[k]));
            }
    }
    mf_img_free(&tmp);
    if (s) mf_img_free(base);
    return s;
}

/* Decodes a sealed JPEG/PNG blob. */
static int unseal_decode(const uint8_t *key, const uint8_t *blob, size_t len, mf_img *img) {
    uint8_t *plain = NULL;
    size_t pl;
    int s = mf_srv_unseal(key, blob, len, &plain, &pl);
    if (!s) s = mf_img_decode(plain, pl, NULL, img, NULL);
    free(plain);
    return s;
}

/* Layout 1 (analysed before schema 2): the mosaic painted at render time. */
static int composite_v1(mf_srv *srv, mf_store_t *st, const mf_store_photo *p, const mf_store_face *faces, int n,
                        const int *real, const uint8_t key[crypto_secretbox_KEYBYTES], mf_img *img) {
    uint8_t *blob = NULL;
    size_t len = 0;
    int s;
    /* open: the sealed original; sealed: the stored base with every face replaced; strict: the stored base with
     * every face not approved at upload replaced for good (discarded) */
    if ((s = mf_store_photo_blob(st, p->id, p->access == MF_ACCESS_OPEN ? "original" : "base", &blob, &len))) return s;
    s = unseal_decode(key, blob, len, img);
    free(blob);
    if (p->access != MF_ACCESS_SEALED) {
        for (int i = 0; i < n && !s; i++) {
            if (real[i] || faces[i].discarded) continue; /* a discarded face is replaced in the base already */
            int x, y, w, h;
            mf_srv_face_rect(&faces[i], img->w, img->h, &x, &y, &w, &h);
            s = srv->replace(img, x, y, w, h, mf_srv_face_seed(key, i), srv->replace_ctx);
        }
        return s;
    }
    for (int i = 0; i < n && !s; i++) {
        if (!real[i]) continue;
        uint8_t *pb = NULL, *pk = NULL;
        size_t pbl, pkl;
        mf_img patch = {0};
        /* patch blob: wrapped face key (nonce | sealed 32 bytes) then the patch sealed with the face key */
        enum { WRAPPED = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + crypto_secretbox_KEYBYTES };
        if ((s = mf_store_face_patch(st, p->id, i, &pb, &pbl))) break;
        if (pbl < WRAPPED) s = mf_error_set(MF_ERR_FORMAT, "sealed patch too short");
        if (!s) s = mf_srv_unseal(srv->master, pb, WRAPPED, &pk, &pkl);
        if (!s) s = unseal_decode(pk, pb + WRAPPED, pbl - WRAPPED, &patch);
        if (!s) {
            int x, y, w, h;
            mf_srv_face_rect(&faces[i], img->w, img->h, &x, &y, &w, &h);
            if (patch.w != w || patch.h != h || patch.c != 3) s = mf_error_set(MF_ERR_FORMAT, "patch size");
            for (int j = 0; j < h && !s; j++)
                memcpy(img->data + ((size_t)(y + j) * img->w + (size_t)x) * 3, patch.data + (size_t)j * w * 3,
                       (size_t)w * 3);
        }
        if (pk) sodium_memzero(pk, pkl);
        free(pk);
        free(pb);
        mf_img_free(&patch);
    }
    return s;
}

/* The original pixels of face i (sealed, strict): its patch, opened with its own key. */
static int open_patch(mf_srv *srv, mf_store_t *st, int64_t photo, int i, mf_img *patch) {
    uint8_t *pb = NULL, *pk = NULL;
    size_t pbl, pkl = 0;
    /* patch blob: wrapped face key (nonce | sealed 32 bytes) then the patch sealed with the face key */
    enum { WRAPPED = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + crypto_secretbox_KEYBYTES };
    int s = mf_store_face_patch(st, photo, i, &pb, &pbl);
    if (!s && pbl < WRAPPED) s = mf_error_set(MF_ERR_FORMAT, "sealed patch too short");
    if (!s) s = mf_srv_unseal(srv->master, pb, WRAPPED, &pk, &pkl);
    if (!s && pkl != crypto_secretbox_KEYBYTES) s = mf_error_set(MF_ERR_FORMAT, "sealed patch key");
    if (!s) s = unseal_decode(pk, pb + WRAPPED, pbl - WRAPPED, patch);
    if (pk) sodium_memzero(pk, pkl);
    free(pk);
    free(pb);
    return s;
}

static int inside(int px, int py, const int r[4]) {
    return px >= r[0] && px < r[0] + r[2] && py >= r[1] && py < r[1] + r[3];
}

/* Layout 2: the anonymized base (every face replaced at analysis), with the original pixels of each face the
 * viewer may see put back over its rectangle — except where that rectangle overlaps the rectangle of a face the
 * viewer may not see. A real face whose original pixels are missing stays replaced (fail closed). */
static int composite_v2(mf_srv *srv, mf_store_t *st, const mf_store_photo *p, const mf_store_face *faces, int n,
                        const int *real, const uint8_t key[crypto_secretbox_KEYBYTES], mf_img *img) {
    uint8_t *blob = NULL;
    size_t len = 0;
    int s = mf_store_photo_blob(st, p->id, "base", &blob, &len), any = 0;
    if (s) return s;
    if (p->access == MF_ACCESS_SEALED) /* stored in the clear: it holds no face */
        s = mf_img_decode(blob, len, NULL, img, NULL);
    else
        s = unseal_decode(key, blob, len, img);
    free(blob);
    if (!s && img->c != 3) s = mf_error_set(MF_ERR_FORMAT, "stored image is not RGB");
    for (int i = 0; i < n; i++)
        any |= real[i];
    if (s || !any) return s;
    int(*rect)[4] = calloc((size_t)n, sizeof *rect);
    if (!rect) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        mf_srv_face_rect(&faces[i], img->w, img->h, &rect[i][0], &rect[i][1], &rect[i][2], &rect[i][3]);
    mf_img orig = {0};
    if (p->access == MF_ACCESS_OPEN) {
        if (!(s = mf_store_photo_blob(st, p->id, "original", &blob, &len))) {
            s = unseal_decode(key, blob, len, &orig);
            free(blob);
        }
        if (!s && (orig.w != img->w || orig.h != img->h || orig.c != 3))
            s = mf_error_set(MF_ERR_FORMAT, "original and base differ in size");
    }
    for (int i = 0; i < n && !s; i++) {
        if (!real[i]) continue;
        const int *r = rect[i];
        mf_img patch = {0};
        const mf_img *src = &orig;
        int ox = 0, oy = 0; /* the source's pixel of image pixel (x, y) is (x - ox, y - oy) */
        if (p->access != MF_ACCESS_OPEN) {
            int e = open_patch(srv, st, p->id, i, &patch);
            if (e == MF_ERR_NOTFOUND) continue; /* no original pixels kept: stays replaced */
            if ((s = e)) break;
            if (patch.w != r[2] || patch.h != r[3] || patch.c != 3) {
                s = mf_error_set(MF_ERR_FORMAT, "patch size");
                mf_img_free(&patch);
                break;
            }
            src = &patch;
            ox = r[0];
            oy = r[1];
        }
        for (int yy = r[1]; yy < r[1] + r[3]; yy++)
            for (int xx = r[0]; xx < r[0] + r[2]; xx++) {
                int hidden = 0;
                for (int j = 0; j < n && !hidden; j++)
                    hidden = !real[j] && j != i && inside(xx, yy, rect[j]);
                if (!hidden)
                    memcpy(img->data + ((size_t)yy * img->w + (size_t)xx) * 3,
                           src->data + ((size_t)(yy - oy) * src->w + (size_t)(xx - ox)) * 3, 3);
            }
        mf_img_free(&patch);
    }
    mf_img_free(&orig);
    free(rect);
    return s;
}

int mf_srv_render(mf_srv *srv, mf_store_t *st, int64_t viewer, const mf_store_photo *p, int side, uint8_t **jpeg,
                  size_t *len) {
    *jpeg = NULL;
    *len = 0;
    mf_store_face *faces = NULL;
    int n = 0, s = mf_store_faces(st, p->id, &faces, &n);
    if (s) return s;
    int *real = calloc((size_t)(n ? n : 1), sizeof *real);
    /* cache key: photo, decision version, size and the real/replaced bit of every face — everything that
     * decides the pixels, so a render is only ever served to a viewer who would get the same pixels */
    char key[MF_STORE_TOKEN_MAX + 1];
    int kl = snprintf(key, sizeof key, "p%lldv%llds%d:", (long long)p->id, (long long)p->version, side);
    uint8_t nib[SRV_MAX_FACES / 4] = {0};
    if (!real) s = mf_error_set(MF_ERR_NOMEM, "out of memory");
    if (!s && n > SRV_MAX_FACES) s = mf_error_set(MF_ERR_LIMIT, "too many faces");
    for (int i = 0; i < n && !s; i++) {
        s = mf_srv_face_real(st, viewer, &faces[i], &real[i]);
        nib[i / 4] |= (uint8_t)(real[i] << (i % 4));
    }
    for (int i = 0; i < (n + 3) / 4 && kl < (int)sizeof key - 1; i++)
        key[kl++] = "0123456789abcdef"[nib[i]];
    key[kl] = 0;
    uint8_t pkey[crypto_secretbox_KEYBYTES];
    if (!s) s = mf_srv_photo_key(srv, st, p->id, pkey);
    if (!s) {
        uint8_t *cached = NULL;
        size_t cl;
        if (!mf_store_render_get(st, key, &cached, &cl)) {
            s = mf_srv_unseal(pkey, cached, cl, jpeg, len);
            free(cached);
            if (!s) goto done;
        }
    }
    mf_img img = {0}, small = {0};
    if (!s)
        s = p->layout >= 2 ? composite_v2(srv, st, p, faces, n, real, pkey, &img)
                           : composite_v1(srv, st, p, faces, n, real, pkey, &img);
    if (!s && side > 0 && (img.w > side || img.h > side)) {
        int w = img.w >= img.h ? side : (int)((int64_t)img.w * side / img.h);
        int h = img.w >= img.h ? (int)((int64_t)img.h * side / img.w) : side;
        if (!(s = mf_img_resize(&img, w < 1 ? 1 : w, h < 1 ? 1 : h, &small))) {
            mf_img_free(&img);
            img = small;
        }
    }
    /* re-encoded from pixels: the JPEG encoder writes no EXIF, XMP or embedded thumbnail */
    if (!s) s = mf_img_encode_jpeg(&img, SRV_JPEG_QUALITY, jpeg, len);
    mf_img_free(&img);
    if (!s) {
        uint8_t *sealed = NULL;
        size_t sl;
        if (!mf_srv_seal(pkey, *jpeg, *len, &sealed, &sl)) mf_store_render_put(st, p->id, key, sealed, sl);
        free(sealed);
    }
done:
    sodium_memzero(pkey, sizeof pkey);
    free(real);
    free(faces);
    return s;
}
