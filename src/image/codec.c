/* Format dispatch: detection by magic bytes, decode/load to the per-format decoders (then EXIF orientation),
 * save by extension to the per-format encoders. The only file that knows every codec; no codec calls back here. */
#include "image/codecs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

mf_img_format mf_img_format_detect(const uint8_t *buf, size_t len) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (!buf) return MF_IMG_FORMAT_UNKNOWN;
    if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff) return MF_IMG_FORMAT_JPEG;
    if (len >= 8 && memcmp(buf, png_sig, 8) == 0) return MF_IMG_FORMAT_PNG;
    if (len >= 12 && memcmp(buf, "RIFF", 4) == 0 && memcmp(buf + 8, "WEBP", 4) == 0) return MF_IMG_FORMAT_WEBP;
    return MF_IMG_FORMAT_UNKNOWN;
}

static int unknown_format(const uint8_t *buf, size_t len) {
    char shown[3 * 8 + 1] = "";
    size_t n = len < 8 ? len : 8;
    for (size_t i = 0; i < n; i++)
        snprintf(shown + 3 * i, 4, "%02x ", buf[i]);
    if (n) shown[3 * n - 1] = '\0';
    return mf_error_set(MF_ERR_FORMAT, "not a JPEG, PNG or WebP image (starts with %s)", shown);
}

int mf_img_decode_meta(const uint8_t *buf, size_t len, const mf_img_limits *lim, mf_img *out, mf_img_info *info,
                       mf_img_meta *meta) {
    MF_ASSERT(out != NULL);
    MF_ASSERT(buf != NULL || len == 0);
    memset(out, 0, sizeof *out);
    if (meta) memset(meta, 0, sizeof *meta);
    mf_img_info local;
    if (!info) info = &local;
    memset(info, 0, sizeof *info);
    info->orientation = 1;

    mf_img_caps caps;
    mf_img_caps_from(lim, &caps);
    if (len == 0) return mf_error_set(MF_ERR_FORMAT, "empty input (0 bytes), not an image");
    if (len > caps.max_bytes)
        return mf_error_set(MF_ERR_LIMIT, "encoded image is %zu bytes, over the limit of %zu", len, caps.max_bytes);

    info->format = mf_img_format_detect(buf, len);
    int rc;
    switch (info->format) {
    case MF_IMG_FORMAT_JPEG: rc = mf_img_jpeg_decode(buf, len, &caps, out, info, meta); break;
    case MF_IMG_FORMAT_PNG: rc = mf_img_png_decode(buf, len, &caps, out, info, meta); break;
    case MF_IMG_FORMAT_WEBP: rc = mf_img_webp_decode(buf, len, &caps, out, info, meta); break;
    default: return unknown_format(buf, len);
    }
    if (rc == MF_OK && info->orientation != 1) {
        mf_img upright;
        rc = mf_img_orient(out, info->orientation, &upright);
        mf_img_free(out);
        if (rc == MF_OK) *out = upright;
    }
    if (rc != MF_OK) {
        mf_img_free(out);
        mf_img_meta_free(meta);
    }
    return rc;
}

int mf_img_decode(const uint8_t *buf, size_t len, const mf_img_limits *lim, mf_img *out, mf_img_info *info) {
    return mf_img_decode_meta(buf, len, lim, out, info, NULL);
}

int mf_img_load_meta(const char *path, const mf_img_limits *lim, mf_img *out, mf_img_info *info, mf_img_meta *meta) {
    MF_ASSERT(path != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    if (meta) memset(meta, 0, sizeof *meta);
    mf_img_caps caps;
    mf_img_caps_from(lim, &caps);
    uint8_t *buf;
    size_t len;
    int rc = mf_file_read(path, caps.max_bytes, &buf, &len);
    if (rc != MF_OK) {
        if (info) memset(info, 0, sizeof *info);
        return rc;
    }
    rc = mf_img_decode_meta(buf, len, lim, out, info, meta);
    free(buf);
    if (rc != MF_OK) return mf_error_prefix(rc, "%s", path);
    return MF_OK;
}

int mf_img_load(const char *path, const mf_img_limits *lim, mf_img *out, mf_img_info *info) {
    return mf_img_load_meta(path, lim, out, info, NULL);
}

/* ---- encoding and saving ---- */

mf_img_format mf_img_format_from_path(const char *path) {
    MF_ASSERT(path != NULL);
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) return MF_IMG_FORMAT_UNKNOWN;
    if (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg")) return MF_IMG_FORMAT_JPEG;
    if (!strcasecmp(dot, ".png")) return MF_IMG_FORMAT_PNG;
    if (!strcasecmp(dot, ".webp")) return MF_IMG_FORMAT_WEBP;
    return MF_IMG_FORMAT_UNKNOWN;
}

int mf_img_encode(const mf_img *img, mf_img_format format, int quality, const mf_img_meta *meta, uint8_t **buf,
                  size_t *len) {
    mf_img_assert_valid(img);
    MF_ASSERT(buf != NULL && len != NULL);
    *buf = NULL;
    *len = 0;
    int rc = mf_img_meta_check(meta);
    if (rc != MF_OK) return rc;
    switch (format) {
    case MF_IMG_FORMAT_JPEG: return mf_img_jpeg_encode(img, quality, meta, buf, len);
    case MF_IMG_FORMAT_PNG: return mf_img_png_encode(img, meta, buf, len);
    case MF_IMG_FORMAT_WEBP: return mf_img_webp_encode(img, quality, meta, buf, len);
    default: return mf_error_set(MF_ERR_ARG, "cannot encode image format %d", (int)format);
    }
}

int mf_img_save_meta(const mf_img *img, const char *path, int quality, const mf_img_meta *meta) {
    mf_img_assert_valid(img);
    MF_ASSERT(path != NULL);
    mf_img_format format = mf_img_format_from_path(path);
    if (format == MF_IMG_FORMAT_UNKNOWN)
        return mf_error_set(MF_ERR_UNSUPPORTED, "%s: unknown image extension (use .jpg, .jpeg, .png or .webp)", path);
    uint8_t *buf;
    size_t len;
    int rc = mf_img_encode(img, format, quality, meta, &buf, &len);
    if (rc != MF_OK) return mf_error_prefix(rc, "%s", path);

    FILE *f = fopen(path, "wb");
    if (!f) {
        int e = errno;
        free(buf);
        return mf_error_set(MF_ERR_IO, "cannot create %s: %s", path, strerror(e));
    }
    size_t put = fwrite(buf, 1, len, f);
    int e = errno;
    free(buf);
    int bad = put != len;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        remove(path); /* a truncated image would later fail to decode in a confusing way */
        return mf_error_set(MF_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    return MF_OK;
}

int mf_img_save(const mf_img *img, const char *path, int quality) { return mf_img_save_meta(img, path, quality, NULL); }
