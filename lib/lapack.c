/* lapack.c - the LAPACK drivers libptd calls whose arguments OpenBLAS reads beyond.
 *
 * Debian 12's OpenBLAS 0.3.21 (its Sandybridge kernels and later) reads up to one column
 * past the end of matrices inside zgebrd and zhetrd (zgemv_n on a trailing block): the
 * matrix given to zgesvd, zgesdd and zheev, zheevd, zheevr, and the panel inside the
 * workspace that LAPACKE would malloc for them.  Where the next page is not mapped (Open
 * MPI's shared-memory segments, a thread's guard page) that read is a crash: pspec-mpi
 * crashed in about one run in 30.  Here every such call gets its workspace from
 * ptdi_lapack_alloc (one spare column and then some), and the callers give the matrix
 * itself one (ptd_matrix_alloc does; tests/test_guard.c places every block before a page
 * with no access and checks each computation against the ordinary allocator's). */
#include "config.h"
#include "internal.h"

#include <lapacke.h>
#include <stdlib.h>

void *ptdi_lapack_alloc(size_t rows, size_t cols, size_t size)
{
    if (rows == 0 || cols == 0 || size == 0 || cols == SIZE_MAX || rows > SIZE_MAX / size / (cols + 1)) return NULL;
    return calloc(rows * (cols + 1), size);
}

void *ptdi_lapack_work(size_t len, size_t ld, size_t size)
{
    if (len > SIZE_MAX - ld - 64) return NULL;
    return ptdi_lapack_alloc(len + ld + 64, 1, size);
}

static size_t umax(size_t a, size_t b) { return a > b ? a : b; }

int ptdi_zgesvd(char jobu, char jobvt, size_t m, size_t n, double complex *a, size_t lda, double *s,
                       double complex *u, size_t ldu, double complex *vt, size_t ldvt)
{
    size_t mn = m < n ? m : n, mx = umax(m, n);
    double complex q = 0;
    double *rwork = ptdi_lapack_work(5 * mn, mx, sizeof *rwork);
    if (!rwork) return PTDI_LAPACK_NOMEM;
    lapack_int info = LAPACKE_zgesvd_work(LAPACK_COL_MAJOR, jobu, jobvt, (lapack_int)m, (lapack_int)n, a,
                                          (lapack_int)lda, s, u, (lapack_int)ldu, vt, (lapack_int)ldvt, &q, -1, rwork);
    size_t lwork = info == 0 ? (size_t)creal(q) : 0;
    if (lwork < 2 * mn + mx) lwork = 2 * mn + mx;
    double complex *work = ptdi_lapack_work(lwork, mx, sizeof *work);
    if (!work) {
        free(rwork);
        return PTDI_LAPACK_NOMEM;
    }
    info = LAPACKE_zgesvd_work(LAPACK_COL_MAJOR, jobu, jobvt, (lapack_int)m, (lapack_int)n, a, (lapack_int)lda, s, u,
                               (lapack_int)ldu, vt, (lapack_int)ldvt, work, (lapack_int)lwork, rwork);
    free(work);
    free(rwork);
    return info;
}

int ptdi_zgesdd(char jobz, size_t m, size_t n, double complex *a, size_t lda, double *s, double complex *u,
                       size_t ldu, double complex *vt, size_t ldvt)
{
    size_t mn = m < n ? m : n, mx = umax(m, n);
    /* LAPACK's bound on lrwork for jobz != 'N' */
    size_t lrwork = jobz == 'N' ? 7 * mn : umax(5 * mn * mn + 5 * mn, 2 * mx * mn + 2 * mn * mn + mn);
    double *rwork = ptdi_lapack_work(lrwork, mx, sizeof *rwork);
    lapack_int *iwork = ptdi_lapack_work(8 * mn, 0, sizeof *iwork);
    double complex q = 0;
    lapack_int info = -1;
    if (rwork && iwork)
        info = LAPACKE_zgesdd_work(LAPACK_COL_MAJOR, jobz, (lapack_int)m, (lapack_int)n, a, (lapack_int)lda, s, u,
                                   (lapack_int)ldu, vt, (lapack_int)ldvt, &q, -1, rwork, iwork);
    size_t lwork = info == 0 ? (size_t)creal(q) : 0;
    if (lwork < 2 * mn * mn + 2 * mn + mx) lwork = 2 * mn * mn + 2 * mn + mx;
    double complex *work = rwork && iwork ? ptdi_lapack_work(lwork, mx, sizeof *work) : NULL;
    if (!work) {
        free(rwork);
        free(iwork);
        return PTDI_LAPACK_NOMEM;
    }
    info = LAPACKE_zgesdd_work(LAPACK_COL_MAJOR, jobz, (lapack_int)m, (lapack_int)n, a, (lapack_int)lda, s, u,
                               (lapack_int)ldu, vt, (lapack_int)ldvt, work, (lapack_int)lwork, rwork, iwork);
    free(work);
    free(rwork);
    free(iwork);
    return info;
}

int ptdi_zheev(char jobz, char uplo, size_t n, double complex *a, size_t lda, double *w)
{
    double *rwork = ptdi_lapack_work(3 * n, n, sizeof *rwork);
    if (!rwork) return PTDI_LAPACK_NOMEM;
    double complex q = 0;
    lapack_int info = LAPACKE_zheev_work(LAPACK_COL_MAJOR, jobz, uplo, (lapack_int)n, a, (lapack_int)lda, w, &q, -1, rwork);
    size_t lwork = info == 0 ? (size_t)creal(q) : 0;
    if (lwork < 2 * n) lwork = 2 * n;
    double complex *work = ptdi_lapack_work(lwork, n, sizeof *work);
    if (!work) {
        free(rwork);
        return PTDI_LAPACK_NOMEM;
    }
    info = LAPACKE_zheev_work(LAPACK_COL_MAJOR, jobz, uplo, (lapack_int)n, a, (lapack_int)lda, w, work, (lapack_int)lwork,
                              rwork);
    free(work);
    free(rwork);
    return info;
}

int ptdi_zheevd(char jobz, char uplo, size_t n, double complex *a, size_t lda, double *w)
{
    double complex q = 0;
    double rq = 0;
    lapack_int iq = 0;
    lapack_int info = LAPACKE_zheevd_work(LAPACK_COL_MAJOR, jobz, uplo, (lapack_int)n, a, (lapack_int)lda, w, &q, -1,
                                          &rq, -1, &iq, -1);
    size_t lwork = info == 0 ? (size_t)creal(q) : 2 * n + n * n;
    size_t lrwork = info == 0 ? (size_t)rq : 1 + 5 * n + 2 * n * n;
    size_t liwork = info == 0 ? (size_t)iq : 3 + 5 * n;
    double complex *work = ptdi_lapack_work(lwork, n, sizeof *work);
    double *rwork = ptdi_lapack_work(lrwork, n, sizeof *rwork);
    lapack_int *iwork = ptdi_lapack_work(liwork, 0, sizeof *iwork);
    info = PTDI_LAPACK_NOMEM;
    if (work && rwork && iwork)
        info = LAPACKE_zheevd_work(LAPACK_COL_MAJOR, jobz, uplo, (lapack_int)n, a, (lapack_int)lda, w, work,
                                   (lapack_int)lwork, rwork, (lapack_int)lrwork, iwork, (lapack_int)liwork);
    free(work);
    free(rwork);
    free(iwork);
    return info;
}
