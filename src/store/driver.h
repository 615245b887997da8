/* Driver seam of the store: what a database backend supplies (connect, run one parameterised statement and
 * return its rows, run a DDL script). The store's operations are written once over it (store.c). Statements
 * use $1, $2, ... placeholders, each first used in increasing order (SQLite reads "$N" as a named parameter
 * numbered by first appearance, PostgreSQL as positional). */
#ifndef MFMC_STORE_DRIVER_H
#define MFMC_STORE_DRIVER_H

#include <stddef.h>
#include <stdint.h>

typedef enum { MF_DB_NULL = 0, MF_DB_INT, MF_DB_TEXT, MF_DB_BLOB, MF_DB_REAL } mf_db_type;

typedef struct {
    mf_db_type type;
    int64_t i;
    double r;
    const void *p; /* TEXT (NUL-terminated) or BLOB */
    size_t len;    /* BLOB */
} mf_db_arg;

#define DB_I(v) ((mf_db_arg){.type = MF_DB_INT, .i = (int64_t)(v)})
#define DB_R(v) ((mf_db_arg){.type = MF_DB_REAL, .r = (double)(v)})
#define DB_T(v) ((mf_db_arg){.type = MF_DB_TEXT, .p = (v)})
#define DB_B(v, n) ((mf_db_arg){.type = (v) ? MF_DB_BLOB : MF_DB_NULL, .p = (v), .len = (n)})

/* One cell of a result: bytes (text as written by the database, or blob), NUL-terminated; p NULL for SQL NULL. */
typedef struct {
    uint8_t *p;
    size_t len;
} mf_db_cell;

/* Every row of a statement, materialised (rows * cols cells). */
typedef struct {
    int rows, cols;
    mf_db_cell *cells;
    int64_t changes; /* rows changed by an INSERT/UPDATE/DELETE */
} mf_db_res;

typedef struct mf_db_driver {
    const char *name;
    const char *begin_sql; /* "BEGIN IMMEDIATE" (SQLite) or "BEGIN" */
    /* Runs `sql` with `args`; *res (when res != NULL) receives the rows, freed with mf_db_res_free.
     * MF_ERR_ARG for a uniqueness/constraint violation, MF_ERR_IO otherwise; message set. */
    int (*query)(void *conn, const char *sql, const mf_db_arg *args, int n_args, mf_db_res **res);
    /* Runs a script of statements without parameters. */
    int (*script)(void *conn, const char *sql);
    void (*close)(void *conn);
} mf_db_driver;

/* Backends: connect to `url`; *conn is passed back to the driver's functions. */
int mf_db_sqlite_open(const char *path, const mf_db_driver **drv, void **conn);
int mf_db_postgres_open(const char *url, const mf_db_driver **drv, void **conn);

void mf_db_res_free(mf_db_res *r);
/* Cell accessors (row r, column c); NULL cells read as 0 / "" / empty. */
int64_t mf_db_int(const mf_db_res *res, int r, int c);
double mf_db_real(const mf_db_res *res, int r, int c);
const char *mf_db_text(const mf_db_res *res, int r, int c);
const mf_db_cell *mf_db_cell_at(const mf_db_res *res, int r, int c);
/* Allocates a result of rows x cols empty cells (for drivers). */
mf_db_res *mf_db_res_new(int rows, int cols);
/* Copies len bytes into a cell (NUL-terminated); -1 when out of memory. */
int mf_db_cell_set(mf_db_cell *cell, const void *p, size_t len);

#endif
