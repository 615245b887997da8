/* Arena placement: greedy, largest tensor first, lowest offset that overlaps no live tensor. */
#include "nn/plan_internal.h"

static int cmp_size_desc(const void *a, const void *b) {
    const interval *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    return x->def - y->def;
}

/* Greedy placement: largest first, lowest offset that does not overlap a live, already placed tensor. */
int mf_nn_plan_place(interval *iv, int n, size_t *offset, size_t *total) {
    qsort(iv, (size_t)n, sizeof *iv, cmp_size_desc);
    size_t *off = malloc(((size_t)n + 1) * sizeof(size_t));
    if (!off) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    size_t end = 0;
    for (int i = 0; i < n; i++) {
        size_t o = 0;
        for (int again = 1; again;) {
            again = 0;
            for (int j = 0; j < i; j++) {
                if (iv[j].last < iv[i].def || iv[i].last < iv[j].def) continue;
                if (o < off[j] + iv[j].bytes && off[j] < o + iv[i].bytes) {
                    o = off[j] + iv[j].bytes;
                    again = 1;
                }
            }
        }
        off[i] = o;
        offset[iv[i].root] = o;
        if (o + iv[i].bytes > end) end = o + iv[i].bytes;
    }
    free(off);
    *total = end;
    return MF_OK;
}
