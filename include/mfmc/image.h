/* mfmc image module: decoding (JPEG, PNG, WebP), encoding, EXIF orientation, and the resampling that feeds the
 * neural models (float NHWC output) and the renderer (8-bit output).
 *
 * Pixels are interleaved 8-bit, row-major, no padding: sample (x, y, k) is data[(y * w + x) * c + k].
 * c is 3 (RGB) for everything the decoders return; 1 (grey) and 4 (RGBA) are accepted where noted.
 *
 * Ownership: a function that fills an `mf_img *` output initialises it itself (the caller passes an
 * uninitialised or freed struct) and leaves it empty ({0}) on failure; the caller releases it with
 * mf_img_free(). Buffers returned through `uint8_t **` are malloc'd and released with free().
 * Errors follow core.h: negative mf_status plus mf_error_get() message. */
#ifndef MFMC_IMAGE_H
#define MFMC_IMAGE_H

#include "mfmc/core.h"
#include "mfmc/limits.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int w, h, c;   /* width, height, channels (1, 3 or 4) */
    uint8_t *data; /* w * h * c bytes, owned by the struct */
} mf_img;

/* Caps applied to untrusted input before any pixel memory is allocated. A field left 0 takes its default. */
/* (The defaults are in mfmc/limits.h.) */
typedef struct {
    uint64_t max_pixels; /* w * h; default MF_IMG_DEFAULT_MAX_PIXELS */
    int max_side;        /* max(w, h); default MF_IMG_DEFAULT_MAX_SIDE */
    size_t max_bytes;    /* size of the encoded input; default MF_IMG_DEFAULT_MAX_BYTES */
} mf_img_limits;

typedef enum {
    MF_IMG_FORMAT_UNKNOWN = 0,
    MF_IMG_FORMAT_JPEG = 1,
    MF_IMG_FORMAT_PNG = 2,
    MF_IMG_FORMAT_WEBP = 3,
} mf_img_format;

/* What the decoder found and did; optional output of mf_img_decode / mf_img_load. */
typedef struct {
    mf_img_format format;
    int orientation;        /* EXIF orientation that was applied (1..8; 1 = none or no EXIF) */
    int stored_w, stored_h; /* dimensions as stored in the file, before orientation */
    int alpha_composited;   /* 1 if the file had transparency, composited over white */
} mf_img_info;

/* Allocates a zeroed w x h x c image into *img (c in 1, 3, 4; w, h >= 1; each side at most MF_IMG_SIDE_HARD_MAX).
 * MF_ERR_ARG for bad dimensions, MF_ERR_LIMIT if the byte size overflows, MF_ERR_NOMEM. */
int mf_img_init(mf_img *img, int w, int h, int c);

/* Releases the pixels and empties *img. NULL and already-empty images are fine. */
void mf_img_free(mf_img *img);

/* Format of an encoded buffer, by magic bytes only. */
mf_img_format mf_img_format_detect(const uint8_t *buf, size_t len);

/* Decodes a JPEG, PNG or WebP from memory into *out: always RGB 8-bit (c = 3), upright (JPEG EXIF orientation
 * applied), transparency composited over white. lim NULL = defaults; info NULL = not wanted.
 * MF_ERR_FORMAT: unknown format, empty, truncated or corrupt data, zero dimensions.
 * MF_ERR_LIMIT: dimensions or input size over the caps (checked from the header, before allocating pixels).
 * MF_ERR_UNSUPPORTED: valid file using a feature not handled (animated WebP, JPEG with 2 components). */
int mf_img_decode(const uint8_t *buf, size_t len, const mf_img_limits *lim, mf_img *out, mf_img_info *info);

/* mf_img_decode of a whole file; the input-size cap is enforced while reading. Messages name the path. */
int mf_img_load(const char *path, const mf_img_limits *lim, mf_img *out, mf_img_info *info);

/* Encodes img (c = 1, 3 or 4; alpha is dropped) as baseline JPEG, quality 1..100, 4:2:0 below quality 90 and
 * 4:4:4 from 90 up. *buf is malloc'd (caller frees); on failure *buf = NULL, *len = 0. */
