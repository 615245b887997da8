/* Metadata blocks (mf_img_meta): release, the copies the decoders make, and the checks the encoders apply. */
#include "image/internal.h"

#include <stdlib.h>
#include <string.h>

void mf_img_meta_free(mf_img_meta *meta) {
    if (!meta) return;
    free(meta->icc);
    free(meta->exif);
    memset(meta, 0, sizeof *meta);
}

int mf_img_exif_is_tiff(const uint8_t *p, size_t len) {
    return len >= 8 && ((p[0] == 'I' && p[1] == 'I' && p[2] == 42 && p[3] == 0) ||
                        (p[0] == 'M' && p[1] == 'M' && p[2] == 0 && p[3] == 42));
}

int mf_img_meta_take(uint8_t **dst, size_t *dst_len, const uint8_t *src, size_t len, int exif) {
    if (*dst) return MF_OK; /* the first block found wins */
    if (exif && len >= 6 && memcmp(src, "Exif\0\0", 6) == 0) {
        src += 6;
        len -= 6;
    }
    if (len == 0 || len > (exif ? MF_IMG_MAX_EXIF_BYTES : MF_IMG_MAX_ICC_BYTES)) return MF_OK;
    if (exif && !mf_img_exif_is_tiff(src, len)) return MF_OK;
    uint8_t *p = malloc(len);
    if (!p) return mf_error_set(MF_ERR_NOMEM, "out of memory copying a %zu-byte metadata block", len);
    memcpy(p, src, len);
    *dst = p;
    *dst_len = len;
    return MF_OK;
}

int mf_img_meta_check(const mf_img_meta *meta) {
    if (!meta) return MF_OK;
    if (meta->icc_len && !meta->icc)
        return mf_error_set(MF_ERR_ARG, "ICC profile length %zu without data", meta->icc_len);
    if (meta->exif_len && !meta->exif) return mf_error_set(MF_ERR_ARG, "EXIF length %zu without data", meta->exif_len);
    if (meta->icc_len > MF_IMG_MAX_ICC_BYTES)
        return mf_error_set(MF_ERR_LIMIT, "ICC profile of %zu bytes is over the limit of %zu", meta->icc_len,
                            MF_IMG_MAX_ICC_BYTES);
    if (meta->exif_len > MF_IMG_MAX_EXIF_BYTES)
        return mf_error_set(MF_ERR_LIMIT, "EXIF of %zu bytes is over the limit of %zu", meta->exif_len,
                            MF_IMG_MAX_EXIF_BYTES);
    if (meta->exif_len && !mf_img_exif_is_tiff(meta->exif, meta->exif_len))
        return mf_error_set(MF_ERR_ARG, "EXIF block does not start with a TIFF header (II*\\0 or MM\\0*)");
    return MF_OK;
}
