#include "mfmc/gallery.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *name;
    float *emb; /* n * dim */
    int n;
} identity;

/* ids[] in insertion order (a removal moves the last into the gap); slot[] is an open-addressing index from the
 * name's hash to ids[] (-1 = empty), at most half full, so adding N identities costs O(N), not O(N^2). */
struct mf_gallery {
    int dim;
    identity *ids;
    int n_ids, cap_ids, n_emb;
    int *slot;
    size_t n_slot; /* a power of two, >= 2 * cap_ids */
};

static size_t name_hash(const char *s) { /* FNV-1a */
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

/* The slot holding identity `name`, or the empty slot where it would go. */
static size_t slot_of(const mf_gallery_t *g, const char *name) {
    size_t m = g->n_slot - 1, k = name_hash(name) & m;
    while (g->slot[k] >= 0 && strcmp(g->ids[g->slot[k]].name, name) != 0) k = (k + 1) & m;
    return k;
}

/* Rebuilds the index for n_slot slots (after growth or a removal). */
static int reindex(mf_gallery_t *g, size_t n_slot) {
    int *ns = malloc(n_slot * sizeof *ns);
    if (!ns) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    free(g->slot);
    g->slot = ns, g->n_slot = n_slot;
    for (size_t k = 0; k < n_slot; k++) ns[k] = -1;
    for (int i = 0; i < g->n_ids; i++) ns[slot_of(g, g->ids[i].name)] = i;
    return MF_OK;
}

int mf_gallery_create(int dim, mf_gallery_t **out) {
    *out = NULL;
    if (dim < 1 || dim > MF_GALLERY_MAX_DIM) return mf_error_set(MF_ERR_ARG, "gallery: bad embedding size %d", dim);
    mf_gallery_t *g = calloc(1, sizeof *g);
    if (!g) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    g->dim = dim;
    if (reindex(g, 32)) {
        free(g);
        return MF_ERR_NOMEM;
    }
    *out = g;
    return MF_OK;
}

void mf_gallery_free(mf_gallery_t *g) {
    if (!g) return;
    for (int i = 0; i < g->n_ids; i++) {
        free(g->ids[i].name);
        free(g->ids[i].emb);
    }
    free(g->ids);
    free(g->slot);
    free(g);
}

static int find(const mf_gallery_t *g, const char *name) { return g->slot[slot_of(g, name)]; }

int mf_gallery_add(mf_gallery_t *g, const char *name, const float *e) {
    if (!name || !*name || strlen(name) > MF_GALLERY_MAX_NAME)
        return mf_error_set(MF_ERR_ARG, "gallery: identity name must have 1..%d bytes", MF_GALLERY_MAX_NAME);
    double norm = 0;
    for (int k = 0; k < g->dim; k++) norm += (double)e[k] * e[k];
    if (!(norm > 0) || !isfinite(norm)) return mf_error_set(MF_ERR_ARG, "gallery: zero or non-finite embedding");
    int i = find(g, name);
    if (i < 0) {
        if (g->n_ids == g->cap_ids) {
            int nc = g->cap_ids ? g->cap_ids * 2 : 16;
            if (nc > MF_GALLERY_MAX_IDENTITIES) return mf_error_set(MF_ERR_LIMIT, "gallery: more than %d identities", MF_GALLERY_MAX_IDENTITIES);
            identity *ni = realloc(g->ids, (size_t)nc * sizeof *ni);
            if (!ni) return mf_error_set(MF_ERR_NOMEM, "out of memory");
            g->ids = ni;
            g->cap_ids = nc;
            if ((size_t)nc * 2 > g->n_slot && reindex(g, (size_t)nc * 2)) return MF_ERR_NOMEM;
        }
        i = g->n_ids;
        g->ids[i] = (identity){strdup(name), NULL, 0};
        if (!g->ids[i].name) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        g->slot[slot_of(g, name)] = i;
        g->n_ids++;
    }
    identity *id = &g->ids[i];
    float *ne = realloc(id->emb, (size_t)(id->n + 1) * (size_t)g->dim * sizeof(float));
    if (!ne) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    id->emb = ne;
    float inv = (float)(1.0 / sqrt(norm));
    for (int k = 0; k < g->dim; k++) ne[(size_t)id->n * (size_t)g->dim + (size_t)k] = e[k] * inv;
    id->n++;
    g->n_emb++;
    return MF_OK;
}

int mf_gallery_remove(mf_gallery_t *g, const char *name) {
    int i = find(g, name);
    if (i < 0) return mf_error_set(MF_ERR_NOTFOUND, "gallery: no identity '%s'", name);
    g->n_emb -= g->ids[i].n;
    free(g->ids[i].name);
    free(g->ids[i].emb);
    g->ids[i] = g->ids[--g->n_ids];
    /* open addressing has no cheap delete: rebuild at the same size (removals are rare: a member leaving) */
    return reindex(g, g->n_slot);
}

int mf_gallery_identity_count(const mf_gallery_t *g) { return g->n_ids; }
int mf_gallery_embedding_count(const mf_gallery_t *g) { return g->n_emb; }

int mf_gallery_match(const mf_gallery_t *g, const float *probe, float threshold, mf_gallery_result *out) {
    out->identity = NULL;
    out->similarity = -1;
    out->second = -1;
    out->matched = 0;
    double norm = 0;
    for (int k = 0; k < g->dim; k++) norm += (double)probe[k] * probe[k];
    if (!(norm > 0) || !isfinite(norm)) return mf_error_set(MF_ERR_ARG, "gallery: zero or non-finite probe");
    float inv = (float)(1.0 / sqrt(norm));
    for (int i = 0; i < g->n_ids; i++) {
        const identity *id = &g->ids[i];
        float best = -2;
        for (int j = 0; j < id->n; j++) {
            const float *e = id->emb + (size_t)j * (size_t)g->dim;
            float dot = 0;
            for (int k = 0; k < g->dim; k++) dot += e[k] * probe[k];
            dot *= inv;
            if (dot > best) best = dot;
        }
        if (best > out->similarity) {
            out->second = out->similarity;
            out->similarity = best;
            out->identity = id->name;
        } else if (best > out->second)
            out->second = best;
    }
    out->matched = out->identity && out->similarity >= threshold;
    return MF_OK;
}