int mf_img_encode_jpeg(const mf_img *img, int quality, uint8_t **buf, size_t *len);

/* Encodes img losslessly as PNG (c = 1 grey, 3 RGB, 4 RGBA). *buf is malloc'd (caller frees). */
int mf_img_encode_png(const mf_img *img, uint8_t **buf, size_t *len);

/* Encodes img (c = 3 or 4; alpha kept) as lossy WebP, quality 1..100, or lossless when quality is
 * MF_IMG_QUALITY_LOSSLESS. *buf is malloc'd (caller frees). */
int mf_img_encode_webp(const mf_img *img, int quality, uint8_t **buf, size_t *len);
#define MF_IMG_QUALITY_LOSSLESS 101

/* Writes img to path, format by extension (.jpg/.jpeg, .png, .webp, any case); quality as for the encoders,
 * ignored for PNG. MF_ERR_UNSUPPORTED for another extension, MF_ERR_IO if writing fails (the partial file is
 * removed). */
int mf_img_save(const mf_img *img, const char *path, int quality);

/* ---- metadata blocks (for writing outputs that keep the colour profile and nothing else) ----
 * Decoders hand back the blocks when asked; encoders write exactly the blocks given and nothing else (no XMP,
 * IPTC, comments or thumbnails). */
typedef struct {
    uint8_t *icc;    /* ICC colour profile, malloc'd; NULL when absent */
    size_t icc_len;  /* at most MF_IMG_MAX_ICC_BYTES */
    uint8_t *exif;   /* EXIF as a TIFF stream (starts "II*\0" or "MM\0*", no "Exif\0\0"), malloc'd; NULL when absent */
    size_t exif_len; /* at most MF_IMG_MAX_EXIF_BYTES */
} mf_img_meta;

/* Releases the blocks and empties *meta. NULL and already-empty structs are fine. */
void mf_img_meta_free(mf_img_meta *meta);

/* mf_img_decode that also returns the ICC profile and the raw EXIF (meta NULL = not wanted; else *meta is
 * initialised here, the caller frees it with mf_img_meta_free, and it is left {0} on failure). Sources: JPEG
 * APP2 ICC_PROFILE chunks and the first APP1 Exif; PNG iCCP and eXIf (before the pixels; libpng drops an
 * invalid profile); WebP ICCP and EXIF chunks. A block over its cap or malformed is left out, not an error.
 * The EXIF is as stored: its orientation tag still says how the stored pixels were turned (the returned
 * pixels are upright), so pass it through mf_img_exif_clean before writing it with upright pixels. */
int mf_img_decode_meta(const uint8_t *buf, size_t len, const mf_img_limits *lim, mf_img *out, mf_img_info *info,
                       mf_img_meta *meta);

/* mf_img_load with metadata, as mf_img_decode_meta. */
int mf_img_load_meta(const char *path, const mf_img_limits *lim, mf_img *out, mf_img_info *info, mf_img_meta *meta);

/* Format for a file name by its extension (.jpg/.jpeg, .png, .webp, any case); MF_IMG_FORMAT_UNKNOWN otherwise. */
mf_img_format mf_img_format_from_path(const char *path);

/* Encodes img as `format` with quality as for the per-format encoders (ignored for PNG), writing the ICC
 * profile and EXIF of meta when set (meta NULL = none): JPEG APP1 Exif + APP2 ICC_PROFILE chunks (no JFIF
 * header when EXIF is written, as the EXIF standard asks), PNG iCCP + eXIf, WebP extended format with ICCP +
 * EXIF chunks. MF_ERR_ARG for an unknown format, a block over its cap (MF_ERR_LIMIT) or EXIF that does not
 * start with a TIFF header; PNG refuses an ICC profile libpng finds invalid for the image (MF_ERR_FORMAT).
 * *buf is malloc'd (caller frees); on failure *buf = NULL, *len = 0. */
int mf_img_encode(const mf_img *img, mf_img_format format, int quality, const mf_img_meta *meta, uint8_t **buf,
                  size_t *len);

