/* WebP via libwebp: still images only (lossy, lossless, with or without alpha); alpha composited over white. */
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

int mf_img_webp_decode(const uint8_t *buf, size_t len, const mf_img_caps *caps, mf_img *out, mf_img_info *info) {
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
    return MF_OK;
}

int mf_img_encode_webp(const mf_img *img, int quality, uint8_t **buf, size_t *len) {
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
    /* Hand back a malloc'd block so that every encoder's buffer is released the same way, with free(). */
    *buf = malloc(n);
    if (!*buf) {
        WebPFree(enc);
        return mf_error_set(MF_ERR_NOMEM, "out of memory encoding WebP");
    }
    memcpy(*buf, enc, n);
    *len = n;
    WebPFree(enc);
    return MF_OK;
}
