/* Identification: a gallery of enrolled identities, each with one or more embeddings of one recognizer, and the
 * match of a probe embedding against it. The threshold comes from the recognizer's measured match threshold
 * (FAR = 1e-3 on LFW, see mf_face_recognizer_info and docs/accuracy.md). In-memory; persistence is the store's. */
#ifndef MFMC_GALLERY_H
#define MFMC_GALLERY_H

#include "mfmc/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mf_gallery mf_gallery_t;

enum { MF_GALLERY_MAX_NAME = 255, MF_GALLERY_MAX_DIM = 4096, MF_GALLERY_MAX_IDENTITIES = 1 << 24 };

/* An empty gallery for embeddings of `dim` floats (L2-normalised, as recognizers produce them). */
int mf_gallery_create(int dim, mf_gallery_t **out);
void mf_gallery_free(mf_gallery_t *g);

/* Adds one embedding (copied) to `identity` (created on first use; at most MF_GALLERY_MAX_NAME bytes). The
 * embedding is re-normalised; a zero or non-finite vector is refused with MF_ERR_ARG. */
int mf_gallery_add(mf_gallery_t *g, const char *identity, const float *embedding);

/* Removes an identity and its embeddings; MF_ERR_NOTFOUND if absent. */
int mf_gallery_remove(mf_gallery_t *g, const char *identity);

int mf_gallery_identity_count(const mf_gallery_t *g);
int mf_gallery_embedding_count(const mf_gallery_t *g);

typedef struct {
    const char *identity;   /* best identity (owned by the gallery, valid until it changes), NULL if empty */
    float similarity;       /* its similarity: the maximum cosine over its embeddings */
    float second;           /* best similarity of any other identity (-1 if none) */
    int matched;            /* similarity >= threshold */
} mf_gallery_result;

/* Matches a probe against every identity. The similarity of an identity is the best cosine over its embeddings
 * (several photos per person cover pose and age; one good match is evidence). */
int mf_gallery_match(const mf_gallery_t *g, const float *probe, float threshold, mf_gallery_result *out);

#ifdef __cplusplus
}
#endif
#endif