/* mf_img_save with the metadata blocks of meta (NULL = none), written as by mf_img_encode. */
int mf_img_save_meta(const mf_img *img, const char *path, int quality, const mf_img_meta *meta);

/* Copy of the EXIF TIFF stream exif for an image that is now upright and has no thumbnail: IFD1 (the
 * thumbnail directory), its values and the thumbnail bytes are removed (zeroed, and cut off when they lie past
 * everything IFD0, the Exif, GPS and Interop directories reference), IFD0's link to it is cleared, and the
 * orientation tag, if present, is set to 1. Everything else is kept at its offset. *out is malloc'd (caller
 * frees). MF_ERR_FORMAT for a stream that is not TIFF or whose IFD0 does not fit (or overlaps the header), MF_ERR_LIMIT
 * over MF_IMG_MAX_EXIF_BYTES. The input is untrusted: every offset is bounds-checked. */
int mf_img_exif_clean(const uint8_t *exif, size_t len, uint8_t **out, size_t *out_len);

/* Copies the rectangle (x, y, w, h), which must lie inside src, into *dst. MF_ERR_ARG otherwise. */
int mf_img_crop(const mf_img *src, int x, int y, int w, int h, mf_img *dst);

/* ---- views: windows into pixels owned elsewhere ----
 * Sample (x, y, k) of a view is data[y * stride + x * c + k]; stride >= w * c. A view owns nothing: it is valid
 * while the image it was taken from is, and is never freed. Views of a const image may be written through
 * (like strchr's result); not doing so is the caller's business. */
typedef struct {
    int w, h, c;   /* width, height, channels (1, 3 or 4) */
    size_t stride; /* bytes from one row to the next */
    uint8_t *data; /* first sample of the top-left pixel; not owned */
} mf_img_view;

/* View of the rectangle (x, y, w, h) of img, which must lie inside it (w, h >= 1; a 1x1 view of the last pixel
 * is fine). MF_ERR_ARG otherwise, *view = {0}. */
int mf_img_view_of(const mf_img *img, int x, int y, int w, int h, mf_img_view *view);

/* View of the rectangle (x, y, w, h) of view src (inside it, as for mf_img_view_of). */
int mf_img_view_sub(const mf_img_view *src, int x, int y, int w, int h, mf_img_view *view);

/* Copies the pixels of a view into a new image *dst (same w, h, c). */
int mf_img_from_view(const mf_img_view *src, mf_img *dst);

/* ---- float images (for work that needs more than 8 bits: blending, gradients) ----
 * Interleaved float samples, row-major, no padding: sample (x, y, k) is data[(y * w + x) * c + k]. Values use
 * the 8-bit scale (0..255) unless a function says otherwise. Same ownership rules and shape caps as mf_img. */
typedef struct {
    int w, h, c; /* width, height, channels (1, 3 or 4) */
    float *data; /* w * h * c floats, owned by the struct */
} mf_imgf;

/* View into a float image: sample (x, y, k) is data[y * stride + x * c + k], stride in floats (>= w * c). */
typedef struct {
    int w, h, c;
    size_t stride; /* floats from one row to the next */
    float *data;   /* not owned */
} mf_imgf_view;

/* Allocates a zeroed w x h x c float image (c in 1, 3, 4; w, h >= 1; each side at most MF_IMG_SIDE_HARD_MAX).
 * MF_ERR_ARG for bad dimensions, MF_ERR_LIMIT over the side cap or if the byte size overflows, MF_ERR_NOMEM. */
int mf_imgf_init(mf_imgf *img, int w, int h, int c);

/* Releases the samples and empties *img. NULL and already-empty images are fine. */
void mf_imgf_free(mf_imgf *img);

/* View of the rectangle (x, y, w, h) of img, inside it; MF_ERR_ARG otherwise, *view = {0}. */
int mf_imgf_view_of(const mf_imgf *img, int x, int y, int w, int h, mf_imgf_view *view);

/* Copies the rectangle (x, y, w, h), which must lie inside src, into a new float image *dst. MF_ERR_ARG
 * otherwise. */
