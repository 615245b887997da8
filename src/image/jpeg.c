/* JPEG via libjpeg-turbo: decode (with EXIF orientation lookup) and encode, both to and from memory.
 *
 * libjpeg reports fatal errors through error_exit (we longjmp back) and recoverable corruption through
 * emit_message(-1). Left alone it decodes a truncated or damaged file into grey blocks and returns success, so
 * the warnings that mean "pixels are missing or wrong" are promoted to errors here; harmless ones (extraneous
 * bytes before a marker, odd progression parameters, a bad ICC chunk) are tolerated as every viewer does.
 * Nothing is printed: output_message is a no-op. The codec state lives on the heap so that nothing the
 * longjmp may clobber is a local of the function that called setjmp. */
#include "image/codecs.h"

#include <setjmp.h>
#include <stddef.h>
#include <stdio.h> /* jpeglib.h needs FILE */
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h> /* after jpeglib.h: its message list depends on jconfig.h */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jmp;
    int status; /* mf_status to return after the longjmp */
    char msg[JMSG_LENGTH_MAX];
} jpg_err;

static void jpg_fail(j_common_ptr ci, int status, const char *msg) {
    jpg_err *e = (jpg_err *)ci->err;
    e->status = status;
    if (msg)
        snprintf(e->msg, sizeof e->msg, "%s", msg);
    else
        ci->err->format_message(ci, e->msg);
    longjmp(e->jmp, 1);
}

static void jpg_error_exit(j_common_ptr ci) {
    int status = MF_ERR_FORMAT;
    switch (ci->err->msg_code) {
    case JERR_OUT_OF_MEMORY: status = MF_ERR_NOMEM; break;
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW: status = MF_ERR_LIMIT; break;
    default: break;
    }
    jpg_fail(ci, status, NULL);
}

/* Set by the decoder while it reads the scanlines of a single-scan image (see JWRN_JPEG_EOF below). */
typedef struct {
    int eof_is_benign;
    int eof_seen;
} jpg_client;

static void jpg_emit_message(j_common_ptr ci, int level) {
    if (level >= 0) return; /* trace output */
    jpg_client *cl = ci->client_data;
    switch (ci->err->msg_code) {
    case JWRN_JPEG_EOF:
        /* The source ran dry. In a single-scan image the Huffman decoder reads ahead, so this also fires for a
         * file that only lacks its EOI marker; there, pixels are missing exactly when JWRN_HIT_MARKER follows.
         * A multi-scan (progressive) image has no such witness: a cut between scans would silently drop
         * detail, so there running dry is always an error. */
        if (cl) cl->eof_seen = 1;
        if (cl && cl->eof_is_benign) {
            ci->err->num_warnings++;
            break;
        }
        jpg_fail(ci, MF_ERR_FORMAT, "premature end of JPEG data (truncated file)");
        break;
    case JWRN_HIT_MARKER: /* entropy data ends early: truncated or damaged */
        if (cl && cl->eof_seen) jpg_fail(ci, MF_ERR_FORMAT, "premature end of JPEG data (truncated file)");
        jpg_fail(ci, MF_ERR_FORMAT, NULL);
        break;
    case JWRN_HUFF_BAD_CODE: /* corrupt entropy data */
#if JPEG_LIB_VERSION >= 70 || defined(C_ARITH_CODING_SUPPORTED) || defined(D_ARITH_CODING_SUPPORTED)
    case JWRN_ARITH_BAD_CODE: /* same, arithmetic coding */
#endif
    case JWRN_MUST_RESYNC: /* lost restart-marker sync: blocks missing */ jpg_fail(ci, MF_ERR_FORMAT, NULL); break;
    default: ci->err->num_warnings++; break;
    }
}

static void jpg_output_message(j_common_ptr ci) { (void)ci; }

static void jpg_err_init(jpg_err *e) {
    jpeg_std_error(&e->pub);
    e->pub.error_exit = jpg_error_exit;
    e->pub.emit_message = jpg_emit_message;
    e->pub.output_message = jpg_output_message;
    e->status = MF_OK;
    e->msg[0] = '\0';
}

/* ---- decode ---- */

