/* Materialised query results shared by the store's drivers. */
#include "store/driver.h"

#include "mfmc/core.h"

#include <stdlib.h>
#include <string.h>

mf_db_res *mf_db_res_new(int rows, int cols) {
    mf_db_res *r = calloc(1, sizeof *r);
    size_t n;
    if (!r || rows < 0 || cols < 0 || mf_size_mul((size_t)rows, (size_t)cols, &n)) {
        free(r);
        return NULL;
    }
    r->rows = rows;
    r->cols = cols;
    r->cells = calloc(n ? n : 1, sizeof *r->cells);
    if (!r->cells) {
        free(r);
        return NULL;
    }
    return r;
}

void mf_db_res_free(mf_db_res *r) {
    if (!r) return;
    for (size_t i = 0; i < (size_t)r->rows * (size_t)r->cols; i++)
        free(r->cells[i].p);
    free(r->cells);
    free(r);
}

int mf_db_cell_set(mf_db_cell *cell, const void *p, size_t len) {
    if (len == SIZE_MAX) return -1;
    cell->p = malloc(len + 1);
    if (!cell->p) return -1;
    if (len) memcpy(cell->p, p, len);
    cell->p[len] = 0;
    cell->len = len;
    return 0;
}

const mf_db_cell *mf_db_cell_at(const mf_db_res *res, int r, int c) {
    MF_ASSERT(res && r >= 0 && r < res->rows && c >= 0 && c < res->cols);
    return &res->cells[(size_t)r * (size_t)res->cols + (size_t)c];
}

int64_t mf_db_int(const mf_db_res *res, int r, int c) {
    const mf_db_cell *x = mf_db_cell_at(res, r, c);
    return x->p ? strtoll((const char *)x->p, NULL, 10) : 0;
}

double mf_db_real(const mf_db_res *res, int r, int c) {
    const mf_db_cell *x = mf_db_cell_at(res, r, c);
    return x->p ? strtod((const char *)x->p, NULL) : 0.0;
}

const char *mf_db_text(const mf_db_res *res, int r, int c) {
    const mf_db_cell *x = mf_db_cell_at(res, r, c);
    return x->p ? (const char *)x->p : "";
}
