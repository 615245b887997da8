/* WebP via libwebp: still images only (lossy, lossless, with or without alpha); alpha composited over white.
 * The ICCP and EXIF chunks of the extended format are read and written here directly (RIFF chunk walking,
 * bounds-checked: the file is untrusted), so no libwebpmux is needed. */
#include "image/codecs.h"

#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/encode.h>

static const char *webp_status_text(VP8StatusCode st) {
    switch (st) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "corrupt bitstream";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "decoder suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated data";
    default: return "unknown error";
    }
}

static int webp_error(VP8StatusCode st) {
    int status = st == VP8_STATUS_OUT_OF_MEMORY         ? MF_ERR_NOMEM
                 : st == VP8_STATUS_UNSUPPORTED_FEATURE ? MF_ERR_UNSUPPORTED
                                                        : MF_ERR_FORMAT;
    return mf_error_set(status, "WebP: %s", webp_status_text(st));
}

/* ---- RIFF chunks of the extended format ---- */

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

enum { RIFF_HDR = 12, CHUNK_HDR = 8, VP8X_LEN = 10, VP8X_ICC = 0x20, VP8X_ALPHA = 0x10, VP8X_EXIF = 0x08 };

/* Copies the ICCP and EXIF chunks of an extended-format file into *meta. The walk stops at the first chunk
 * that does not fit (libwebp has validated the image chunks already; a broken trailer only loses metadata). */
static int webp_read_meta(const uint8_t *buf, size_t len, mf_img_meta *meta) {
    if (len < RIFF_HDR + CHUNK_HDR || memcmp(buf + RIFF_HDR, "VP8X", 4) != 0) return MF_OK;
    size_t end = (size_t)le32(buf + 4) + 8; /* the RIFF size counts from "WEBP" */
    if (end > len) end = len;
    for (size_t pos = RIFF_HDR; pos <= end && end - pos >= CHUNK_HDR;) {
        const uint8_t *c = buf + pos;
        size_t n = le32(c + 4);
        if (n > end - pos - CHUNK_HDR) break;
        int rc = MF_OK;
        if (!memcmp(c, "ICCP", 4)) rc = mf_img_meta_take(&meta->icc, &meta->icc_len, c + CHUNK_HDR, n, 0);
        if (!memcmp(c, "EXIF", 4)) rc = mf_img_meta_take(&meta->exif, &meta->exif_len, c + CHUNK_HDR, n, 1);
        if (rc != MF_OK) return rc;
        pos += CHUNK_HDR + n + (n & 1); /* chunks are padded to an even size */
    }
    return MF_OK;
}

static uint8_t *put_chunk(uint8_t *o, const char *fourcc, const uint8_t *data, size_t n) {
    memcpy(o, fourcc, 4);
    put_le32(o + 4, (uint32_t)n);
    memcpy(o + CHUNK_HDR, data, n);
    o += CHUNK_HDR + n;
    if (n & 1) *o++ = 0;
    return o;
}

/* Rewrites the encoder's output enc[0..n) (a simple or extended file from libwebp) as an extended file with
 * the blocks of meta: RIFF, VP8X (flags updated or made), ICCP, the image chunks unchanged, EXIF, as the
 * container specification orders them. *out is malloc'd. */