typedef struct {
    struct jpeg_decompress_struct ci;
    jpg_err err;
    struct jpeg_progress_mgr progress;
    jpg_client client;
    uint8_t *row; /* CMYK scanline */
} jpg_dec;

static void jpg_progress(j_common_ptr ci) {
    if (ci->is_decompressor && ((j_decompress_ptr)ci)->input_scan_number > MF_IMG_JPEG_MAX_SCANS)
        jpg_fail(ci, MF_ERR_FORMAT, "more than " MF_LIMIT_STR(MF_IMG_JPEG_MAX_SCANS) " progressive scans");
}

/* Everything that may longjmp. Returns MF_OK or a status whose message is already set. */
static int jpg_decode_body(jpg_dec *d, const uint8_t *buf, size_t len, const mf_img_caps *caps, mf_img *out,
                           mf_img_info *info, mf_img_meta *meta) {
    j_decompress_ptr ci = &d->ci;
    jpeg_create_decompress(ci);
    ci->client_data = &d->client;
    ci->progress = &d->progress;
    jpeg_mem_src(ci, buf, (unsigned long)len);
    jpeg_save_markers(ci, JPEG_APP0 + 1, 0xffff);
    if (meta) jpeg_save_markers(ci, JPEG_APP0 + 2, 0xffff); /* ICC_PROFILE chunks */
    if (jpeg_read_header(ci, TRUE) != JPEG_HEADER_OK)
        return mf_error_set(MF_ERR_FORMAT, "JPEG: no image in the data stream (tables only)");

    info->stored_w = (int)ci->image_width;
    info->stored_h = (int)ci->image_height;
    int rc = mf_img_caps_check(caps, "JPEG", ci->image_width, ci->image_height);
    if (rc != MF_OK) return rc;

    for (jpeg_saved_marker_ptr m = ci->marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && memcmp(m->data, "Exif\0\0", 6) == 0) {
            info->orientation = mf_img_exif_orientation(m->data, m->data_length);
            if (meta && (rc = mf_img_meta_take(&meta->exif, &meta->exif_len, m->data, m->data_length, 1)) != MF_OK)
                return rc;
            break;
        }
    }
    if (meta) {
        /* libjpeg-turbo reassembles the chunks (any order, checked) into a malloc'd block; FALSE when absent or
         * inconsistent (a tolerated warning). */
        JOCTET *icc = NULL;
        unsigned int icc_len = 0;
        if (jpeg_read_icc_profile(ci, &icc, &icc_len)) {
            rc = mf_img_meta_take(&meta->icc, &meta->icc_len, icc, icc_len, 0);
            free(icc);
            if (rc != MF_OK) return rc;
        }
    }

    int cmyk = ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK;
    if (ci->num_components != 1 && ci->num_components != 3 && !(cmyk && ci->num_components == 4))
        return mf_error_set(MF_ERR_UNSUPPORTED, "JPEG: %d colour components are not supported", ci->num_components);
    ci->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(ci);
    if ((int)ci->output_width != info->stored_w || (int)ci->output_height != info->stored_h ||
        ci->output_components != (cmyk ? 4 : 3))
        return mf_error_set(MF_ERR_FORMAT, "JPEG: unexpected output shape");

    rc = mf_img_init(out, info->stored_w, info->stored_h, 3);
    if (rc != MF_OK) return rc;
    const size_t stride = (size_t)out->w * 3;
    if (cmyk) {
        d->row = malloc((size_t)out->w * 4);
        if (!d->row) return mf_error_set(MF_ERR_NOMEM, "out of memory decoding JPEG");
    }
    int inverted = ci->saw_Adobe_marker; /* Adobe writes CMYK inverted (255 = no ink) */
    d->client.eof_is_benign = !jpeg_has_multiple_scans(ci);
    while (ci->output_scanline < ci->output_height) {
        JDIMENSION y = ci->output_scanline;
        if (!cmyk) {
            JSAMPROW rows[16];
            JDIMENSION n = ci->output_height - y < 16 ? ci->output_height - y : 16;
            for (JDIMENSION i = 0; i < n; i++)
                rows[i] = out->data + (size_t)(y + i) * stride;
            if (jpeg_read_scanlines(ci, rows, n) == 0) return mf_error_set(MF_ERR_FORMAT, "JPEG: decoder stalled");
            continue;
        }
        JSAMPROW rows[1] = {d->row};
        if (jpeg_read_scanlines(ci, rows, 1) != 1) return mf_error_set(MF_ERR_FORMAT, "JPEG: decoder stalled");
        uint8_t *o = out->data + (size_t)y * stride;
        for (int x = 0; x < out->w; x++) {
            unsigned cc = d->row[4 * x], mm = d->row[4 * x + 1], yy = d->row[4 * x + 2], kk = d->row[4 * x + 3];
            if (!inverted) {
                cc = 255 - cc;
                mm = 255 - mm;
                yy = 255 - yy;
                kk = 255 - kk;
            }
            o[3 * x] = (uint8_t)((cc * kk + 127) / 255);
            o[3 * x + 1] = (uint8_t)((mm * kk + 127) / 255);
            o[3 * x + 2] = (uint8_t)((yy * kk + 127) / 255);
        }
    }
    /* No jpeg_finish_decompress: every pixel is in, and a file cut just before EOI is still a whole image. */
    return MF_OK;
}

