/* PostgreSQL driver of the store (libpq): parameters typed (int8, float8, text, bytea in binary), results in text
 * form (bytea unescaped). A broken connection (server restart) is reset, and a statement that was not inside a
 * transaction is run again once (a transaction's statements fail: the caller rolls back). */
#include "store/driver.h"

#include "mfmc/core.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PG_MAX_ARGS = 32, OID_INT8 = 20, OID_TEXT = 25, OID_BYTEA = 17, OID_FLOAT8 = 701 };

static int run(PGconn *c, const char *sql, const mf_db_arg *args, int n_args, PGresult **out) {
    const char *vals[PG_MAX_ARGS];
    int lens[PG_MAX_ARGS], fmts[PG_MAX_ARGS];
    unsigned types[PG_MAX_ARGS];
    char nums[PG_MAX_ARGS][32];
    if (n_args > PG_MAX_ARGS) return mf_error_set(MF_ERR_ARG, "postgres: too many parameters");
    for (int i = 0; i < n_args; i++) {
        lens[i] = 0;
        fmts[i] = 0;
        switch (args[i].type) {
        case MF_DB_NULL:
            vals[i] = NULL;
            types[i] = 0;
            break;
        case MF_DB_INT:
            snprintf(nums[i], sizeof nums[i], "%lld", (long long)args[i].i);
            vals[i] = nums[i];
            types[i] = OID_INT8;
            break;
        case MF_DB_REAL:
            snprintf(nums[i], sizeof nums[i], "%.9g", args[i].r);
            vals[i] = nums[i];
            types[i] = OID_FLOAT8;
            break;
        case MF_DB_TEXT:
            vals[i] = args[i].p;
            types[i] = OID_TEXT;
            break;
        case MF_DB_BLOB:
            if (args[i].len > 0x7fffffff) return mf_error_set(MF_ERR_LIMIT, "postgres: blob too large");
            vals[i] = args[i].len ? args[i].p : "";
            lens[i] = (int)args[i].len;
            fmts[i] = 1;
            types[i] = OID_BYTEA;
            break;
        }
    }
    *out = PQexecParams(c, sql, n_args, types, vals, lens, fmts, 0);
    return MF_OK;
}

/* After a lost connection (server restart): reset it; 1 when the statement may be run again, i.e. it was not
 * inside a transaction (`idle`: the connection was idle before it), which died with the connection. */
static int reconnect(PGconn *c, int idle) {
    if (PQstatus(c) != CONNECTION_BAD) return 0;
    PQreset(c);
    return idle && PQstatus(c) == CONNECTION_OK;
}

static int q(void *conn, const char *sql, const mf_db_arg *args, int n_args, mf_db_res **res) {
    PGconn *c = conn;
    PGresult *pr = NULL;
    if (res) *res = NULL;
    int idle = PQtransactionStatus(c) == PQTRANS_IDLE || PQstatus(c) == CONNECTION_BAD;
    int st = run(c, sql, args, n_args, &pr);
    if (st) return st;
    if (reconnect(c, idle)) {
        PQclear(pr);
        if ((st = run(c, sql, args, n_args, &pr))) return st;
    }
    ExecStatusType es = PQresultStatus(pr);
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(pr, PG_DIAG_SQLSTATE);
        int code = state && !strncmp(state, "23", 2) ? MF_ERR_ARG : MF_ERR_IO;
        st = mf_error_set(code, "postgres: %s", PQresultErrorMessage(pr));
        PQclear(pr);
        return st;
    }
    if (!res) {
        PQclear(pr);
        return MF_OK;
    }
    int rows = PQntuples(pr), cols = PQnfields(pr);
    mf_db_res *r = mf_db_res_new(rows, cols);
    if (!r) {
        PQclear(pr);
        return mf_error_set(MF_ERR_NOMEM, "postgres: out of memory");
    }
    const char *ch = PQcmdTuples(pr);
    r->changes = ch && *ch ? strtoll(ch, NULL, 10) : 0;
    for (int i = 0; i < rows && !st; i++)
        for (int k = 0; k < cols && !st; k++) {
            if (PQgetisnull(pr, i, k)) continue;
            mf_db_cell *cell = &r->cells[(size_t)i * cols + k];
            const char *v = PQgetvalue(pr, i, k);
            if (PQftype(pr, k) == OID_BYTEA) {
                size_t n = 0;
                unsigned char *b = PQunescapeBytea((const unsigned char *)v, &n);
                if (!b || mf_db_cell_set(cell, b, n)) st = mf_error_set(MF_ERR_NOMEM, "postgres: out of memory");
                PQfreemem(b);
            } else if (mf_db_cell_set(cell, v, (size_t)PQgetlength(pr, i, k))) {
                st = mf_error_set(MF_ERR_NOMEM, "postgres: out of memory");
            }
        }
    PQclear(pr);
    if (st) {
        mf_db_res_free(r);
        return st;
    }
    *res = r;
    return MF_OK;
}

static int script(void *conn, const char *sql) {
    PGconn *c = conn;
    int idle = PQtransactionStatus(c) == PQTRANS_IDLE || PQstatus(c) == CONNECTION_BAD;
    PGresult *pr = PQexec(c, sql);
    /* COMMIT is never repeated on a new connection: its transaction died with the old one */
    if (reconnect(c, idle && strncmp(sql, "COMMIT", 6))) {
        PQclear(pr);
        pr = PQexec(c, sql);
    }
    ExecStatusType es = PQresultStatus(pr);
    int st = MF_OK;
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK)
        st = mf_error_set(MF_ERR_IO, "postgres: %s", PQresultErrorMessage(pr));
    PQclear(pr);
    return st;
}

static void close_db(void *conn) { PQfinish(conn); }

static void quiet(void *arg, const PGresult *r) {
    (void)arg;
    (void)r;
}

static const mf_db_driver pg_driver = {"postgres", "BEGIN", q, script, close_db};

int mf_db_postgres_open(const char *url, const mf_db_driver **drv, void **conn) {
    PGconn *c = PQconnectdb(url);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        int st = mf_error_set(MF_ERR_IO, "postgres: cannot connect: %s", c ? PQerrorMessage(c) : "no memory");
        PQfinish(c);
        return st;
    }
    PQsetNoticeReceiver(c, quiet, NULL);
    *drv = &pg_driver;
    *conn = c;
    return MF_OK;
}
