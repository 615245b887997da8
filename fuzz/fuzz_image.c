/* libFuzzer target for the image decoders (JPEG, PNG, WebP, EXIF orientation, alpha compositing).
 * Caps are small so that each input decodes in milliseconds; oversize headers must be refused, not decoded.
 * A decoded image is also pushed through the float resampler, which must accept anything the decoder returns.
 * Every input is decoded a second time asking for metadata (the ICC/EXIF readers: JPEG APP1/APP2, PNG
 * iCCP/eXIf, WebP RIFF chunk walk): same status and same pixels, blocks within their caps, EXIF cleanable.
 *
 * Build (clang): -fsanitize=fuzzer,address,undefined, with the sources of src/image and src/core and
 * -ljpeg -lpng16 -lwebp -lm; the exact command is in docs/image.md. Seeds: fuzz/corpus/image. */
#include "mfmc/image.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const mf_img_limits lim = {.max_pixels = 1u << 18, .max_side = 4096, .max_bytes = 1u << 20};
    mf_img img;
    mf_img_info info;
    int rc = mf_img_decode(data, size, &lim, &img, &info);
    if (rc != MF_OK) {
        /* failure contract: empty output, negative status, a message */
        MF_ASSERT(img.data == NULL && rc < 0 && mf_error_get()[0] != '\0');
        return 0;
    }
    MF_ASSERT(img.c == 3 && img.w > 0 && img.h > 0 && (uint64_t)img.w * (uint64_t)img.h <= lim.max_pixels);
    MF_ASSERT(info.orientation >= 1 && info.orientation <= 8);
    MF_ASSERT(info.orientation >= 5 ? img.w == info.stored_h && img.h == info.stored_w
                                    : img.w == info.stored_w && img.h == info.stored_h);
    /* touch every pixel so that MSan/ASan see uninitialised or unowned bytes */
    unsigned sum = 0;
    for (size_t i = 0, n = (size_t)img.w * (size_t)img.h * 3; i < n; i++)
        sum += img.data[i];
    float out[8 * 8 * 3];
    mf_img_resize_to_float(&img, 8, 8, 1.0f / 255.0f, (float)(sum & 1), out);
    mf_img with;
    mf_img_meta meta;
    int rc2 = mf_img_decode_meta(data, size, &lim, &with, NULL, &meta);
    MF_ASSERT(rc2 == MF_OK && with.w == img.w && with.h == img.h &&
              memcmp(with.data, img.data, (size_t)img.w * (size_t)img.h * 3) == 0);
    MF_ASSERT((meta.icc != NULL) == (meta.icc_len != 0) && meta.icc_len <= MF_IMG_MAX_ICC_BYTES);
    MF_ASSERT((meta.exif != NULL) == (meta.exif_len != 0) && meta.exif_len <= MF_IMG_MAX_EXIF_BYTES);
    for (size_t i = 0; i < meta.icc_len; i++)
        sum += meta.icc[i];
    if (meta.exif) {
        uint8_t *clean;
        size_t n;
        if (mf_img_exif_clean(meta.exif, meta.exif_len, &clean, &n) == MF_OK) free(clean);
    }
    mf_img_meta_free(&meta);
    mf_img_free(&with);
    mf_img_free(&img);
    return 0;
}