int mf_imgf_crop(const mf_imgf *src, int x, int y, int w, int h, mf_imgf *dst);

/* New float image *dst with the samples of src as floats (0..255, exact). */
int mf_imgf_from_img(const mf_img *src, mf_imgf *dst);

/* New float image *dst with the samples of the 8-bit view src as floats (0..255, exact). */
int mf_imgf_from_view(const mf_img_view *src, mf_imgf *dst);

/* New 8-bit image *dst from src: each sample rounded to nearest (halves away from zero), clamped to 0..255;
 * NaN becomes 0. */
int mf_imgf_to_img(const mf_imgf *src, mf_img *dst);

/* Writes src into the 8-bit view dst (same w, h, c, else MF_ERR_ARG; nothing written then), rounding and
 * clamping as mf_imgf_to_img: pastes a float result into a region of an image. */
int mf_imgf_to_view(const mf_imgf *src, const mf_img_view *dst);

/* Resizes src to ow x oh into *dst, 8-bit, same channels: box (area) filter along an axis that shrinks,
 * bilinear with half-pixel centres along an axis that grows or keeps its size. */
int mf_img_resize(const mf_img *src, int ow, int oh, mf_img *dst);

/* Writes rows [y0, y1) of mf_img_resize(src, dst->w, dst->h) into dst (initialised by the caller, src's channels),
 * the same bytes as the whole resize gives them: bands of one resize may be computed on several threads. MF_ERR_ARG
 * for a bad range or channel count (nothing written). */
int mf_img_resize_rows(const mf_img *src, mf_img *dst, int y0, int y1);

/* Rotates src clockwise by quarter_turns * 90 degrees (any integer, negative = counter-clockwise) into *dst. */
int mf_img_rotate90(const mf_img *src, int quarter_turns, mf_img *dst);

/* Mirrors src left-right (horizontal != 0) or top-bottom (horizontal == 0) into *dst. */
int mf_img_flip(const mf_img *src, int horizontal, mf_img *dst);

/* Applies EXIF orientation `orientation` (1..8, as stored in tag 0x0112) to src so that *dst is upright:
 * 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 counter-
 * clockwise. MF_ERR_ARG for other values. */
int mf_img_orient(const mf_img *src, int orientation, mf_img *dst);

/* Bilinear resize to float NHWC (one batch), dst[(y * ow + x) * c + k] = pixel * scale + bias, with the
 * semantics of TensorFlow ResizeBilinear(align_corners=false, half_pixel_centers=true): output pixel (x, y)
 * samples the source at ((x + 0.5) * src->w / ow - 0.5, (y + 0.5) * src->h / oh - 0.5), neighbours clamped to
 * the edge. dst holds ow * oh * src->c floats, provided by the caller. ow, oh >= 1. */
void mf_img_resize_to_float(const mf_img *src, int ow, int oh, float scale, float bias, float *dst);

/* Affine warp to float NHWC with bilinear sampling (the cv2.warpAffine(WARP_INVERSE_MAP, BORDER_CONSTANT)
 * convention). Coordinates are in pixels with the CENTRE of pixel (column i, row j) at (i, j), in both images.
 * Destination pixel (x, y) samples the source at
 *     sx = m[0] * x + m[1] * y + m[2],   sy = m[3] * x + m[4] * y + m[5]
 * from the four pixels around (sx, sy); a neighbour outside src contributes `border` (an output value, i.e.
 * already after scale and bias), so edges fade into the border over one pixel. Inside pixels contribute
 * pixel * scale + bias. Identity m = {1,0,0, 0,1,0} reproduces the image exactly. A caller whose coordinates
 * put pixel centres at (i + 0.5, j + 0.5) converts with m[2] += 0.5 * (m[0] + m[1]) - 0.5 and
 * m[5] += 0.5 * (m[3] + m[4]) - 0.5. dst holds ow * oh * src->c floats, provided by the caller. */
void mf_img_warp_to_float(const mf_img *src, const float m[6], int ow, int oh, float scale, float bias, float border,
                          float *dst);

#ifdef __cplusplus
}
#endif
#endif
