/* Fine-detail measure of the evaluations (issue 10's "fine skin detail kept"): shared by mfmc eval (eval/cmd/work.c)
 * and the stand-alone measurement programs. */
#ifndef MF_EV_SHARPNESS_H
#define MF_EV_SHARPNESS_H

#include "mfmc/analyze.h"

/* Variance of the 4-neighbour Laplacian of grey (0.299 R + 0.587 G + 0.114 B) over squares of side 0.1 face size
 * (+1 px) around five mesh points of face f in im (forehead, both cheeks, below the eyes: mesh 50, 280, 151, 117,
 * 346); pixels on the image border are left out. NAN when f has no mesh or no pixel is inside. */
float ev_skin_laplacian_var(const mf_img *im, const mf_face *f);

#endif
