/* pspec.c - epsilon-pseudospectra: a Schur-form plan made once, then sigma_min(zI - A) at
 * many points by inverse Lanczos on the triangular factor (O(n^2) per point), or by a
 * dense SVD of zI - A (O(n^3), for verification). */
#include "config.h"
#include "internal.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

struct ptd_pspec_plan {
    size_t n;
    ptd_matrix *A;        /* copy of the input */
    double complex *T;    /* upper triangular Schur factor, n x n column-major */
    double complex *eig;  /* diag(T) */
    double complex *start;/* Lanczos start vector, unit norm, fixed */
    double norm2;
    double floor;
    int exact;
    unsigned long id; /* unique per plan: lets a workspace know whose T it holds */
};

/* Plan ids; the only shared state, and atomic. */
static _Atomic unsigned long plan_ids = 0;

struct ptd_pspec_work {
    size_t n;
    unsigned kmax;           /* Lanczos basis capacity (steps) */
    double complex *M;       /* T - zI (Lanczos) or zI - A (SVD), n x n */
    unsigned long m_holds;   /* id of the plan whose T M holds off the diagonal (0: none) */
    double complex *Q;       /* Lanczos basis, (kmax + 1) x n */
    double complex *y, *rhs, *x, *rf_work; /* rhs, x, rf_work: forward error estimates */
    double *rf_rwork;
    double *alpha, *beta, *d, *e, *z1, *rwork;
    lapack_int *iwork, *iblock, *isplit, *ifail;
    /* SVD */
    double *s, *svd_rwork;
    double complex *svd_work;
    lapack_int svd_lwork;
};

static int is_square(const ptd_matrix *A) { return A && A->rows == A->cols && A->rows > 0; }

void ptd_pspec_plan_free(ptd_pspec_plan *p)
{
    if (!p) return;
    ptd_matrix_free(p->A);
    free(p->T);
    free(p->eig);
    free(p->start);
    free(p);
}

static lapack_logical select_none(const lapack_complex_double *w)
{
    (void)w;
    return 0;
}

/* The complex Schur form of a general A by zgees (no balancing: only unitary similarities
 * leave sigma_min unchanged). */
static int schur_general(ptd_pspec_plan *p)
{
    size_t n = p->n;
    memcpy(p->T, p->A->data, n * n * sizeof(double complex));
    lapack_int sdim = 0;
    double complex *w = malloc(n * sizeof *w);
    if (!w) return ptd_error(PTD_ENOMEM, "out of memory (Schur form, n = %zu)", n);
    lapack_int info = LAPACKE_zgees(LAPACK_COL_MAJOR, 'N', 'N', select_none, (lapack_int)n,
                                    p->T, (lapack_int)n, &sdim, w, NULL, 1);
    free(w);
    int st = ptd_lapack_status("zgees", (int)info);
    if (st) return st;
    /* zgees leaves rounding-level garbage below the diagonal in nothing we rely on, but
     * make T exactly upper triangular for the triangular solves and the norms */
    for (size_t j = 0; j < n; j++)
        for (size_t i = j + 1; i < n; i++) p->T[i + j * n] = 0;
    return PTD_OK;
}

int ptd_pspec_plan_create(const ptd_matrix *A, ptd_pspec_plan **out)
{
    ptd_clear_error();
    *out = NULL;
    if (!is_square(A)) return ptd_error(PTD_EINVAL, "pspec: a square matrix is needed");
    if (!ptd_matrix_is_finite(A)) return ptd_error(PTD_EINVAL, "pspec: the matrix has NaN or infinite entries");
    size_t n = A->rows;
    ptd_pspec_plan *p = calloc(1, sizeof *p);
    if (!p) return ptd_error(PTD_ENOMEM, "out of memory");
    p->n = n;
    p->id = ++plan_ids;
    p->A = ptd_matrix_copy(A);
    p->T = malloc(n * n * sizeof *p->T);
    p->eig = malloc(n * sizeof *p->eig);
    p->start = malloc(n * sizeof *p->start);
    if (!p->A || !p->T || !p->eig || !p->start) {
        ptd_pspec_plan_free(p);
        return ptd_error(PTD_ENOMEM, "out of memory (plan, n = %zu)", n);
    }
    int st = ptd_matrix_norm2(A, &p->norm2);
    if (st) {
        ptd_pspec_plan_free(p);
        return st;
    }
    if (ptd_matrix_is_upper(A)) {
        memcpy(p->T, A->data, n * n * sizeof(double complex));
        p->exact = 1;
    } else if (ptd_matrix_is_lower(A)) {
        /* J A J with J the reversal permutation is upper triangular: T_ij = A_{n-1-i, n-1-j} */
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) p->T[i + j * n] = PTD_AT(A, n - 1 - i, n - 1 - j);
        p->exact = 1;
    } else {
        st = schur_general(p);
        if (st) {
            ptd_pspec_plan_free(p);
            return st;
        }
    }
    for (size_t i = 0; i < n; i++) p->eig[i] = p->T[i + i * n];
    p->floor = p->exact ? 0.0 : (double)n * PTD_U * p->norm2;
    /* A fixed pseudo-random start vector: every point starts alike, so a grid does not
     * depend on the thread count or the order of evaluation. */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r) {
        ptd_pspec_plan_free(p);
        return ptd_error(PTD_ENOMEM, "out of memory");
    }
    gsl_rng_set(r, 20240607UL);
    for (size_t i = 0; i < n; i++) {
        double re = gsl_ran_gaussian(r, 1.0), im = gsl_ran_gaussian(r, 1.0);
        p->start[i] = CMPLX(re, im);
    }
    gsl_rng_free(r);
    double nrm = cblas_dznrm2((int)n, p->start, 1);
    for (size_t i = 0; i < n; i++) p->start[i] /= nrm;
    *out = p;
    return PTD_OK;
}

