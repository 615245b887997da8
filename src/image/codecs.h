/* The per-format codecs (jpeg.c, png.c, webp.c), called only by codec.c. They build on image/internal.h and
 * never call codec.c: the dependencies go codec.c -> codecs -> core. Not part of the public API. */
#ifndef MF_IMAGE_CODECS_H
#define MF_IMAGE_CODECS_H

#include "image/internal.h"

/* Per-format decoders. They fill *out with RGB (c = 3), set info->stored_w/h/alpha_composited, and for JPEG
 * info->orientation (the EXIF value found, not yet applied). info is never NULL here. */
int mf_img_jpeg_decode(const uint8_t *buf, size_t len, const mf_img_caps *caps, mf_img *out, mf_img_info *info);
int mf_img_png_decode(const uint8_t *buf, size_t len, const mf_img_caps *caps, mf_img *out, mf_img_info *info);
int mf_img_webp_decode(const uint8_t *buf, size_t len, const mf_img_caps *caps, mf_img *out, mf_img_info *info);

#endif
