/* The evaluation's measure of what a privacy-mode mesh lies on (skin.c; docs/detection.md, "Branch fp20"): the mesh's
 * face flag says "a face is here" about shirt badges and parts of heads too; this looks at the pixels under the mesh's
 * skin probes (cheeks, forehead, nose bridge: the anonymizer's probes, src/anon/) and its eyes and mouth. Used by
 * eval_privacy's PRIVACY_FEAT dump only: no rule of the library reads it (it separated nothing with a margin). */
#ifndef EV_SKIN_H
#define EV_SKIN_H

#include "mfmc/face.h"
#include "mfmc/image.h"

typedef struct {
    int probes;         /* probe patches with pixels inside the image (of EV_SKIN_PROBES) */
    float chroma_r;     /* median over the probes' patches of r / (r + g + b) (skin about 0.40-0.50, grey 1/3) */
    float chroma_g;     /* ... of g / (r + g + b) */
    float chroma_spread; /* median chroma distance of a probe's patch mean from the probes' median (consistency) */
    float skin_frac;    /* fraction of the probes whose patch mean lies in the skin chroma region (SKIN_*) */
    float ring_sat;     /* colourfulness of the ring around the face (1.5 .. 2.5 mesh box sides): median chroma
                           distance from grey; a grey photo has none, so skin_frac says nothing there */
    float eye_ratio;    /* mean luminance of the eyes' patches / the probes' median luminance (eyes darker: < 1) */
    float mouth_ratio;  /* ... of the lips' line */
    float texture;      /* mean absolute Laplacian over the probes' patches / their mean luminance */
    float ring_tex;     /* the ring's flattest tenth: 10th percentile of its patches' mean absolute Laplacian / the
                           probes' mean luminance (the photo's grain and noise) */
    float sym;          /* mean luminance difference of the mirrored probe pairs / the probes' median luminance */
} ev_skin_stats;

enum { EV_SKIN_PROBES = 15 };

/* Measures the pixels of img under mesh lm (image coordinates). Patches are 0.03 of the mesh box's side around each
 * point; pixels outside the image are skipped (a probe with none is not counted). Never fails: a mesh with no probe
 * inside the image gets probes = 0 and neutral values (ratios 1, chroma 1/3, fractions 0). */
void ev_skin_measure(const mf_img *img, const mf_face_landmarks *lm, ev_skin_stats *out);

#endif