size_t ptd_pspec_plan_order(const ptd_pspec_plan *p) { return p->n; }
int ptd_pspec_plan_exact(const ptd_pspec_plan *p) { return p->exact; }
double ptd_pspec_plan_norm2(const ptd_pspec_plan *p) { return p->norm2; }
const double complex *ptd_pspec_plan_eigenvalues(const ptd_pspec_plan *p) { return p->eig; }
double ptd_pspec_plan_floor(const ptd_pspec_plan *p) { return p->floor; }
const ptd_matrix *ptd_pspec_plan_matrix(const ptd_pspec_plan *p) { return p->A; }

/* --- workspaces ------------------------------------------------------------------------- */

static unsigned default_maxit(size_t n) { return n < 200 ? (unsigned)n : 200u; }

void ptd_pspec_work_free(ptd_pspec_work *w)
{
    if (!w) return;
    free(w->M);
    free(w->Q);
    free(w->y);
    free(w->rhs);
    free(w->x);
    free(w->rf_work);
    free(w->rf_rwork);
    free(w->alpha);
    free(w->beta);
    free(w->d);
    free(w->e);
    free(w->z1);
    free(w->rwork);
    free(w->iwork);
    free(w->iblock);
    free(w->isplit);
    free(w->ifail);
    free(w->s);
    free(w->svd_rwork);
    free(w->svd_work);
    free(w);
}

ptd_pspec_work *ptd_pspec_work_alloc(const ptd_pspec_plan *p)
{
    size_t n = p->n;
    ptd_pspec_work *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->n = n;
    /* capacity for any maxit a caller may ask: n steps span the whole space */
    w->kmax = (unsigned)(n < 1000 ? n : 1000);
    size_t k = w->kmax + 1;
    w->M = malloc(n * n * sizeof *w->M);
    w->Q = malloc(k * n * sizeof *w->Q);
    w->y = malloc(n * sizeof *w->y);
    w->rhs = malloc(n * sizeof *w->rhs);
    w->x = malloc(n * sizeof *w->x);
    w->rf_work = malloc(2 * n * sizeof *w->rf_work);
    w->rf_rwork = malloc(n * sizeof *w->rf_rwork);
    w->alpha = malloc(k * sizeof *w->alpha);
    w->beta = malloc(k * sizeof *w->beta);
    w->d = malloc(k * sizeof *w->d);
    w->e = malloc(k * sizeof *w->e);
    w->z1 = malloc(k * sizeof *w->z1);
    w->rwork = malloc(5 * k * sizeof *w->rwork);
    w->iwork = malloc(k * sizeof *w->iwork);
    w->iblock = malloc(k * sizeof *w->iblock);
    w->isplit = malloc(k * sizeof *w->isplit);
    w->ifail = malloc(k * sizeof *w->ifail);
    w->s = malloc(n * sizeof *w->s);
    w->svd_rwork = malloc(5 * n * sizeof *w->svd_rwork);
    if (!w->M || !w->Q || !w->y || !w->rhs || !w->x || !w->rf_work || !w->rf_rwork || !w->alpha || !w->beta || !w->d || !w->e ||
        !w->z1 || !w->rwork || !w->iwork || !w->iblock || !w->isplit || !w->ifail || !w->s ||
        !w->svd_rwork) {
        ptd_pspec_work_free(w);
        return NULL;
    }
    /* workspace query for the SVD, done once here so that evaluation never allocates */
    double complex q;
    lapack_int info = LAPACKE_zgesvd_work(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)n, (lapack_int)n,
                                          w->M, (lapack_int)n, w->s, NULL, 1, NULL, 1, &q, -1,
                                          w->svd_rwork);
    w->svd_lwork = info == 0 ? (lapack_int)creal(q) : (lapack_int)(3 * n);
    if (w->svd_lwork < (lapack_int)(3 * n)) w->svd_lwork = (lapack_int)(3 * n);
    w->svd_work = malloc((size_t)w->svd_lwork * sizeof *w->svd_work);
    if (!w->svd_work) {
        ptd_pspec_work_free(w);
        return NULL;
    }
    return w;
}

/* --- one point ---------------------------------------------------------------------------- */