int mf_img_jpeg_decode(const uint8_t *buf, size_t len, const mf_img_caps *caps, mf_img *out, mf_img_info *info,
                       mf_img_meta *meta) {
    jpg_dec *d = calloc(1, sizeof *d);
    if (!d) return mf_error_set(MF_ERR_NOMEM, "out of memory decoding JPEG");
    jpg_err_init(&d->err);
    d->ci.err = &d->err.pub;
    d->progress.progress_monitor = jpg_progress;
    int rc;
    if (setjmp(d->err.jmp)) {
        rc = mf_error_set(d->err.status, "JPEG: %s", d->err.msg);
        mf_img_free(out);
    } else {
        rc = jpg_decode_body(d, buf, len, caps, out, info, meta);
    }
    jpeg_destroy_decompress(&d->ci);
    free(d->row);
    free(d);
    return rc;
}

/* ---- encode ---- */

typedef struct {
    struct jpeg_compress_struct cc;
    jpg_err err;
    struct jpeg_destination_mgr dest;
    uint8_t *buf; /* growing output, owned here until handed to the caller */
    size_t cap;
} jpg_enc;

enum { JPG_OUT_CHUNK = 1 << 16 };

/* client_data belongs to the decoder's emit_message; the encoder finds its state from the destination. */
static jpg_enc *jpg_enc_of(j_compress_ptr cc) {
    return (jpg_enc *)(void *)((char *)cc->dest - offsetof(jpg_enc, dest));
}

static void jpg_dest_init(j_compress_ptr cc) {
    jpg_enc *e = jpg_enc_of(cc);
    e->buf = malloc(JPG_OUT_CHUNK);
    if (!e->buf) jpg_fail((j_common_ptr)cc, MF_ERR_NOMEM, "out of memory");
    e->cap = JPG_OUT_CHUNK;
    e->dest.next_output_byte = e->buf;
    e->dest.free_in_buffer = e->cap;
}

/* Called when the buffer is full (free_in_buffer is stale then: the whole buffer is used). */
static boolean jpg_dest_empty(j_compress_ptr cc) {
    jpg_enc *e = jpg_enc_of(cc);
    size_t ncap;
    if (mf_size_mul(e->cap, 2, &ncap)) jpg_fail((j_common_ptr)cc, MF_ERR_LIMIT, "output too large");
    uint8_t *nb = realloc(e->buf, ncap);
    if (!nb) jpg_fail((j_common_ptr)cc, MF_ERR_NOMEM, "out of memory");
    e->buf = nb;
    e->dest.next_output_byte = nb + e->cap;
    e->dest.free_in_buffer = ncap - e->cap;
    e->cap = ncap;
    return TRUE;
}

static void jpg_dest_term(j_compress_ptr cc) { (void)cc; }

