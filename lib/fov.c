/* fov.c - the numerical range (field of values) W(A) = { x^* A x : ||x|| = 1 }.
 *
 * Johnson's method (1978): for each angle t the Hermitian matrix
 * H(t) = (e^{it} A + e^{-it} A^*) / 2 has largest eigenvalue lambda(t) with unit eigenvector
 * x(t); the line Re(e^{it} z) = lambda(t) supports W(A), and x(t)^* A x(t) is a point of the
 * boundary on it.  The bounding box and the numerical abscissa are the angles 0, pi/2, pi,
 * 3 pi/2.
 */
#include "config.h"
#include "internal.h"

#include <gsl/gsl_cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t n;
    double complex *H, *x, *Ax, *work;
    double *ev, *rwork;
    lapack_int *iwork, *isuppz, lwork, lrwork, liwork;
} fov_work;

static void fw_free(fov_work *w)
{
    free(w->H);
    free(w->x);
    free(w->Ax);
    free(w->work);
    free(w->ev);
    free(w->rwork);
    free(w->iwork);
    free(w->isuppz);
}

static int fw_init(fov_work *w, size_t n)
{
    memset(w, 0, sizeof *w);
    w->n = n;
    w->H = ptdi_lapack_alloc(n, n, sizeof *w->H);
    w->x = malloc(n * sizeof *w->x);
    w->Ax = malloc(n * sizeof *w->Ax);
    w->ev = malloc(n * sizeof *w->ev);
    w->isuppz = malloc(2 * n * sizeof *w->isuppz);
    if (!w->H || !w->x || !w->Ax || !w->ev || !w->isuppz) {
        fw_free(w);
        return ptd_error(PTD_ENOMEM, "numerical range: out of memory (n = %zu)", n);
    }
    double complex q;
    double rq;
    lapack_int iq, m;
    lapack_int info = LAPACKE_zheevr_work(LAPACK_COL_MAJOR, 'V', 'I', 'U', (lapack_int)n, w->H, (lapack_int)n, 0, 0,
                                          (lapack_int)n, (lapack_int)n, 0.0, &m, w->ev, w->x, (lapack_int)n,
                                          w->isuppz, &q, -1, &rq, -1, &iq, -1);
    w->lwork = info == 0 ? (lapack_int)creal(q) : (lapack_int)(2 * n);
    w->lrwork = info == 0 ? (lapack_int)rq : (lapack_int)(24 * n);
    w->liwork = info == 0 ? iq : (lapack_int)(10 * n);
    /* padded as lib/lapack.c explains (zhetrd's panel inside work) */
    w->work = ptdi_lapack_work((size_t)w->lwork, n, sizeof *w->work);
    w->rwork = ptdi_lapack_work((size_t)w->lrwork, n, sizeof *w->rwork);
    w->iwork = ptdi_lapack_work((size_t)w->liwork, n, sizeof *w->iwork);
    if (!w->work || !w->rwork || !w->iwork) {
        fw_free(w);
        return ptd_error(PTD_ENOMEM, "numerical range: out of memory (n = %zu)", n);
    }
    return PTD_OK;
}

/* Largest eigenvalue of H(t) and, when pt is not NULL, the boundary point x^* A x. */
static int support(fov_work *w, const ptd_matrix *A, double t, double *lambda, double complex *pt)
{
    size_t n = w->n;
    double complex ph = CMPLX(cos(t), sin(t));
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i <= j; i++)
            w->H[i + j * n] = 0.5 * (ph * PTD_AT(A, i, j) + conj(ph * PTD_AT(A, j, i)));
    lapack_int m = 0;
    lapack_int info = LAPACKE_zheevr_work(LAPACK_COL_MAJOR, pt ? 'V' : 'N', 'I', 'U', (lapack_int)n, w->H,
                                          (lapack_int)n, 0, 0, (lapack_int)n, (lapack_int)n, 0.0, &m, w->ev, w->x,
                                          (lapack_int)n, w->isuppz, w->work, w->lwork, w->rwork, w->lrwork,
                                          w->iwork, w->liwork);
    int st = ptd_lapack_status("zheevr", (int)info);
    if (st) return st;
    *lambda = w->ev[0];
    if (pt) {
        double complex one = 1, zero = 0, r;
        cblas_zgemv(CblasColMajor, CblasNoTrans, (int)n, (int)n, &one, A->data, (int)n, w->x, 1, &zero, w->Ax, 1);
        cblas_zdotc_sub((int)n, w->x, 1, w->Ax, 1, &r);
        *pt = r;
    }
    return PTD_OK;
}

static int check(const char *fn, const ptd_matrix *A)
{
    if (!A || A->rows != A->cols || A->rows == 0) return ptd_error(PTD_EINVAL, "%s: a square matrix is needed", fn);
    if (!ptd_matrix_is_finite(A)) return ptd_error(PTD_EINVAL, "%s: the matrix has NaN or infinite entries", fn);
    return PTD_OK;
}

int ptd_fov_boundary(const ptd_matrix *A, size_t m, double complex *pts)
{
    ptd_clear_error();
    int st = check("numerical range", A);
    if (st) return st;
    if (m < 3 || !pts) return ptd_error(PTD_EINVAL, "numerical range: at least 3 angles and an output array");
    fov_work w;
    if ((st = fw_init(&w, A->rows))) return st;
    for (size_t k = 0; k < m && !st; k++) {
        double lam;
        /* the support line at angle t has outward normal e^{-it} */
        st = support(&w, A, -2 * M_PI * (double)k / (double)m, &lam, &pts[k]);
    }
    fw_free(&w);
    return st;
}

int ptd_fov_box(const ptd_matrix *A, ptd_box *box)
{
    ptd_clear_error();
    int st = check("numerical range box", A);
    if (st) return st;
    fov_work w;
    if ((st = fw_init(&w, A->rows))) return st;
    double l[4];
    /* max Re(e^{it} z) over W for t = 0, pi, -pi/2 (gives max Im), pi/2 (gives -min Im) */
    const double t[4] = {0, M_PI, -M_PI / 2, M_PI / 2};
    for (int k = 0; k < 4 && !st; k++) st = support(&w, A, t[k], &l[k], NULL);
    fw_free(&w);
    if (st) return st;
    box->xmax = l[0];
    box->xmin = -l[1];
    box->ymax = l[2];
    box->ymin = -l[3];
    return PTD_OK;
}

int ptd_fov_abscissa(const ptd_matrix *A, double *omega)
{
    ptd_clear_error();
    int st = check("numerical abscissa", A);
    if (st) return st;
    fov_work w;
    if ((st = fw_init(&w, A->rows))) return st;
    st = support(&w, A, 0.0, omega, NULL);
    fw_free(&w);
    return st;
}