static int sigma_svd(const ptd_pspec_plan *p, ptd_pspec_work *w, double complex z,
                     ptd_pspec_point *res)
{
    size_t n = p->n;
    w->m_holds = 0;
    memcpy(w->M, p->A->data, n * n * sizeof(double complex));
    for (size_t k = 0; k < n * n; k++) w->M[k] = -w->M[k];
    for (size_t i = 0; i < n; i++) w->M[i + i * n] += z;
    lapack_int info = LAPACKE_zgesvd_work(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)n, (lapack_int)n,
                                          w->M, (lapack_int)n, w->s, NULL, 1, NULL, 1, w->svd_work,
                                          w->svd_lwork, w->svd_rwork);
    int st = ptd_lapack_status("zgesvd", (int)info);
    if (st) return st;
    res->sigma = w->s[n - 1];
    /* a backward stable SVD of zI - A: error at most about n u ||zI - A|| */
    res->err = (double)n * PTD_U * (p->norm2 + cabs(z));
    res->iterations = 0;
    return PTD_OK;
}

/* Largest eigenvalue of the k x k Lanczos tridiagonal (alpha, beta), the second largest, and
 * the last component of the unit eigenvector of the largest (for the residual bound). */
static int tridiag_top(ptd_pspec_work *w, unsigned k, double *theta, double *theta2,
                       double *last)
{
    memcpy(w->d, w->alpha, k * sizeof(double));
    if (k > 1) memcpy(w->e, w->beta, (k - 1) * sizeof(double));
    lapack_int info = LAPACKE_dstev_work(LAPACK_COL_MAJOR, 'N', (lapack_int)k, w->d, w->e, NULL, 1, NULL);
    if (info) return ptd_lapack_status("dstev", (int)info);
    *theta = w->d[k - 1];
    *theta2 = k > 1 ? w->d[k - 2] : 0.0;
    if (k == 1) {
        w->z1[0] = 1.0;
        *last = 1.0;
        return PTD_OK;
    }
    /* eigenvector by inverse iteration on the tridiagonal (dstein): O(k) */
    double ev = *theta;
    memcpy(w->d, w->alpha, k * sizeof(double));
    memcpy(w->e, w->beta, (k - 1) * sizeof(double));
    w->iblock[0] = 1;
    w->isplit[0] = (lapack_int)k;
    info = LAPACKE_dstein_work(LAPACK_COL_MAJOR, (lapack_int)k, w->d, w->e, 1, &ev, w->iblock,
                               w->isplit, w->z1, (lapack_int)k, w->rwork, w->iwork, w->ifail);
    if (info < 0) return ptd_lapack_status("dstein", (int)info);
    *last = fabs(w->z1[k - 1]);
    return PTD_OK;
}

/* y <- y - sum_j (q_j^* y) q_j over the first k basis vectors, twice (full
 * reorthogonalisation keeps the Ritz values free of spurious copies). */
static void orthogonalise(const double complex *Q, size_t n, unsigned k, double complex *y)
{
    for (int pass = 0; pass < 2; pass++)
        for (unsigned j = 0; j < k; j++) {
            const double complex *q = Q + (size_t)j * n;
            double complex c;
            cblas_zdotc_sub((int)n, q, 1, y, 1, &c);
            double complex mc = -c;
            cblas_zaxpy((int)n, &mc, q, 1, y, 1);
        }
}