/* APP1 "Exif\0\0" + TIFF stream, written as one marker (the length fits: mf_img_meta_check capped it). */
static void jpg_write_exif(j_compress_ptr cc, const uint8_t *exif, size_t len) {
    jpeg_write_m_header(cc, JPEG_APP0 + 1, (unsigned int)(6 + len));
    for (int i = 0; i < 6; i++)
        jpeg_write_m_byte(cc, "Exif\0\0"[i]);
    for (size_t i = 0; i < len; i++)
        jpeg_write_m_byte(cc, exif[i]);
}

static int jpg_encode_body(jpg_enc *e, const mf_img *img, int quality, const mf_img_meta *meta) {
    j_compress_ptr cc = &e->cc;
    jpeg_create_compress(cc);
    e->dest.init_destination = jpg_dest_init;
    e->dest.empty_output_buffer = jpg_dest_empty;
    e->dest.term_destination = jpg_dest_term;
    cc->dest = &e->dest;
    cc->image_width = (JDIMENSION)img->w;
    cc->image_height = (JDIMENSION)img->h;
    cc->input_components = img->c;
    cc->in_color_space = img->c == 1 ? JCS_GRAYSCALE : img->c == 3 ? JCS_RGB : JCS_EXT_RGBX;
    jpeg_set_defaults(cc);
    jpeg_set_quality(cc, quality, TRUE);
    cc->optimize_coding = TRUE;
    if (quality >= 90 && img->c != 1) { /* chroma subsampling visibly smears colour edges at high quality */
        cc->comp_info[0].h_samp_factor = 1;
        cc->comp_info[0].v_samp_factor = 1;
    }
    int exif = meta && meta->exif_len, icc = meta && meta->icc_len;
    if (exif) cc->write_JFIF_header = FALSE; /* EXIF wants its APP1 first; JFIF and EXIF exclude each other */
    jpeg_start_compress(cc, TRUE);
    if (exif) jpg_write_exif(cc, meta->exif, meta->exif_len);
    if (icc) jpeg_write_icc_profile(cc, meta->icc, (unsigned int)meta->icc_len);
    const size_t stride = (size_t)img->w * (size_t)img->c;
    while (cc->next_scanline < cc->image_height) {
        /* libjpeg never writes through the row pointers; the API just lacks const. */
        JSAMPROW row = (JSAMPROW)(uintptr_t)(img->data + (size_t)cc->next_scanline * stride);
        jpeg_write_scanlines(cc, &row, 1);
    }
    jpeg_finish_compress(cc);
    return MF_OK;
}

int mf_img_jpeg_encode(const mf_img *img, int quality, const mf_img_meta *meta, uint8_t **buf, size_t *len) {
    MF_ASSERT(img != NULL && img->data != NULL && buf != NULL && len != NULL);
    MF_ASSERT(img->w > 0 && img->h > 0 && (img->c == 1 || img->c == 3 || img->c == 4));
    *buf = NULL;
    *len = 0;
    if (quality < 1 || quality > 100) return mf_error_set(MF_ERR_ARG, "JPEG quality %d is not in 1..100", quality);
    if (img->w > JPEG_MAX_DIMENSION || img->h > JPEG_MAX_DIMENSION)
        return mf_error_set(MF_ERR_LIMIT, "JPEG cannot store %dx%d (max %d per side)", img->w, img->h,
                            (int)JPEG_MAX_DIMENSION);
    jpg_enc *e = calloc(1, sizeof *e);
    if (!e) return mf_error_set(MF_ERR_NOMEM, "out of memory encoding JPEG");
    jpg_err_init(&e->err);
    e->cc.err = &e->err.pub;
    int rc;
    if (setjmp(e->err.jmp)) {
        rc = mf_error_set(e->err.status, "JPEG encoder: %s", e->err.msg);
    } else {
        rc = jpg_encode_body(e, img, quality, meta);
    }
    if (rc == MF_OK) {
        *len = e->cap - e->dest.free_in_buffer;
        *buf = e->buf;
    } else {
        free(e->buf);
    }
    jpeg_destroy_compress(&e->cc);
    free(e);
    return rc;
}

int mf_img_encode_jpeg(const mf_img *img, int quality, uint8_t **buf, size_t *len) {
    return mf_img_jpeg_encode(img, quality, NULL, buf, len);
}
