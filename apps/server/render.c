/* Rendering per viewer: each face real or replaced from the current decisions and the viewer's relation to the
 * person; the replacement seam and its baseline; the render cache, keyed by what decides the pixels. */
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mf_srv_face_real(mf_store_t *st, int64_t viewer, const mf_store_face *f, int *real) {
    *real = 0;
    if (!f->user_id || f->discarded) return MF_OK; /* unknown: nobody can approve it */
    if (viewer && f->user_id == viewer) {          /* a person always sees their own face */
        *real = 1;
        return MF_OK;
    }
    if (f->decision != MF_DEC_APPROVED) return MF_OK;
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

/* Decodes a sealed JPEG/PNG blob. */
static int unseal_decode(const uint8_t *key, const uint8_t *blob, size_t len, mf_img *img) {
    uint8_t *plain = NULL;
    size_t pl;
    int s = mf_srv_unseal(key, blob, len, &plain, &pl);
    if (!s) s = mf_img_decode(plain, pl, NULL, img, NULL);
    free(plain);
    return s;
}

static int composite(mf_srv *srv, mf_store_t *st, const mf_store_photo *p, const mf_store_face *faces, int n,
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
    if (!s) s = composite(srv, st, p, faces, n, real, pkey, &img);
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