static int sigma_lanczos(const ptd_pspec_plan *p, ptd_pspec_work *w, double complex z,
                         const ptd_pspec_opts *o, ptd_pspec_point *res)
{
    size_t n = p->n;
    /* M = T - zI: copy, shift the diagonal; an exactly zero pivot means zI - A is exactly
     * singular for the plan's data */
    /* T is copied once per workspace; each point only rewrites the diagonal (an O(n^2)
     * copy per point cost as much as two triangular solves at n = 512) */
    if (w->m_holds != p->id) {
        memcpy(w->M, p->T, n * n * sizeof(double complex));
        w->m_holds = p->id;
    }
    int singular = 0;
    for (size_t i = 0; i < n; i++) {
        w->M[i + i * n] = p->T[i + i * n] - z;
        if (w->M[i + i * n] == 0) singular = 1;
    }
    if (singular) {
        res->sigma = 0.0;
        res->err = p->floor;
        res->iterations = 0;
        return PTD_OK;
    }
    /* tol = 0: converge to the accuracy of the method.  The rounding of a computed Schur
     * form and of the solves bounds sigma's error by about floor + n u (||A|| + |z|) absolute;
     * the iteration stops once its own error estimate is a quarter of that.  On an exact plan
     * the solves are accurate to a few n u relative (measured below by ztrrfs) however small
     * sigma is, so the target there is n u relative. */
    double tol = o && o->tol > 0 ? o->tol : 0;
    double target_abs = 0.25 * (p->floor + (double)n * PTD_U * (p->norm2 + cabs(z)));
    double target_rel = (double)n * PTD_U;
    unsigned maxit = o && o->maxit ? o->maxit : default_maxit(n);
    if (maxit > w->kmax) maxit = w->kmax;
    if (maxit > n) maxit = (unsigned)n;

    /* Lanczos on H = c M^{-1} M^{-*}, whose largest eigenvalue is c / sigma_min^2.  The scale
     * c = 1 / ||M^{-*} q_0||^2 keeps every quantity near 1, so sigma_min far below the
     * square root of the underflow threshold (as for LegS) is still computed. */
    double complex *Q = w->Q;
    memcpy(Q, p->start, n * sizeof(double complex));
    double scale = 0; /* 1 / ||M^{-*} q_0|| */
    double theta = 0, theta_old = 0, theta2 = 0, last = 1, last_bound = 0;
    unsigned k = 0;
    int converged = 0;
    for (k = 1; k <= maxit; k++) {
        const double complex *q = Q + (size_t)(k - 1) * n;
        double complex *y = w->y;
        memcpy(y, q, n * sizeof(double complex));
        cblas_ztrsv(CblasColMajor, CblasUpper, CblasConjTrans, CblasNonUnit, (int)n, w->M, (int)n, y, 1);
        double ny = cblas_dznrm2((int)n, y, 1);
        if (!isfinite(ny) || ny == 0) break; /* beyond the double range: handled below */
        if (k == 1) scale = 1.0 / ny;
        /* y <- M^{-1} (y / ny) * (ny scale) scale = c M^{-1} M^{-*} q */
        double f = ny * scale;
        for (size_t i = 0; i < n; i++) y[i] /= ny;
        cblas_ztrsv(CblasColMajor, CblasUpper, CblasNoTrans, CblasNonUnit, (int)n, w->M, (int)n, y, 1);
        for (size_t i = 0; i < n; i++) y[i] *= f * scale;
        if (!isfinite(cblas_dznrm2((int)n, y, 1))) break;
        double complex a;
        cblas_zdotc_sub((int)n, q, 1, y, 1, &a);
        w->alpha[k - 1] = creal(a);
        orthogonalise(Q, n, k, y);
        double b = cblas_dznrm2((int)n, y, 1);
        int st = tridiag_top(w, k, &theta, &theta2, &last);
        if (st) return st;
        /* residual of the Ritz pair: |beta_k s_k|; with the gap to the next Ritz value the
         * eigenvalue error is at most min(r, r^2 / gap) */
        double r = b * last;
        double gap = theta - theta2;
        double bound = r;
        if (k > 1 && gap > 0 && r * r / gap < bound) bound = r * r / gap;
        last_bound = bound;
        /* sigma = scale / sqrt(theta): its relative error is half theta's */
        double sig_est = scale / sqrt(theta), sig_err = 0.5 * sig_est * bound / theta;
        int accurate = tol > 0 ? bound <= tol * theta
                               : (p->exact ? 0.5 * bound / theta <= target_rel : sig_err <= target_abs);
        if (accurate || (k > 1 && fabs(theta - theta_old) <= 4 * PTD_U * theta) || b <= PTD_U * theta || k == n) {
            converged = 1;
            break;
        }
        theta_old = theta;
        if (k == maxit) break;
        w->beta[k - 1] = b;
        double complex *qn = Q + (size_t)k * n;
        for (size_t i = 0; i < n; i++) qn[i] = y[i] / b;
    }
    if (k > maxit) k = maxit;
    if (theta <= 0 || scale == 0) {
        /* the solves overflowed: sigma_min is below what double precision represents */
        res->sigma = 0.0;
        res->err = fmax(p->floor, DBL_MIN);
        res->iterations = k;
        return PTD_OK;
    }
    /* sigma = 1 / sqrt(theta / c) = scale^{-1}... with c = scale^2: sigma = scale / sqrt(theta) */
    res->sigma = scale / sqrt(theta);
    res->iterations = k;

    /* The error: the Lanczos bound on theta (relative, halved for the square root), plus
     * rounding.  Backward stable solves perturb zI - A by about n u ||zI - A|| in norm, and a
     * computed Schur form adds n u ||A||: that normwise bound is what a general matrix gets.
     * With an exact (triangular) Schur form, values below it are usually far more accurate
     * than it says (LegS: 2e-44, to 15 digits); there LAPACK's forward error bounds of the
     * two triangular solves (ztrrfs) on the last Lanczos vector give the relative error. */
    double normwise = (double)n * PTD_U * (p->norm2 + cabs(z));
    double rounding = p->floor + normwise;
    if (p->exact && res->sigma < normwise) {
        double rel = 0;
        const double complex *q = Q + (size_t)(k - 1) * n;
        const char trans[2] = {'C', 'N'};
        memcpy(w->rhs, q, n * sizeof(double complex));
        for (int pass = 0; pass < 2; pass++) {
            memcpy(w->x, w->rhs, n * sizeof(double complex));
            cblas_ztrsv(CblasColMajor, CblasUpper, pass == 0 ? CblasConjTrans : CblasNoTrans, CblasNonUnit,
                        (int)n, w->M, (int)n, w->x, 1);
            double ferr = 1, berr;
            double nx = cblas_dznrm2((int)n, w->x, 1);
            if (!isfinite(nx) || nx == 0) {
                rel = 1;
                break;
            }
            lapack_int info = LAPACKE_ztrrfs_work(LAPACK_COL_MAJOR, 'U', trans[pass], 'N', (lapack_int)n, 1, w->M,
                                                  (lapack_int)n, w->rhs, (lapack_int)n, w->x, (lapack_int)n, &ferr,
                                                  &berr, w->rf_work, w->rf_rwork);
            rel += info == 0 && isfinite(ferr) ? ferr : 1;
            for (size_t i = 0; i < n; i++) w->rhs[i] = w->x[i] / nx;
        }
        rounding = fmin(normwise, res->sigma * 0.5 * rel);
    }
    res->err = rounding + res->sigma * 0.5 * last_bound / theta;
    if (!converged)
        return ptd_error(PTD_ENOCONV, "inverse Lanczos did not converge in %u steps at z = %g%+gi",
                         maxit, creal(z), cimag(z));
    return PTD_OK;
}

