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

/* MF_OK when the rectangle (x, y, w, h) with w, h >= 1 lies inside a W x H image, else MF_ERR_ARG with a
 * message naming `what` ("crop", "view"). */
int mf_img_rect_check(int W, int H, int x, int y, int w, int h, const char *what);

/* Aborts (MF_ASSERT) unless v is a valid view: data set, w, h >= 1, c in 1, 3, 4, stride >= w * c. */
void mf_img_view_assert_valid(const mf_img_view *v);

/* EXIF orientation (1..8) from the payload of a JPEG APP1 segment (starting at "Exif\0\0"); 1 when absent,
 * malformed or out of range. Bounds-checked: the payload is untrusted. */
int mf_img_exif_orientation(const uint8_t *app1, size_t len);

/* Composites interleaved RGBA over white into RGB, in place (the RGB result packs into the first 3/4 of the
 * buffer). n = number of pixels. Returns 1 if any pixel was not fully opaque. */
int mf_img_rgba_to_rgb_inplace(uint8_t *px, size_t n);

#endif
