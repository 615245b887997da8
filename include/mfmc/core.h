/* mfmc core: status codes, error messages, checked arithmetic.
 *
 * Error rule (libvips style): the function that finds an error sets the message with mf_error_set() and
 * returns a negative status; callers pass the status up and may prefix context with mf_error_prefix().
 * The message is per thread. A library function never prints and never exits. */
#ifndef MFMC_CORE_H
#define MFMC_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MF_OK = 0,
    MF_ERR_IO = -1,          /* file cannot be read or written */
    MF_ERR_FORMAT = -2,      /* malformed or unsupported input data */
    MF_ERR_UNSUPPORTED = -3, /* valid input using a feature we do not implement */
    MF_ERR_LIMIT = -4,       /* input exceeds a size cap or overflows a size computation */
    MF_ERR_NOMEM = -5,       /* allocation failed */
    MF_ERR_ARG = -6,         /* bad argument from the caller (usage error) */
    MF_ERR_NOTFOUND = -7,    /* named thing (model, tensor, file) not found */
    MF_ERR_MODEL = -8,       /* a model file loads but computes non-finite values (damaged or tampered file):
                                an environment error, not a fault of the input */
} mf_status;

/* Sets this thread's error message (printf format) and returns `status` for `return mf_error_set(...)`. */
int mf_error_set(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends "<context>: " to this thread's error message; returns `status` unchanged. */
int mf_error_prefix(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* This thread's last error message ("" if none). Valid until the next mf_error_* call on this thread. */
const char *mf_error_get(void);

/* Clears this thread's error message. */
void mf_error_clear(void);

/* Short name of a status code ("ok", "io", "format", ...). */
const char *mf_status_name(int status);

/* Programmer-error check: aborts with file and line when `cond` is false. Always on, also in release builds. */
#define MF_ASSERT(cond)                                                                                            \
    do {                                                                                                           \
        if (!(cond)) mf_assert_fail(#cond, __FILE__, __LINE__);                                                    \
    } while (0)
_Noreturn void mf_assert_fail(const char *expr, const char *file, int line);

/* Checked size arithmetic: return 0 and store the result, or return -1 on overflow. */
static inline int mf_size_mul(size_t a, size_t b, size_t *out) {
    return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}
static inline int mf_size_add(size_t a, size_t b, size_t *out) {
    return __builtin_add_overflow(a, b, out) ? -1 : 0;
}

/* Reads a whole file into a malloc'd buffer (NUL-terminated for convenience; *len excludes the NUL).
 * Refuses files larger than max_bytes with MF_ERR_LIMIT. Caller frees *data with free(). */
int mf_file_read(const char *path, size_t max_bytes, uint8_t **data, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