int ptd_pspec_sigma_min(const ptd_pspec_plan *p, ptd_pspec_work *w, double complex z,
                        const ptd_pspec_opts *opts, ptd_pspec_point *res)
{
    ptd_clear_error();
    if (!isfinite(creal(z)) || !isfinite(cimag(z)))
        return ptd_error(PTD_EINVAL, "sigma_min: z is not finite");
    if (opts && (!(opts->tol >= 0) || opts->tol >= 1 || (opts->method != PTD_PSPEC_LANCZOS && opts->method != PTD_PSPEC_SVD)))
        return ptd_error(PTD_EINVAL, "sigma_min: tol must be in [0, 1) and method lanczos or svd");
    if (w->n != p->n) return ptd_error(PTD_EINVAL, "sigma_min: workspace of another size");
    if (opts && opts->method == PTD_PSPEC_SVD) return sigma_svd(p, w, z, res);
    return sigma_lanczos(p, w, z, opts, res);
}

/* --- many points in parallel -------------------------------------------------------------- */

double ptd_pspec_grid_x(const ptd_pspec_grid *g, size_t i)
{
    if (i + 1 == g->nx) return g->box.xmax;
    return g->box.xmin + (double)i * (g->box.xmax - g->box.xmin) / (double)(g->nx - 1);
}

double ptd_pspec_grid_y(const ptd_pspec_grid *g, size_t j)
{
    if (j + 1 == g->ny) return g->box.ymax;
    return g->box.ymin + (double)j * (g->box.ymax - g->box.ymin) / (double)(g->ny - 1);
}

void ptd_pspec_grid_free(ptd_pspec_grid *g)
{
    if (!g) return;
    free(g->sigma);
    free(g->err);
    free(g);
}

