/* status.c - status codes and the error funnel. */
#include "config.h"
#include "internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[512];

const char *ptd_strerror(int status)
{
    switch (status) {
    case PTD_OK: return "success";
    case PTD_EINVAL: return "invalid argument";
    case PTD_ENOMEM: return "out of memory";
    case PTD_ENOTFOUND: return "not found";
    case PTD_EFORMAT: return "malformed input";
    case PTD_EIO: return "input/output error";
    case PTD_ELAPACK: return "LAPACK failure";
    case PTD_ENOCONV: return "no convergence";
    case PTD_ERANGE: return "out of range";
    case PTD_EEXTERN: return "external program failed";
    default: return "unknown status";
    }
}

const char *ptd_last_error(void) { return last_error; }

const char *ptd_version(void) { return PACKAGE_VERSION; }

int ptd_digits(double v, double err)
{
    if (!isfinite(err) || !isfinite(v)) return 6;
    if (err <= 0 || v == 0) return 17;
    int d = (int)floor(log10(fabs(v))) - (int)floor(log10(err)) + 1;
    return d < 1 ? 1 : d > 17 ? 17 : d;
}

void ptd_init(void) { gsl_set_error_handler_off(); }

void ptd_clear_error(void) { last_error[0] = '\0'; }

int ptd_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    /* one line: fold any newline a caller's text brought in */
    for (char *c = last_error; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
    return status;
}

int ptd_lapack_status(const char *routine, int info)
{
    if (info == 0) return PTD_OK;
    if (info == PTDI_LAPACK_NOMEM) return ptd_error(PTD_ENOMEM, "%s: out of memory for the workspace", routine);
    if (info < 0)
        return ptd_error(PTD_ELAPACK, "%s: illegal value in argument %d", routine, -info);
    /* A positive info means different things: for the LU and triangular routines an exactly
     * zero pivot (the matrix is singular in the data given, nothing failed to converge), for
     * the eigenvalue and SVD drivers an iteration that did not converge. */
    static const char *const singular[] = {"gesv", "getrf", "getri", "getrs", "trtri", "trtrs", "sysv", "hesv"};
    const char *base = routine && routine[0] ? routine + 1 : "";
    for (size_t k = 0; k < sizeof singular / sizeof singular[0]; k++)
        if (strcmp(base, singular[k]) == 0)
            return ptd_error(PTD_ELAPACK, "%s: the matrix is exactly singular (zero pivot %d)", routine, info);
    if (strcmp(base, "potrf") == 0)
        return ptd_error(PTD_ELAPACK, "%s: the matrix is not positive definite (leading minor %d)", routine, info);
    return ptd_error(PTD_ELAPACK, "%s: failed to converge (info = %d)", routine, info);
}

/* OpenBLAS (pthreads build on Debian) exports these; declared here to avoid pulling in
 * its cblas.h, which clashes with GSL's. */
extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);
extern int openblas_get_num_procs(void);

int ptd_blas_threads_single(void)
{
    int old = openblas_get_num_threads();
    if (old != 1) openblas_set_num_threads(1);
    return old;
}

void ptd_blas_threads_restore(int old)
{
    if (old > 1) openblas_set_num_threads(old);
}

void ptd_set_threads(int threads)
{
    static int omp0 = 0, blas0 = 0; /* the defaults, remembered at the first call */
    if (!blas0) {
        blas0 = openblas_get_num_threads();
#ifdef _OPENMP
        omp0 = omp_get_max_threads();
#endif
    }
    int t = threads > 0 ? threads : 0;
#ifdef _OPENMP
    omp_set_num_threads(t ? t : (omp0 > 0 ? omp0 : 1));
#endif
    /* the BLAS on no more threads than cores: more only contend, and growing OpenBLAS's
     * pool past the cores is where its thread server has raced */
    int procs = openblas_get_num_procs();
    if (t && procs > 0 && t > procs) t = procs;
    openblas_set_num_threads(t ? t : (blas0 > 0 ? blas0 : 1));
}
