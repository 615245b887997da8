/* PNG via libpng (classic API, so that the dimensions can be checked between the header and the pixels).
 *
 * Decoding normalises every PNG to 8-bit RGB: 16-bit samples are scaled (rounded, not truncated), palettes
 * and 1/2/4-bit grey are expanded, grey is replicated, and transparency (alpha channel or tRNS) is composited
 * over white. gAMA/iCCP are ignored: samples are taken as sRGB, as the face models were trained on (the iCCP
 * profile and eXIf are only handed back, when asked, for writing them out again).
 * libpng's errors longjmp back here with the message kept; warnings are dropped; nothing is printed. */
#include "image/codecs.h"

#include <stdlib.h>
#include <string.h>

#include <png.h>

/* Text, ICC and other metadata chunks are skipped unread: they cost time and memory, and only iCCP and eXIf
 * are ever used (when the caller asks for metadata: then those two come first in the list and are not skipped). */
static const png_byte png_skip_chunks[] = "iCCP\0eXIf\0iTXt\0tEXt\0zTXt\0sPLT\0tIME\0hIST\0pCAL\0sCAL\0sTER\0";

typedef struct {
    const uint8_t *buf;
    size_t len, pos;
    int status;
    char msg[200];
    uint8_t *pixels; /* RGB or RGBA, becomes out->data */
    png_bytep *rows;
    uint8_t *obuf; /* encoder output */
    size_t olen, ocap;
} png_ctx;