static int thread_count(const ptd_pspec_opts *o)
{
#ifdef _OPENMP
    int t = o && o->threads > 0 ? o->threads : omp_get_max_threads();
    return t < 1 ? 1 : t;
#else
    (void)o;
    return 1;
#endif
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Evaluate sigma_min at count points z[] into sigma[] (and err[] when not NULL), on
 * `threads` threads, each with its own workspace.  Collects iteration statistics. */
static int eval_points(const ptd_pspec_plan *p, const ptd_pspec_opts *o, int threads,
                       const double complex *z, size_t count, double *sigma, double *err,
                       unsigned long *iters, unsigned *maxits, size_t *unconv)
{
    ptd_pspec_work **ws = calloc((size_t)threads, sizeof *ws);
    if (!ws) return ptd_error(PTD_ENOMEM, "out of memory");
    for (int t = 0; t < threads; t++)
        if (!(ws[t] = ptd_pspec_work_alloc(p))) {
            for (int s = 0; s < t; s++) ptd_pspec_work_free(ws[s]);
            free(ws);
            return ptd_error(PTD_ENOMEM, "out of memory (workspace for n = %zu)", p->n);
        }
    int blas_old = ptd_blas_threads_single();
    int failure = PTD_OK;
    char failmsg[256] = "";
    unsigned long it_total = 0;
    unsigned it_max = 0;
    size_t nunconv = 0, done = 0;
    size_t report_every = count / 200 + 1;
#pragma omp parallel num_threads(threads) reduction(+ : it_total, nunconv) reduction(max : it_max)
    {
#ifdef _OPENMP
        ptd_pspec_work *w = ws[omp_get_thread_num()];
        int master = omp_get_thread_num() == 0;
#else
        ptd_pspec_work *w = ws[0];
        int master = 1;
#endif
#pragma omp for schedule(dynamic, 8)
        for (size_t k = 0; k < count; k++) {
            ptd_pspec_point r = {0, 0, 0};
            int st = ptd_pspec_sigma_min(p, w, z[k], o, &r);
            if (st == PTD_ENOCONV) {
                nunconv++;
            } else if (st) {
#pragma omp critical(ptd_pspec_fail)
                if (!failure) {
                    failure = st;
                    snprintf(failmsg, sizeof failmsg, "%s", ptd_last_error());
                }
            }
            sigma[k] = r.sigma;
            if (err) err[k] = r.err;
            it_total += r.iterations;
            if (r.iterations > it_max) it_max = r.iterations;
            size_t d;
#pragma omp atomic capture
            d = ++done;
            if (master && o && o->progress && d % report_every == 0) o->progress(o->progress_ctx, d, count);
        }
    }
    ptd_blas_threads_restore(blas_old);
    for (int t = 0; t < threads; t++) ptd_pspec_work_free(ws[t]);
    free(ws);
    if (iters) *iters += it_total;
    if (maxits && it_max > *maxits) *maxits = it_max;
    if (unconv) *unconv += nunconv;
    if (o && o->progress) o->progress(o->progress_ctx, count, count);
    if (failure) return ptd_error(failure, "%s", failmsg);
    return PTD_OK;
}

static int check_box(const ptd_box *b)
{
    if (!isfinite(b->xmin) || !isfinite(b->xmax) || !isfinite(b->ymin) || !isfinite(b->ymax))
        return ptd_error(PTD_EINVAL, "box has a non-finite bound");
    if (!(b->xmin < b->xmax) || !(b->ymin < b->ymax))
        return ptd_error(PTD_EINVAL, "box needs xmin < xmax and ymin < ymax (got %g,%g,%g,%g)",
                         b->xmin, b->xmax, b->ymin, b->ymax);
    return PTD_OK;
}

int ptd_pspec_grid_compute(const ptd_pspec_plan *p, const ptd_box *box, size_t nx, size_t ny,
                           const ptd_pspec_opts *opts, ptd_pspec_grid **out)
{
    ptd_clear_error();
    *out = NULL;
    int st = check_box(box);
    if (st) return st;
    if (nx < 2 || ny < 2 || nx > 100000 || ny > 100000 || nx * ny > 100000000)
        return ptd_error(PTD_EINVAL, "grid %zu x %zu: each side must be 2..100000, at most 1e8 points", nx, ny);
    ptd_pspec_grid *g = calloc(1, sizeof *g);
    double complex *z = malloc(nx * ny * sizeof *z);
    if (g) {
        g->sigma = malloc(nx * ny * sizeof *g->sigma);
        g->err = malloc(nx * ny * sizeof *g->err);
    }
    if (!g || !z || !g->sigma || !g->err) {
        free(z);
        ptd_pspec_grid_free(g);
        return ptd_error(PTD_ENOMEM, "out of memory (grid %zu x %zu)", nx, ny);
    }
    g->nx = nx;
    g->ny = ny;
    g->box = *box;
    for (size_t j = 0; j < ny; j++)
        for (size_t i = 0; i < nx; i++) z[i + j * nx] = CMPLX(ptd_pspec_grid_x(g, i), ptd_pspec_grid_y(g, j));
    g->threads = thread_count(opts);
    double t0 = wall_seconds();
    st = eval_points(p, opts, g->threads, z, nx * ny, g->sigma, g->err, &g->iterations,
                     &g->max_iterations, &g->unconverged);
    g->seconds = wall_seconds() - t0;
    free(z);
    if (st) {
        ptd_pspec_grid_free(g);
        return st;
    }
    ptd_clear_error(); /* unconverged points are counted in the grid, not errors */
    *out = g;
    return PTD_OK;
}

int ptd_pspec_grid_estimates(const ptd_pspec_grid *g, double eps, double *abscissa, double *radius)
{
    double a = -INFINITY, r = -INFINITY;
    int any = 0;
    for (size_t j = 0; j < g->ny; j++)
        for (size_t i = 0; i < g->nx; i++) {
            if (!(g->sigma[i + j * g->nx] <= eps)) continue;
            double x = ptd_pspec_grid_x(g, i), y = ptd_pspec_grid_y(g, j);
            any = 1;
            if (x > a) a = x;
            double m = hypot(x, y);
            if (m > r) r = m;
        }
    *abscissa = any ? a : NAN;
    *radius = any ? r : NAN;
    return any;
}

int ptd_pspec_grid_bound(const ptd_pspec_grid *g, double eps, const double complex *eig, size_t neig,
                         ptd_pspec_grid_bounds *out)
{
    ptd_clear_error();
    if (!g || !out || (neig && !eig) || !(eps > 0) || !isfinite(eps))
        return ptd_error(PTD_EINVAL, "grid bounds: a grid, eps > 0 and the eigenvalues are needed");
    size_t nx = g->nx, ny = g->ny;
    double hx = (g->box.xmax - g->box.xmin) / (double)(nx - 1), hy = (g->box.ymax - g->box.ymin) / (double)(ny - 1);
    double d = 0.5 * hypot(hx, hy);
    ptd_pspec_grid_bounds b = {-INFINITY, INFINITY, -INFINITY, INFINITY, 1, 0, 0};
    for (size_t i = 0; i < neig; i++) {
        b.abscissa_lo = fmax(b.abscissa_lo, creal(eig[i]) + eps);
        b.radius_lo = fmax(b.radius_lo, cabs(eig[i]) + eps);
    }
    double ahi = -INFINITY, rhi = -INFINITY;
    for (size_t j = 0; j < ny; j++)
        for (size_t i = 0; i < nx; i++) {
            size_t k = i + j * nx;
            double s = g->sigma[k], e = g->err[k], x = ptd_pspec_grid_x(g, i), y = ptd_pspec_grid_y(g, j);
            if (s + e <= eps) {
                b.abscissa_lo = fmax(b.abscissa_lo, x);
                b.radius_lo = fmax(b.radius_lo, hypot(x, y));
            }
            if (s - e <= eps + d) {
                ahi = fmax(ahi, x + 0.5 * hx);
                rhi = fmax(rhi, hypot(x, y) + d);
            }
            int border = i == 0 || j == 0 || i + 1 == nx || j + 1 == ny;
            double hb = (i == 0 || i + 1 == nx) ? hy : hx; /* spacing along this side */
            if (border && (i == 0 || i + 1 == nx) && (j == 0 || j + 1 == ny)) hb = fmax(hx, hy);
            if (border && !(s - e > eps + 0.5 * hb)) b.contained = 0;
        }
    for (size_t q = 0; q < neig; q++) {
        double x = creal(eig[q]), y = cimag(eig[q]);
        if (!(x >= g->box.xmin && x <= g->box.xmax && y >= g->box.ymin && y <= g->box.ymax)) {
            b.contained = 0;
            b.missed++;
            b.outside++;
            continue;
        }
        /* the cell holding the eigenvalue and the bilinear interpolant of log10 sigma_min */
        double fx = (x - g->box.xmin) / hx, fy = (y - g->box.ymin) / hy;
        size_t i = (size_t)fx, j = (size_t)fy;
        if (i > nx - 2) i = nx - 2;
        if (j > ny - 2) j = ny - 2;
        double tx = fmin(fmax(fx - (double)i, 0), 1), ty = fmin(fmax(fy - (double)j, 0), 1);
        double l[4];
        const size_t c[4] = {i + j * nx, i + 1 + j * nx, i + (j + 1) * nx, i + 1 + (j + 1) * nx};
        for (int t = 0; t < 4; t++) l[t] = log10(fmax(g->sigma[c[t]], DBL_TRUE_MIN));
        double v = (1 - tx) * (1 - ty) * l[0] + tx * (1 - ty) * l[1] + (1 - tx) * ty * l[2] + tx * ty * l[3];
        if (v > log10(eps)) b.missed++;
    }
    if (b.contained) {
        b.abscissa_hi = fmax(ahi, b.abscissa_lo);
        b.radius_hi = fmax(rhi, b.radius_lo);
    }
    *out = b;
    return PTD_OK;
}

/* --- automatic bounds -------------------------------------------------------------------- */

/* Extreme eigenvalues of the Hermitian matrix (A + A^*)/2 (which = 0) or (A - A^*)/(2i)
 * (which = 1): the numerical range lies in [lo, hi] along that axis. */
static int hermitian_extremes(const ptd_matrix *A, int which, double *lo, double *hi)
{
    size_t n = A->rows;
    double complex *H = malloc(n * n * sizeof *H);
    double *ev = malloc(n * sizeof *ev);
    if (!H || !ev) {
        free(H);
        free(ev);
        return ptd_error(PTD_ENOMEM, "out of memory");
    }
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) {
            double complex a = PTD_AT(A, i, j), b = conj(PTD_AT(A, j, i));
            H[i + j * n] = which == 0 ? (a + b) / 2 : (a - b) / (2 * I);
        }
    lapack_int info = LAPACKE_zheev(LAPACK_COL_MAJOR, 'N', 'U', (lapack_int)n, H, (lapack_int)n, ev);
    int st = ptd_lapack_status("zheev", (int)info);
    if (!st) {
        *lo = ev[0];
        *hi = ev[n - 1];
    }
    free(H);
    free(ev);
    return st;
}

