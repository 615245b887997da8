/* SQLite driver of the store: one connection, WAL journal, foreign keys on, busy timeout for writers. */
#include "store/driver.h"

#include "mfmc/core.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BUSY_TIMEOUT_MS = 10000 };

static int err(sqlite3 *db, const char *what) {
    int code = sqlite3_extended_errcode(db);
    int st = (code & 0xff) == SQLITE_CONSTRAINT ? MF_ERR_ARG : MF_ERR_IO;
    return mf_error_set(st, "sqlite: %s: %s", what, sqlite3_errmsg(db));
}

static int q(void *conn, const char *sql, const mf_db_arg *args, int n_args, mf_db_res **res) {
    sqlite3 *db = conn;
    sqlite3_stmt *st = NULL;
    if (res) *res = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return err(db, "prepare");
    if (sqlite3_bind_parameter_count(st) != n_args) {
        sqlite3_finalize(st);
        return mf_error_set(MF_ERR_ARG, "sqlite: statement takes %d parameters, %d given",
                            sqlite3_bind_parameter_count(st), n_args);
    }
    for (int i = 0; i < n_args; i++) {
        int rc = SQLITE_OK;
        switch (args[i].type) {
        case MF_DB_NULL: rc = sqlite3_bind_null(st, i + 1); break;
        case MF_DB_INT: rc = sqlite3_bind_int64(st, i + 1, args[i].i); break;
        case MF_DB_REAL: rc = sqlite3_bind_double(st, i + 1, args[i].r); break;
        case MF_DB_TEXT: rc = sqlite3_bind_text(st, i + 1, args[i].p, -1, SQLITE_STATIC); break;
        case MF_DB_BLOB:
            rc = sqlite3_bind_blob64(st, i + 1, args[i].len ? args[i].p : "", args[i].len, SQLITE_STATIC);
            break;
        }
        if (rc != SQLITE_OK) {
            sqlite3_finalize(st);
            return err(db, "bind");
        }
    }
    int cols = sqlite3_column_count(st), rows = 0, cap = 0;
    mf_db_cell *cells = NULL;
    int rc, status = MF_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows == cap) {
            int nc = cap ? cap * 2 : 8;
            mf_db_cell *g = realloc(cells, (size_t)nc * (size_t)(cols ? cols : 1) * sizeof *g);
            if (!g) {
                status = mf_error_set(MF_ERR_NOMEM, "sqlite: out of memory");
                break;
            }
            memset(g + (size_t)cap * cols, 0, (size_t)(nc - cap) * cols * sizeof *g);
            cells = g;
            cap = nc;
        }
        for (int c = 0; c < cols; c++) {
            mf_db_cell *x = &cells[(size_t)rows * cols + c];
            int t = sqlite3_column_type(st, c);
            if (t == SQLITE_NULL) continue;
            const void *p = t == SQLITE_BLOB ? sqlite3_column_blob(st, c) : (const void *)sqlite3_column_text(st, c);
            size_t len = (size_t)sqlite3_column_bytes(st, c);
            if (mf_db_cell_set(x, p ? p : "", p ? len : 0))
                status = mf_error_set(MF_ERR_NOMEM, "sqlite: out of memory");
        }
        rows++;
        if (status) break;
    }
    if (!status && rc != SQLITE_DONE) status = err(db, "step");
    sqlite3_finalize(st);
    if (status || !res) {
        for (size_t i = 0; i < (size_t)rows * cols; i++)
            free(cells[i].p);
        free(cells);
        if (!status && res) *res = NULL;
        return status;
    }
    mf_db_res *r = mf_db_res_new(0, cols);
    if (!r) {
        for (size_t i = 0; i < (size_t)rows * cols; i++)
            free(cells[i].p);
        free(cells);
        return mf_error_set(MF_ERR_NOMEM, "sqlite: out of memory");
    }
    if (cells) {
        free(r->cells);
        r->cells = cells;
    }
    r->rows = rows;
    r->changes = sqlite3_changes64(db);
    *res = r;
    return MF_OK;
}

static int script(void *conn, const char *sql) {
    char *msg = NULL;
    if (sqlite3_exec(conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int st = mf_error_set(MF_ERR_IO, "sqlite: %s", msg ? msg : "exec failed");
        sqlite3_free(msg);
        return st;
    }
    return MF_OK;
}

static void close_db(void *conn) { sqlite3_close_v2(conn); }

static const mf_db_driver sqlite_driver = {"sqlite", "BEGIN IMMEDIATE", q, script, close_db};

int mf_db_sqlite_open(const char *path, const mf_db_driver **drv, void **conn) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        int st = mf_error_set(MF_ERR_IO, "sqlite: cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close_v2(db);
        return st;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    int st = script(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    if (st) {
        sqlite3_close_v2(db);
        return mf_error_prefix(st, "%s", path);
    }
    *drv = &sqlite_driver;
    *conn = db;
    return MF_OK;
}