static void png_on_error(png_structp png, png_const_charp msg) {
    png_ctx *d = png_get_error_ptr(png);
    if (d->status == MF_OK) d->status = MF_ERR_FORMAT;
    if (!d->msg[0]) snprintf(d->msg, sizeof d->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void png_fail(png_structp png, int status, const char *msg) {
    png_ctx *d = png_get_error_ptr(png);
    d->status = status;
    snprintf(d->msg, sizeof d->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_read_mem(png_structp png, png_bytep dst, size_t n) {
    png_ctx *d = png_get_io_ptr(png);
    if (d->len - d->pos < n) png_fail(png, MF_ERR_FORMAT, "unexpected end of data (truncated file)");
    memcpy(dst, d->buf + d->pos, n);
    d->pos += n;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Everything that may longjmp; the caller owns d and the libpng structs. */
static int png_decode_body(png_ctx *d, png_structp png, png_infop pi, const mf_img_caps *caps, mf_img *out,
                           mf_img_info *info, mf_img_meta *meta) {
    png_set_read_fn(png, d, png_read_mem);
    png_set_chunk_malloc_max(png, MF_IMG_PNG_MAX_CHUNK_BYTES);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    const int skip_from = meta ? 2 : 0; /* iCCP, eXIf */
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, png_skip_chunks + 5 * skip_from,
                                (int)(sizeof png_skip_chunks / 5) - skip_from);
    png_read_info(png, pi);
    if (meta) {
        png_charp name;
        int comp;
        png_bytep icc, exif;
        png_uint_32 icc_len, exif_len;
        int rc = MF_OK;
        if (png_get_iCCP(png, pi, &name, &comp, &icc, &icc_len) == PNG_INFO_iCCP)
            rc = mf_img_meta_take(&meta->icc, &meta->icc_len, icc, icc_len, 0);
        if (rc == MF_OK && png_get_eXIf_1(png, pi, &exif_len, &exif) == PNG_INFO_eXIf)
            rc = mf_img_meta_take(&meta->exif, &meta->exif_len, exif, exif_len, 1);
        if (rc != MF_OK) return rc;
    }

    png_uint_32 w, h;
    int depth, ctype, interlace;
    png_get_IHDR(png, pi, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    info->stored_w = (int)w;
    info->stored_h = (int)h;
    int rc = mf_img_caps_check(caps, "PNG", w, h);
    if (rc != MF_OK) return rc;

    if (depth == 16) png_set_scale_16(png);
    if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, pi, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, pi);

    int ch = png_get_channels(png, pi);
    if ((ch != 3 && ch != 4) || png_get_bit_depth(png, pi) != 8 || png_get_rowbytes(png, pi) != (size_t)w * ch)
        return mf_error_set(MF_ERR_FORMAT, "PNG: unexpected layout after conversion");
    size_t n, rows_bytes;
    if (mf_size_mul((size_t)w * h, (size_t)ch, &n) || mf_size_mul(h, sizeof(png_bytep), &rows_bytes))
        return mf_error_set(MF_ERR_LIMIT, "PNG: %ux%u overflows size_t", (unsigned)w, (unsigned)h);
    d->pixels = malloc(n);
    d->rows = malloc(rows_bytes);
    if (!d->pixels || !d->rows) return mf_error_set(MF_ERR_NOMEM, "out of memory decoding a %ux%u PNG", w, h);
    for (png_uint_32 y = 0; y < h; y++)
        d->rows[y] = d->pixels + (size_t)y * w * ch;
    png_read_image(png, d->rows);
    /* No png_read_end: the pixels are complete, and trailing chunks only carry metadata. */

    if (ch == 4) {
        info->alpha_composited = 1;
        mf_img_rgba_to_rgb_inplace(d->pixels, (size_t)w * h);
        uint8_t *shrunk = realloc(d->pixels, (size_t)w * h * 3);
        if (shrunk) d->pixels = shrunk; /* a failed shrink leaves a larger, still valid block */
    }
    out->w = (int)w;
    out->h = (int)h;
    out->c = 3;
    out->data = d->pixels;
    d->pixels = NULL;
    return MF_OK;
}

int mf_img_png_decode(const uint8_t *buf, size_t len, const mf_img_caps *caps, mf_img *out, mf_img_info *info,
                      mf_img_meta *meta) {
    /* Check the IHDR dimensions before libpng sees them, so that an oversize header is MF_ERR_LIMIT rather
     * than libpng's own "exceeds user limit" error. The signature is 8 bytes, then length, "IHDR", w, h. */
    if (len >= 24 && memcmp(buf + 12, "IHDR", 4) == 0) {
        int rc = mf_img_caps_check(caps, "PNG", be32(buf + 16), be32(buf + 20));
        if (rc != MF_OK) return rc;
    }
    png_ctx *d = calloc(1, sizeof *d);
    if (!d) return mf_error_set(MF_ERR_NOMEM, "out of memory decoding PNG");
    d->buf = buf;
    d->len = len;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, d, png_on_error, png_on_warning);
    png_infop pi = png ? png_create_info_struct(png) : NULL;
    if (!pi) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        free(d);
        return mf_error_set(MF_ERR_NOMEM, "out of memory decoding PNG");
    }
    int rc;
    if (setjmp(png_jmpbuf(png)))
        rc = mf_error_set(d->status, "PNG: %s", d->msg);
    else
        rc = png_decode_body(d, png, pi, caps, out, info, meta);
    png_destroy_read_struct(&png, &pi, NULL);
    free(d->pixels);
    free(d->rows);
    free(d);
    return rc;
}

/* ---- encode ---- */

static void png_write_mem(png_structp png, png_bytep src, size_t n) {
    png_ctx *d = png_get_io_ptr(png);
    size_t need;
    if (mf_size_add(d->olen, n, &need)) png_fail(png, MF_ERR_LIMIT, "output too large");
    if (need > d->ocap) {
        size_t ncap = d->ocap ? d->ocap : 1 << 16;
        while (ncap < need)
            if (mf_size_mul(ncap, 2, &ncap)) png_fail(png, MF_ERR_LIMIT, "output too large");
        uint8_t *nb = realloc(d->obuf, ncap);
        if (!nb) png_fail(png, MF_ERR_NOMEM, "out of memory");
        d->obuf = nb;
        d->ocap = ncap;
    }
    memcpy(d->obuf + d->olen, src, n);
    d->olen = need;
}

static void png_flush_mem(png_structp png) { (void)png; }

static int png_encode_body(png_structp png, png_infop pi, const mf_img *img, const mf_img_meta *meta) {
    static const int ctype[5] = {0, PNG_COLOR_TYPE_GRAY, 0, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    png_set_IHDR(png, pi, (png_uint_32)img->w, (png_uint_32)img->h, 8, ctype[img->c], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (meta && meta->icc_len) {
        /* libpng checks the profile against the image: a profile it lists as a known-incorrect sRGB one (common in
         * camera JPEGs) or one that does not fit is dropped with a warning, not an error (benign), so the photo is
         * still written; the pixels are sRGB-ish either way */
        png_set_option(png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
        png_set_benign_errors(png, 1);
        png_set_iCCP(png, pi, "ICC profile", PNG_COMPRESSION_TYPE_BASE, meta->icc, (png_uint_32)meta->icc_len);
    }
    if (meta && meta->exif_len) png_set_eXIf_1(png, pi, (png_uint_32)meta->exif_len, meta->exif);
    png_write_info(png, pi);
    const size_t stride = (size_t)img->w * (size_t)img->c;
    for (int y = 0; y < img->h; y++)
        png_write_row(png, img->data + (size_t)y * stride);
    png_write_end(png, NULL); /* with pi, libpng 1.6 writes eXIf a second time after the pixels */
    return MF_OK;
}

int mf_img_png_encode(const mf_img *img, const mf_img_meta *meta, uint8_t **buf, size_t *len) {
    MF_ASSERT(img != NULL && img->data != NULL && buf != NULL && len != NULL);
    MF_ASSERT(img->w > 0 && img->h > 0 && (img->c == 1 || img->c == 3 || img->c == 4));
    *buf = NULL;
    *len = 0;
    png_ctx *d = calloc(1, sizeof *d);
    if (!d) return mf_error_set(MF_ERR_NOMEM, "out of memory encoding PNG");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, d, png_on_error, png_on_warning);
    png_infop pi = png ? png_create_info_struct(png) : NULL;
    if (!pi) {
        png_destroy_write_struct(png ? &png : NULL, NULL);
        free(d);
        return mf_error_set(MF_ERR_NOMEM, "out of memory encoding PNG");
    }
    int rc;
    if (setjmp(png_jmpbuf(png))) {
        rc = mf_error_set(d->status, "PNG encoder: %s", d->msg);
    } else {
        png_set_write_fn(png, d, png_write_mem, png_flush_mem);
        rc = png_encode_body(png, pi, img, meta);
    }
    png_destroy_write_struct(&png, &pi);
    if (rc == MF_OK) {
        *buf = d->obuf;
        *len = d->olen;
    } else {
        free(d->obuf);
    }
    free(d);
    return rc;
}

int mf_img_encode_png(const mf_img *img, uint8_t **buf, size_t *len) { return mf_img_png_encode(img, NULL, buf, len); }
