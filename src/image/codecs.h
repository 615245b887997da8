/* The per-format codecs (jpeg.c, png.c, webp.c), called only by codec.c. They build on image/internal.h and
 * never call codec.c: the dependencies go codec.c -> codecs -> core. Not part of the public API. */
#ifndef MF_IMAGE_CODECS_H
#define MF_IMAGE_CODECS_H

#include "image/internal.h"

/* Per-format decoders. They fill *out with RGB (c = 3), set info->stored_w/h/alpha_composited, and for JPEG
 * info->orientation (the EXIF value found, not yet applied). info is never NULL here. meta NULL = metadata not
 * wanted (and not even read); else the blocks found are added to *meta (zeroed by the caller, freed by the
 * caller on failure too). */
int mf_img_jpeg_decode(const uint8_t *buf, size_t len, const mf_img_caps *caps, mf_img *out, mf_img_info *info,
                       mf_img_meta *meta);
int mf_img_png_decode(const uint8_t *buf, size_t len, const mf_img_caps *caps, mf_img *out, mf_img_info *info,
                      mf_img_meta *meta);
int mf_img_webp_decode(const uint8_t *buf, size_t len, const mf_img_caps *caps, mf_img *out, mf_img_info *info,
                       mf_img_meta *meta);

/* Per-format encoders: the public mf_img_encode_<format> contracts plus the blocks of meta (NULL = none),
 * already checked with mf_img_meta_check by the caller. */
int mf_img_jpeg_encode(const mf_img *img, int quality, const mf_img_meta *meta, uint8_t **buf, size_t *len);
int mf_img_png_encode(const mf_img *img, const mf_img_meta *meta, uint8_t **buf, size_t *len);
int mf_img_webp_encode(const mf_img *img, int quality, const mf_img_meta *meta, uint8_t **buf, size_t *len);

#endif