enum { SIDE_LEFT, SIDE_RIGHT, SIDE_BOTTOM, SIDE_TOP };

/* Minimum of sigma_min over the grid points on one side of the box. */
static int side_min(const ptd_pspec_plan *p, const ptd_pspec_opts *o, int threads,
                    const ptd_box *b, size_t nx, size_t ny, int side, double complex *z,
                    double *sig, double *out)
{
    ptd_pspec_grid g = {.nx = nx, .ny = ny, .box = *b};
    size_t m = (side == SIDE_LEFT || side == SIDE_RIGHT) ? ny : nx;
    for (size_t k = 0; k < m; k++) {
        switch (side) {
        case SIDE_LEFT: z[k] = CMPLX(b->xmin, ptd_pspec_grid_y(&g, k)); break;
        case SIDE_RIGHT: z[k] = CMPLX(b->xmax, ptd_pspec_grid_y(&g, k)); break;
        case SIDE_BOTTOM: z[k] = CMPLX(ptd_pspec_grid_x(&g, k), b->ymin); break;
        default: z[k] = CMPLX(ptd_pspec_grid_x(&g, k), b->ymax); break;
        }
    }
    ptd_pspec_opts quiet = o ? *o : (ptd_pspec_opts){0};
    quiet.progress = NULL;
    int st = eval_points(p, &quiet, threads, z, m, sig, NULL, NULL, NULL, NULL);
    if (st) return st;
    double mn = INFINITY;
    for (size_t k = 0; k < m; k++) mn = fmin(mn, sig[k]);
    *out = mn;
    return PTD_OK;
}

static double *side_ptr(ptd_box *b, int side)
{
    switch (side) {
    case SIDE_LEFT: return &b->xmin;
    case SIDE_RIGHT: return &b->xmax;
    case SIDE_BOTTOM: return &b->ymin;
    default: return &b->ymax;
    }
}

