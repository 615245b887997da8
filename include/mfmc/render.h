/* mfmc render: the face-independent half of the anonymizer — float images, a triangle rasteriser with
 * barycentric (piecewise-affine) texture mapping and a z-buffer, masked Gaussian filtering for shading and
 * colour transfer, and Laplacian-pyramid (multiband) blending. Depends on image.h only.
 *
 * Coordinates: continuous pixels, pixel (i, j) covers [i, i+1) x [j, j+1), its centre at (i + 0.5, j + 0.5) —
 * the convention of the face module's boxes and meshes. Sampling a float image at (x, y) is bilinear between the
 * four nearest pixel centres, clamped to the edge. Depth: smaller z is nearer the camera (the mesh's z grows
 * away from it). Errors follow core.h. */
#ifndef MFMC_RENDER_H
#define MFMC_RENDER_H

#include "mfmc/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caps: a float image holds at most MF_RENDER_MAX_PIXELS pixels of at most 4 channels; pyramids at most
 * MF_RENDER_MAX_LEVELS levels; Gaussian sigmas at most MF_RENDER_MAX_SIGMA pixels. */
enum { MF_RENDER_MAX_LEVELS = 10, MF_RENDER_MAX_SIGMA = 512 };
#define MF_RENDER_MAX_PIXELS 67108864u /* 64 megapixels */

/* Interleaved float image, row-major, no padding: data[(y * w + x) * c + k]. c = 1 (masks, depth) .. 4. */
typedef struct {
    int w, h, c;
    float *data;
} mf_fimg;

/* Allocates a zeroed w x h x c float image into *f (w, h >= 1, c 1..4, w * h <= MF_RENDER_MAX_PIXELS).
 * MF_ERR_ARG for bad dimensions, MF_ERR_LIMIT over the cap, MF_ERR_NOMEM. *f is {0} on failure. */
int mf_fimg_init(mf_fimg *f, int w, int h, int c);
/* Releases *f and empties it. NULL and empty are fine. */
void mf_fimg_free(mf_fimg *f);
/* Sets every sample to v. */
void mf_fimg_fill(mf_fimg *f, float v);
/* Copies src into a new *dst (same size). */
int mf_fimg_copy(const mf_fimg *src, mf_fimg *dst);

/* Converts the rectangle (x, y, w, h) of an 8-bit image, which must lie inside it, to floats 0..255 in *dst.
 * MF_ERR_ARG when the rectangle is not inside or img->c differs from 1..4. */
int mf_fimg_from_img(const mf_img *img, int x, int y, int w, int h, mf_fimg *dst);
/* Writes src (rounded, clamped to 0..255) into img at (x, y); src->c must equal img->c and the rectangle must lie
 * inside img (MF_ERR_ARG otherwise). When `only` is not NULL (w x h x 1), pixels where only <= 0 are left as
 * they are. */
int mf_fimg_to_img(const mf_fimg *src, const mf_fimg *only, mf_img *img, int x, int y);

/* Bilinear sample of channel k at continuous position (x, y) (pixel centres at +0.5), clamped to the edge. */
float mf_fimg_sample(const mf_fimg *f, float x, float y, int k);

/* A textured triangle mesh to draw: n_vert vertices with destination positions xyz (x, y in destination pixels,
 * z depth, smaller = nearer) and source positions uv (pixels of `src`), and n_tri triangles of three vertex
 * indices. */
typedef struct {
    const float *xyz; /* n_vert * 3 */
    const float *uv;  /* n_vert * 2 */
    int n_vert;
    const int *tri; /* n_tri * 3 */
    int n_tri;
} mf_render_mesh;

/* Rasterises `mesh` into dst, texture from src (same channel count): a pixel whose centre lies inside a triangle
 * (top-left fill rule, so two triangles sharing an edge never both cover a pixel) and whose interpolated z is below
 * depth's value there is written with the bilinear sample at the barycentric source position, and its depth
 * updated. depth (dst size, c = 1) is initialised by the caller (e.g. to FLT_MAX); cover (dst size, c = 1, may be
 * NULL) gets `cover_value` where a pixel was written. Triangles with a vertex index out of range, or non-finite
 * coordinates, are MF_ERR_ARG (nothing drawn); degenerate (zero-area) triangles draw nothing. */
int mf_render_triangles(mf_fimg *dst, mf_fimg *depth, mf_fimg *cover, float cover_value, const mf_fimg *src,
                        const mf_render_mesh *mesh);

/* Gaussian blur of every channel, separable, sigma in pixels (0 < sigma <= MF_RENDER_MAX_SIGMA), edges clamped.
 * When weight (same size, c = 1) is not NULL it is a normalised convolution: out = blur(f * weight) /
 * blur(weight), so pixels of zero weight do not contribute (where blur(weight) is ~0 the result is 0). In place. */
int mf_render_blur(mf_fimg *f, const mf_fimg *weight, float sigma);

/* Low-pass of f for large sigmas: like mf_render_blur (weight as there, may be NULL) but computed on a grid
 * reduced by an integer factor of about sigma / 4 and expanded back bilinearly, so the cost does not grow with
 * sigma. Result into *out (allocated, same size as f). */
int mf_render_lowpass(const mf_fimg *f, const mf_fimg *weight, float sigma, mf_fimg *out);

/* Multiband blending: dst += collapse(G_l(mask) * L_l(src - dst)) over `levels` pyramid levels (1 = plain alpha
 * blend; 0 = as many as the size allows, up to MF_RENDER_MAX_LEVELS). mask (c = 1) is the weight of src, 0..1.
 * Where the mask and all its pyramid levels are 0 dst is unchanged. dst, src, mask the same size. */
int mf_render_blend_multiband(mf_fimg *dst, const mf_fimg *src, const mf_fimg *mask, int levels);

/* (speed17) Row loops on several threads: run(ctx, fn, fn_ctx, n) must call fn(fn_ctx, y0, y1) on bands [y0, y1)
 * that together cover [0, n) exactly once, on any threads, and return when all have finished. The _par variants
 * below split their row loops (blur passes, pyramid levels, the low-pass's expansion) this way; every value is
 * computed by the same operations whatever the split, so they give exactly what the plain functions give. par NULL
 * (or run NULL): on the caller, as the plain functions. */
typedef void (*mf_render_rows_fn)(void *ctx, int y0, int y1);
typedef struct {
    void (*run)(void *ctx, mf_render_rows_fn fn, void *fn_ctx, int n);
    void *ctx;
} mf_render_par;
int mf_render_blur_par(mf_fimg *f, const mf_fimg *weight, float sigma, const mf_render_par *par);
int mf_render_lowpass_par(const mf_fimg *f, const mf_fimg *weight, float sigma, mf_fimg *out, const mf_render_par *par);
int mf_render_blend_multiband_par(mf_fimg *dst, const mf_fimg *src, const mf_fimg *mask, int levels,
                                  const mf_render_par *par);

/* Seam strength along the boundary of `mask` (> 0.5 inside): mean absolute difference of img between pixel pairs
 * that straddle the boundary (4-neighbours, one in, one out), averaged over channels; 0 when the mask has no
 * boundary. For tests and measurements. */
double mf_render_seam(const mf_fimg *img, const mf_fimg *mask);

#ifdef __cplusplus
}
#endif
#endif