static int webp_add_meta(const uint8_t *enc, size_t n, const mf_img *img, const mf_img_meta *meta, uint8_t **out,
                         size_t *out_len) {
    if (n < RIFF_HDR + CHUNK_HDR) return mf_error_set(MF_ERR_FORMAT, "WebP encoder output too short");
    const int extended = !memcmp(enc + RIFF_HDR, "VP8X", 4);
    if (extended && n < RIFF_HDR + CHUNK_HDR + VP8X_LEN) return mf_error_set(MF_ERR_FORMAT, "WebP: short VP8X");
    const uint8_t *image = enc + RIFF_HDR + (extended ? CHUNK_HDR + VP8X_LEN : 0);
    const size_t image_len = n - (size_t)(image - enc);
    size_t icc = meta->icc_len, exif = meta->exif_len;
    size_t total = RIFF_HDR + CHUNK_HDR + VP8X_LEN + image_len;
    if (icc) total += CHUNK_HDR + icc + (icc & 1);
    if (exif) total += CHUNK_HDR + exif + (exif & 1);
    if (total - 8 > 0xfffffff6u) return mf_error_set(MF_ERR_LIMIT, "WebP file with metadata over 4 GiB");
    uint8_t *o = malloc(total), *p = o;
    if (!o) return mf_error_set(MF_ERR_NOMEM, "out of memory adding metadata to a WebP");
    memcpy(p, "RIFF", 4);
    put_le32(p + 4, (uint32_t)(total - 8));
    memcpy(p + 8, "WEBP", 4);
    p += RIFF_HDR;
    uint8_t vp8x[VP8X_LEN] = {0};
    if (extended) {
        memcpy(vp8x, enc + RIFF_HDR + CHUNK_HDR, VP8X_LEN);
    } else {
        /* a simple lossless file with alpha keeps its alpha; canvas size minus one, 24 bits each */
        if (img->c == 4 && !memcmp(image, "VP8L", 4)) vp8x[0] |= VP8X_ALPHA;
        const uint32_t w1 = (uint32_t)img->w - 1, h1 = (uint32_t)img->h - 1;
        vp8x[4] = (uint8_t)w1, vp8x[5] = (uint8_t)(w1 >> 8), vp8x[6] = (uint8_t)(w1 >> 16);
        vp8x[7] = (uint8_t)h1, vp8x[8] = (uint8_t)(h1 >> 8), vp8x[9] = (uint8_t)(h1 >> 16);
    }
    vp8x[0] = (uint8_t)(vp8x[0] & ~(VP8X_ICC | VP8X_EXIF));
    if (icc) vp8x[0] |= VP8X_ICC;
    if (exif) vp8x[0] |= VP8X_EXIF;
    p = put_chunk(p, "VP8X", vp8x, VP8X_LEN);
    if (icc) p = put_chunk(p, "ICCP", meta->icc, icc);
    memcpy(p, image, image_len);
    p += image_len;
    if (exif) p = put_chunk(p, "EXIF", meta->exif, exif);
    MF_ASSERT((size_t)(p - o) == total);
    *out = o;
    *out_len = total;
    return MF_OK;
}

/* ---- decode ---- */

int mf_img_webp_decode(const uint8_t *buf, size_t len, const mf_img_caps *caps, mf_img *out, mf_img_info *info,
                       mf_img_meta *meta) {
    WebPBitstreamFeatures f;
    VP8StatusCode st = WebPGetFeatures(buf, len, &f);
    if (st != VP8_STATUS_OK) return webp_error(st);
    info->stored_w = f.width;
    info->stored_h = f.height;
    int rc = mf_img_caps_check(caps, "WebP", f.width, f.height);
    if (rc != MF_OK) return rc;
    if (f.has_animation) return mf_error_set(MF_ERR_UNSUPPORTED, "WebP: animated images are not supported");

    const int ch = f.has_alpha ? 4 : 3;
    size_t n;
    if (mf_size_mul((size_t)f.width * (size_t)f.height, (size_t)ch, &n))
        return mf_error_set(MF_ERR_LIMIT, "WebP: %dx%d overflows size_t", f.width, f.height);
    uint8_t *px = malloc(n);
    if (!px) return mf_error_set(MF_ERR_NOMEM, "out of memory decoding a %dx%d WebP", f.width, f.height);

    WebPDecoderConfig cfg;
    if (!WebPInitDecoderConfig(&cfg)) {
        free(px);
        return mf_error_set(MF_ERR_UNSUPPORTED, "WebP: library version mismatch");
    }
    cfg.output.colorspace = ch == 4 ? MODE_RGBA : MODE_RGB;
    cfg.output.is_external_memory = 1;
    cfg.output.u.RGBA.rgba = px;
    cfg.output.u.RGBA.stride = f.width * ch;
    cfg.output.u.RGBA.size = n;
    st = WebPDecode(buf, len, &cfg);
    WebPFreeDecBuffer(&cfg.output); /* no-op for external memory, kept for symmetry with the API contract */
    if (st != VP8_STATUS_OK) {
        free(px);
        return webp_error(st);
    }
    if (ch == 4) {
        info->alpha_composited = 1;
        mf_img_rgba_to_rgb_inplace(px, (size_t)f.width * (size_t)f.height);
        uint8_t *shrunk = realloc(px, (size_t)f.width * (size_t)f.height * 3);
        if (shrunk) px = shrunk;
    }
    out->w = f.width;
    out->h = f.height;
    out->c = 3;
    out->data = px;
    return meta ? webp_read_meta(buf, len, meta) : MF_OK;
}

