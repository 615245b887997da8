/* The core of src/image shared by its files (image.c, exif.c): not part of the public API. The codecs and
 * codec.c include image/codecs.h, which adds the per-format entry points on top of this. */
#ifndef MF_IMAGE_INTERNAL_H
#define MF_IMAGE_INTERNAL_H

#include "mfmc/image.h"

/* Effective caps: lim with zero fields replaced by the defaults. */
typedef struct {
    uint64_t max_pixels;
    int max_side;
    size_t max_bytes;
} mf_img_caps;

void mf_img_caps_from(const mf_img_limits *lim, mf_img_caps *caps);

/* MF_OK when w x h is inside the caps; MF_ERR_FORMAT for a zero/negative side, MF_ERR_LIMIT over a cap.
 * `what` names the format in the message. */
int mf_img_caps_check(const mf_img_caps *caps, const char *what, long long w, long long h);

/* Aborts (MF_ASSERT) unless img is a valid image: data set, w, h >= 1, c in 1, 3, 4. */
void mf_img_assert_valid(const mf_img *img);

/* Byte size of a w x h x c image of elem-byte samples into *bytes: MF_ERR_ARG unless w, h >= 1 and c in 1, 3, 4,
 * MF_ERR_LIMIT over MF_IMG_SIDE_HARD_MAX per side or if the size overflows. Used by every allocator. */
int mf_img_shape_bytes(int w, int h, int c, size_t elem, size_t *bytes);

/* Zeroed calloc of a w x h x c image of elem-byte samples into *data (NULL on failure): the checks of
 * mf_img_shape_bytes, then MF_ERR_NOMEM. */
int mf_img_alloc(int w, int h, int c, size_t elem, void **data);

/* MF_OK when the rectangle (x, y, w, h) with w, h >= 1 lies inside a W x H image, else MF_ERR_ARG with a
 * message naming `what` ("crop", "view"). */
int mf_img_rect_check(int W, int H, int x, int y, int w, int h, const char *what);

/* Aborts (MF_ASSERT) unless v is a valid view: data set, w, h >= 1, c in 1, 3, 4, stride >= w * c. */
void mf_img_view_assert_valid(const mf_img_view *v);

/* EXIF orientation (1..8) from the payload of a JPEG APP1 segment (starting at "Exif\0\0"); 1 when absent,
 * malformed or out of range. Bounds-checked: the payload is untrusted. */
int mf_img_exif_orientation(const uint8_t *app1, size_t len);

/* 1 if p[0..len) starts with a TIFF header ("II*\0" or "MM\0*") and holds at least the 8-byte header. */
int mf_img_exif_is_tiff(const uint8_t *p, size_t len);

/* Decoders: copies a found metadata block into *dst and *dst_len (malloc'd) unless one is already there. For EXIF
 * (exif != 0) a leading "Exif\0\0" is dropped and the rest must be TIFF. A block that is empty, over its cap
 * (MF_IMG_MAX_ICC_BYTES, MF_IMG_MAX_EXIF_BYTES) or not TIFF is skipped: MF_OK, nothing copied.
 * MF_ERR_NOMEM only. */
int mf_img_meta_take(uint8_t **dst, size_t *dst_len, const uint8_t *src, size_t len, int exif);

/* Encoders: MF_OK when meta (NULL = none) can be written: lengths within the caps (MF_ERR_LIMIT), data set
 * where a length is, EXIF starting with a TIFF header (MF_ERR_ARG). */
int mf_img_meta_check(const mf_img_meta *meta);

/* Composites interleaved RGBA over white into RGB, in place (the RGB result packs into the first 3/4 of the
 * buffer). n = number of pixels. Returns 1 if any pixel was not fully opaque. */
int mf_img_rgba_to_rgb_inplace(uint8_t *px, size_t n);

#endif