int ptd_pspec_auto_box(const ptd_pspec_plan *p, const double *eps, size_t neps, size_t nx,
                       size_t ny, const ptd_pspec_opts *opts, ptd_box *box)
{
    ptd_clear_error();
    if (neps == 0) return ptd_error(PTD_EINVAL, "auto box: no eps given");
    if (nx < 2 || ny < 2) return ptd_error(PTD_EINVAL, "auto box: grid must be at least 2 x 2");
    double emax = 0;
    for (size_t k = 0; k < neps; k++) {
        if (!(eps[k] > 0) || !isfinite(eps[k])) return ptd_error(PTD_EINVAL, "auto box: eps must be positive and finite");
        emax = fmax(emax, eps[k]);
    }
    /* the enclosure: Lambda_eps(A) lies within eps of the numerical range W(A) */
    ptd_box enc;
    int st = hermitian_extremes(p->A, 0, &enc.xmin, &enc.xmax);
    if (!st) st = hermitian_extremes(p->A, 1, &enc.ymin, &enc.ymax);
    if (st) return st;
    enc.xmin -= emax;
    enc.xmax += emax;
    enc.ymin -= emax;
    enc.ymax += emax;

    /* start: the eigenvalues' bounding box, padded a little */
    ptd_box b = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    for (size_t i = 0; i < p->n; i++) {
        b.xmin = fmin(b.xmin, creal(p->eig[i]));
        b.xmax = fmax(b.xmax, creal(p->eig[i]));
        b.ymin = fmin(b.ymin, cimag(p->eig[i]));
        b.ymax = fmax(b.ymax, cimag(p->eig[i]));
    }
    double ext = fmax(b.xmax - b.xmin, b.ymax - b.ymin);
    double pad = fmax(fmax(0.05 * ext, 2 * emax), 1e-3 * fmax(p->norm2, DBL_MIN));
    b.xmin -= pad;
    b.xmax += pad;
    b.ymin -= pad;
    b.ymax += pad;

    int threads = thread_count(opts);
    size_t m = nx > ny ? nx : ny;
    double complex *z = malloc(m * sizeof *z);
    double *sig = malloc(m * sizeof *sig);
    if (!z || !sig) {
        free(z);
        free(sig);
        return ptd_error(PTD_ENOMEM, "out of memory");
    }
    const double encl[4] = {enc.xmin, enc.xmax, enc.ymin, enc.ymax};
    const double dir[4] = {-1, 1, -1, 1};
    /* Each round grows every side whose border still meets the eps_max-level set until it
     * is clean (or at the enclosure), then bisects it back towards the last crossing; the
     * first clean round adds a margin, and the next one checks the final border. */
    int margined = 0, unsettled = 0, real = 1;
    for (size_t k = 0; k < p->n * p->n && real; k++) real = cimag(p->A->data[k]) == 0;
    for (int round = 0; round < 8 && !st; round++) {
        int dirty = 0;
        for (int side = 0; side < 4 && !st; side++) {
            double *pos = side_ptr(&b, side);
            double mn;
            st = side_min(p, opts, threads, &b, nx, ny, side, z, sig, &mn);
            if (st || mn > emax || dir[side] * (*pos - encl[side]) >= 0) continue;
            dirty = 1;
            double inside = *pos, outside = *pos;
            for (int it = 0; it < 60; it++) {
                double span = (side < 2) ? b.xmax - b.xmin : b.ymax - b.ymin;
                double next = *pos + dir[side] * 0.5 * span;
                if (dir[side] * (next - encl[side]) >= 0) next = encl[side];
                inside = *pos;
                *pos = next;
                outside = next;
                if (next == encl[side]) break;
                st = side_min(p, opts, threads, &b, nx, ny, side, z, sig, &mn);
                if (st || mn > emax) break;
            }
            if (st || dir[side] * (*pos - encl[side]) >= 0) continue;
            for (int it = 0; it < 5 && !st; it++) {
                double mid = 0.5 * (inside + outside);
                *pos = mid;
                st = side_min(p, opts, threads, &b, nx, ny, side, z, sig, &mn);
                if (mn > emax) outside = mid;
                else inside = mid;
            }
            *pos = outside;
        }
        if (st || (!dirty && margined)) break;
        if (!margined) {
            /* margin: 5% of the larger extent on every side, beyond the enclosure if need
             * be (that is where the growth stops, not the picture) */
            double mm = 0.05 * fmax(b.xmax - b.xmin, b.ymax - b.ymin);
            b.xmin -= mm;
            b.xmax += mm;
            b.ymin -= mm;
            b.ymax += mm;
            /* no narrower than half the height (nor flatter than half the width), widened
             * about the centre: eigenvalues on a line would otherwise give a sliver */
            double wx = b.xmax - b.xmin, wy = b.ymax - b.ymin;
            if (wx < 0.5 * wy) {
                double c = 0.5 * (b.xmin + b.xmax);
                b.xmin = c - 0.25 * wy;
                b.xmax = c + 0.25 * wy;
            } else if (wy < 0.5 * wx) {
                double c = 0.5 * (b.ymin + b.ymax);
                b.ymin = c - 0.25 * wx;
                b.ymax = c + 0.25 * wx;
            }
            margined = 1;
        }
        /* a real matrix has pseudospectra symmetric about the real axis: so is its box */
        if (real) {
            double h = fmax(fabs(b.ymin), fabs(b.ymax));
            b.ymin = -h;
            b.ymax = h;
        }
        if (round == 7) unsettled = 1;
    }
    free(z);
    free(sig);
    if (st) return st;
    if (unsettled)
        return ptd_error(PTD_ENOCONV, "automatic box: the eps = %g level set still meets the border after 8 "
                                      "rounds; give the box explicitly", emax);
    *box = b;
    return PTD_OK;
}