/* ---- encode ---- */

int mf_img_webp_encode(const mf_img *img, int quality, const mf_img_meta *meta, uint8_t **buf, size_t *len) {
    MF_ASSERT(img != NULL && img->data != NULL && buf != NULL && len != NULL);
    MF_ASSERT(img->w > 0 && img->h > 0 && (img->c == 1 || img->c == 3 || img->c == 4));
    *buf = NULL;
    *len = 0;
    if (quality < 1 || quality > MF_IMG_QUALITY_LOSSLESS)
        return mf_error_set(MF_ERR_ARG, "WebP quality %d is not in 1..100 or MF_IMG_QUALITY_LOSSLESS", quality);
    if (img->w > WEBP_MAX_DIMENSION || img->h > WEBP_MAX_DIMENSION)
        return mf_error_set(MF_ERR_LIMIT, "WebP cannot store %dx%d (max %d per side)", img->w, img->h,
                            WEBP_MAX_DIMENSION);
    mf_img rgb = {0};
    const mf_img *src = img;
    if (img->c == 1) { /* libwebp has no grey input */
        int rc = mf_img_init(&rgb, img->w, img->h, 3);
        if (rc != MF_OK) return rc;
        for (size_t i = 0, n = (size_t)img->w * (size_t)img->h; i < n; i++)
            rgb.data[3 * i] = rgb.data[3 * i + 1] = rgb.data[3 * i + 2] = img->data[i];
        src = &rgb;
    }
    uint8_t *enc = NULL;
    int stride = src->w * src->c;
    size_t n;
    if (quality == MF_IMG_QUALITY_LOSSLESS)
        n = src->c == 4 ? WebPEncodeLosslessRGBA(src->data, src->w, src->h, stride, &enc)
                        : WebPEncodeLosslessRGB(src->data, src->w, src->h, stride, &enc);
    else
        n = src->c == 4 ? WebPEncodeRGBA(src->data, src->w, src->h, stride, (float)quality, &enc)
                        : WebPEncodeRGB(src->data, src->w, src->h, stride, (float)quality, &enc);
    mf_img_free(&rgb);
    if (n == 0) {
        WebPFree(enc);
        return mf_error_set(MF_ERR_NOMEM, "WebP encoder failed (out of memory)");
    }
    int rc = MF_OK;
    if (meta && (meta->icc_len || meta->exif_len)) {
        rc = webp_add_meta(enc, n, img, meta, buf, len);
    } else {
        /* Hand back a malloc'd block so that every encoder's buffer is released the same way, with free(). */
        *buf = malloc(n);
        if (*buf) {
            memcpy(*buf, enc, n);
            *len = n;
        } else {
            rc = mf_error_set(MF_ERR_NOMEM, "out of memory encoding WebP");
        }
    }
    WebPFree(enc);
    return rc;
}

int mf_img_encode_webp(const mf_img *img, int quality, uint8_t **buf, size_t *len) {
    return mf_img_webp_encode(img, quality, NULL, buf, len);
}
