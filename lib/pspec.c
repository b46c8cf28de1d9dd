/* pspec.c - epsilon-pseudospectra: a Schur-form plan made once, then sigma_min(zI - A) at
 * many points by inverse Lanczos on the triangular factor (O(n^2) per point), or by a
 * dense SVD of zI - A (O(n^3), for verification).  Grids run inverse Lanczos for a block of
 * points at once, every triangular solve shared by all of them (multi-shift solves, see
 * docs/mathematics.md section 2); the one-point path is kept as the reference. */
#include "config.h"
#include "internal.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Multi-shift solves: T is cut into diagonal blocks of MS_NB rows.  The zgemm calls carry a
 * multiple of MS_STEP columns, so that no column's bits depend on how many others share the
 * call or where it sits among them: OpenBLAS's zgemm kernels treat 1, 2, 3 or 4 columns at a
 * time and finish a remainder differently (measured for every kernel this processor runs:
 * Prescott to SkylakeX); 12 is a multiple of all of those and of the 4 lanes the block
 * solver takes at a time.  MS_LANES is the default block of shifts per thread. */
enum { MS_NB = 32, MS_STEP = 12, MS_LANES = 48, MS_CHAINS = 384 };

struct ptd_pspec_plan {
    size_t n;             /* columns of A: the order of the pencil */
    size_t m;             /* rows of A: n for a square plan, more for a rectangular one */
    ptd_matrix *A;        /* copy of the input, m x n */
    ptd_matrix *A1;       /* its top n x n block (A itself when square) */
    double complex *T;    /* upper triangular Schur factor of A1 = U T U^*, n x n column-major */
    double complex *R2;   /* rectangular plans: the k2 x n upper trapezoidal R of A2 U = Q2 R2
                             (A2 the last m - n rows of A), column-major, leading dimension k2 */
    size_t k2;            /* min(m - n, n); 0 for a square plan */
    double complex *eig;  /* diag(T) */
    double complex *start;/* Lanczos start vector, unit norm, fixed */
    double *blk;          /* T's diagonal blocks for the multi-shift solves (see ms_blocks) */
    size_t ld;            /* leading dimension of multi-shift vectors: n rounded up to 8 */
    double *absT;         /* exact plans: |re t_ij| + |im t_ij| above the diagonal, 0 on and below it
                             (the error bounds' |M| |x|, see ms_check) */
    double norm2;
    double floor;
    int exact;
    unsigned long id; /* unique per plan: lets a workspace know whose T it holds */
};

/* Plan ids; the only shared state, and atomic. */
static _Atomic unsigned long plan_ids = 0;

/* Scratch for the Lanczos tridiagonal (capacity k steps). */
typedef struct {
    double *d, *e, *z1, *rwork;
    lapack_int *iwork, *iblock, *isplit, *ifail;
} tri_work;

/* Scratch for the forward error bounds of two triangular solves (ztrrfs). */
typedef struct {
    double complex *rhs, *x, *work;
    double *rwork;
} rf_work;

struct ptd_pspec_work {
    size_t n;
    unsigned kmax;           /* Lanczos basis capacity (steps) */
    double complex *M;       /* T - zI (Lanczos), its triangular factor R(z) (rectangular
                                plans) or zI~ - A (SVD, m x n) */
    double complex *B2, *qrT;/* rectangular plans: a copy of R2 and ztpqrt2's T, per point */
    unsigned long m_holds;   /* id of the plan whose T M holds off the diagonal (0: none) */
    double complex *Q;       /* Lanczos basis, (kmax + 1) x n */
    double complex *y;
    double *alpha, *beta;
    unsigned ritz_k;         /* one-point path: size of the tridiagonal whose top eigenvector
                                is in tw.z1 (0: none), for ptd_pspec_sigma_grad */
    tri_work tw;
    rf_work rf;
    /* SVD */
    double *s, *svd_rwork;
    double complex *svd_work;
    lapack_int svd_lwork;
};

static void *aligned(size_t bytes)
{
    void *p = NULL;
    if (bytes == 0) bytes = 64;
    bytes = (bytes + 63) / 64 * 64;
    return posix_memalign(&p, 64, bytes) == 0 ? p : NULL;
}

static void tri_work_free(tri_work *t)
{
    free(t->d);
    free(t->e);
    free(t->z1);
    free(t->rwork);
    free(t->iwork);
    free(t->iblock);
    free(t->isplit);
    free(t->ifail);
}

static int tri_work_alloc(tri_work *t, size_t k)
{
    t->d = malloc(k * sizeof *t->d);
    t->e = malloc(k * sizeof *t->e);
    t->z1 = malloc(k * sizeof *t->z1);
    t->rwork = malloc(5 * k * sizeof *t->rwork);
    t->iwork = malloc(3 * k * sizeof *t->iwork);
    t->iblock = malloc(k * sizeof *t->iblock);
    t->isplit = malloc(k * sizeof *t->isplit);
    t->ifail = malloc(k * sizeof *t->ifail);
    return t->d && t->e && t->z1 && t->rwork && t->iwork && t->iblock && t->isplit && t->ifail;
}

static void rf_work_free(rf_work *r)
{
    free(r->rhs);
    free(r->x);
    free(r->work);
    free(r->rwork);
}

static int rf_work_alloc(rf_work *r, size_t n)
{
    r->rhs = malloc(n * sizeof *r->rhs);
    r->x = malloc(n * sizeof *r->x);
    r->work = malloc(2 * n * sizeof *r->work);
    r->rwork = malloc(n * sizeof *r->rwork);
    return r->rhs && r->x && r->work && r->rwork;
}

void ptd_pspec_plan_free(ptd_pspec_plan *p)
{
    if (!p) return;
    if (p->A1 != p->A) ptd_matrix_free(p->A1);
    ptd_matrix_free(p->A);
    free(p->T);
    free(p->R2);
    free(p->eig);
    free(p->start);
    free(p->blk);
    free(p->absT);
    free(p);
}

static lapack_logical select_none(const lapack_complex_double *w)
{
    (void)w;
    return 0;
}

/* The complex Schur form A1 = U T U^* of a general A1 by zgees (no balancing: only unitary
 * similarities leave sigma_min unchanged); U (n x n) only when not NULL. */
static int schur_general(ptd_pspec_plan *p, double complex *U)
{
    size_t n = p->n;
    memcpy(p->T, p->A1->data, n * n * sizeof(double complex));
    lapack_int sdim = 0;
    double complex *w = malloc(n * sizeof *w);
    if (!w) return ptd_error(PTD_ENOMEM, "out of memory (Schur form, n = %zu)", n);
    lapack_int info = LAPACKE_zgees(LAPACK_COL_MAJOR, U ? 'V' : 'N', 'N', select_none, (lapack_int)n,
                                    p->T, (lapack_int)n, &sdim, w, U, U ? (lapack_int)n : 1);
    free(w);
    int st = ptd_lapack_status("zgees", (int)info);
    if (st) return st;
    /* zgees leaves rounding-level garbage below the diagonal in nothing we rely on, but
     * make T exactly upper triangular for the triangular solves and the norms */
    for (size_t j = 0; j < n; j++)
        for (size_t i = j + 1; i < n; i++) p->T[i + j * n] = 0;
    return PTD_OK;
}

/* A rectangular plan's reduction, once: with A = [A1; A2] (A2 the last m - n rows) and
 * A1 = U T U^*, zI~ - A = diag(U, I) [zI - T; -A2 U] U^*, and A2 U = Q2 [R2; 0] (zgeqrf), so
 * that sigma(zI~ - A) = sigma([zI - T; R2]): T and the k2 = min(m - n, n) rows of R2 are all a
 * point needs (docs/mathematics.md section 2, "Rectangular matrices"). */
static int rect_reduce(ptd_pspec_plan *p)
{
    size_t n = p->n, m = p->m, k = m - n, k2 = p->k2;
    double complex *U = malloc(n * n * sizeof *U);
    double complex *G = ptdi_lapack_alloc(k, n, sizeof *G), *tau = malloc(k2 * sizeof *tau);
    double complex *work = ptdi_lapack_work(64 * n, k, sizeof *work);
    int st = U && G && tau && work ? PTD_OK : ptd_error(PTD_ENOMEM, "out of memory (rectangular plan, %zu x %zu)", m, n);
    if (!st) st = schur_general(p, U);
    if (!st) {
        const double complex one = 1, zero = 0;
        cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)k, (int)n, (int)n, &one, p->A->data + n, (int)m,
                    U, (int)n, &zero, G, (int)k);
        lapack_int info = LAPACKE_zgeqrf_work(LAPACK_COL_MAJOR, (lapack_int)k, (lapack_int)n, G, (lapack_int)k, tau,
                                              work, (lapack_int)(64 * n));
        st = ptd_lapack_status("zgeqrf", (int)info);
    }
    if (!st)
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < k2; i++) p->R2[i + j * k2] = i <= j ? G[i + j * k] : 0;
    free(U);
    free(G);
    free(tau);
    free(work);
    return st;
}

/* A fixed pseudo-random unit vector: every start alike, so that no value depends on the
 * thread count or the order of evaluation. */
static void fixed_start(double complex *v, size_t n, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r) {
        gsl_rng_set(r, seed);
        for (size_t i = 0; i < n; i++) {
            double re = gsl_ran_gaussian(r, 1.0), im = gsl_ran_gaussian(r, 1.0);
            v[i] = CMPLX(re, im);
        }
        gsl_rng_free(r);
    } else {
        for (size_t i = 0; i < n; i++) v[i] = CMPLX(1.0 + 0.37 * sin((double)i), cos(1.3 * (double)i));
    }
    double nrm = cblas_dznrm2((int)n, v, 1);
    for (size_t i = 0; i < n; i++) v[i] /= nrm;
}

/* Largest eigenvalue of the k x k Lanczos tridiagonal (alpha, beta), the second largest, and
 * the last component of the unit eigenvector of the largest (for the residual bound); the
 * eigenvector is left in t->z1. */
static int tridiag_top(tri_work *t, const double *alpha, const double *beta, unsigned k, double *theta,
                       double *theta2, double *last)
{
    memcpy(t->d, alpha, k * sizeof(double));
    if (k > 1) memcpy(t->e, beta, (k - 1) * sizeof(double));
    lapack_int info = LAPACKE_dstev_work(LAPACK_COL_MAJOR, 'N', (lapack_int)k, t->d, t->e, NULL, 1, NULL);
    if (info) return ptd_lapack_status("dstev", (int)info);
    *theta = t->d[k - 1];
    *theta2 = k > 1 ? t->d[k - 2] : 0.0;
    if (k == 1) {
        t->z1[0] = 1.0;
        *last = 1.0;
        return PTD_OK;
    }
    /* eigenvector by inverse iteration on the tridiagonal (dstein): O(k) */
    double ev = *theta;
    memcpy(t->d, alpha, k * sizeof(double));
    memcpy(t->e, beta, (k - 1) * sizeof(double));
    t->iblock[0] = 1;
    t->isplit[0] = (lapack_int)k;
    info = LAPACKE_dstein_work(LAPACK_COL_MAJOR, (lapack_int)k, t->d, t->e, 1, &ev, t->iblock, t->isplit, t->z1,
                               (lapack_int)k, t->rwork, t->iwork, t->ifail);
    if (info < 0) return ptd_lapack_status("dstein", (int)info);
    *last = fabs(t->z1[k - 1]);
    return PTD_OK;
}

/* tridiag_top for the multi-shift path: beyond 48 steps the two largest eigenvalues by
 * bisection (dstebz, O(k) each) rather than all of them (dsterf, O(k^2)); the eigenvector by
 * dstein as there. */
static int tridiag_top_ms(tri_work *t, const double *alpha, const double *beta, unsigned k, double *theta,
                          double *theta2, double *last)
{
    if (k <= 48) return tridiag_top(t, alpha, beta, k, theta, theta2, last);
    lapack_int m = 0, nsplit = 0;
    lapack_int info = LAPACKE_dstebz_work('I', 'E', (lapack_int)k, 0, 0, (lapack_int)k - 1, (lapack_int)k, 2 * DBL_MIN,
                                          alpha, beta, &m, &nsplit, t->d, t->iblock, t->isplit, t->rwork, t->iwork);
    if (info || m != 2) return ptd_error(PTD_ELAPACK, "dstebz: info %d, %d eigenvalues", (int)info, (int)m);
    *theta2 = t->d[0];
    *theta = t->d[1];
    double ev = t->d[1];
    lapack_int blk = t->iblock[1];
    info = LAPACKE_dstein_work(LAPACK_COL_MAJOR, (lapack_int)k, alpha, beta, 1, &ev, &blk, t->isplit, t->z1,
                               (lapack_int)k, t->rwork, t->iwork, t->ifail);
    if (info < 0) return ptd_lapack_status("dstein", (int)info);
    *last = fabs(t->z1[k - 1]);
    return PTD_OK;
}

/* The Lanczos three-term recurrence y <- y - a q_k - b q_{k-1} (q_k = Q[k-1], the vector of
 * step k; b = beta_{k-1}), then reorthogonalisation against all of Q by classical
 * Gram-Schmidt, once more when that pass removed more than a third of y's norm (Daniel,
 * Gragg, Kaufman and Stewart's criterion): full reorthogonalisation at one matrix-vector
 * pair most steps.  Returns ||y||. */
static double lanczos_orthogonalise(const double complex *Q, size_t n, size_t ld, unsigned k, double complex a,
                                    double b, double complex *y, double complex *c)
{
    const double complex one = 1, zero = 0, mone = -1;
    double complex ma = -a, mb = -b;
    cblas_zaxpy((int)n, &ma, Q + (size_t)(k - 1) * ld, 1, y, 1);
    if (k > 1) cblas_zaxpy((int)n, &mb, Q + (size_t)(k - 2) * ld, 1, y, 1);
    double nrm = cblas_dznrm2((int)n, y, 1);
    for (int pass = 0; pass < 2; pass++) {
        cblas_zgemv(CblasColMajor, CblasConjTrans, (int)n, (int)k, &one, Q, (int)ld, y, 1, &zero, c, 1);
        cblas_zgemv(CblasColMajor, CblasNoTrans, (int)n, (int)k, &mone, Q, (int)ld, c, 1, &one, y, 1);
        double after = cblas_dznrm2((int)n, y, 1);
        if (after > 0.70710678118654752 * nrm) return after;
        nrm = after;
    }
    return nrm;
}

/* ||T||_2 of an upper triangular T by Lanczos on T^* T (docs/mathematics.md section 2): two
 * ztrmv a step, O(n^2), instead of the O(n^3) of an SVD.  Full reorthogonalisation; it stops
 * when the Ritz value's error bound min(r, r^2 / gap) is below u theta, theta stops moving,
 * or the Krylov space is invariant.  Clustered largest singular values (a Toeplitz matrix's)
 * can take O(n) steps: beyond max(64, n/8) of them, or for entries near the ends of the
 * double range (where T^* T would over- or underflow), the dense SVD of A answers. */
static int norm2_lanczos(const double complex *T, size_t n, const ptd_matrix *A, double *out)
{
    double amax = 0;
    for (size_t k = 0; k < n * n; k++) amax = fmax(amax, fmax(fabs(creal(T[k])), fabs(cimag(T[k]))));
    if (amax == 0) {
        *out = 0;
        return PTD_OK;
    }
    if (amax > 0x1p+450 || amax < 0x1p-450) return ptd_matrix_norm2(A, out);
    size_t kcap = n / 8 > 64 ? n / 8 : 64;
    unsigned kmax = (unsigned)(n < kcap ? n : kcap);
    double complex *Q = malloc(((size_t)kmax + 1) * n * sizeof *Q), *y = malloc(n * sizeof *y),
                   *c = malloc(((size_t)kmax + 1) * sizeof *c);
    double *ab = malloc(2 * ((size_t)kmax + 1) * sizeof *ab);
    tri_work t = {0};
    int st = PTD_OK, done = 0;
    if (!Q || !y || !c || !ab || !tri_work_alloc(&t, (size_t)kmax + 1)) {
        st = ptd_error(PTD_ENOMEM, "out of memory (norm, n = %zu)", n);
        goto out;
    }
    double *alpha = ab, *beta = ab + kmax + 1;
    fixed_start(Q, n, 20240611UL);
    double theta = 0, theta_old = 0, theta2, last;
    for (unsigned k = 1; k <= kmax; k++) {
        const double complex *q = Q + (size_t)(k - 1) * n;
        memcpy(y, q, n * sizeof *y);
        cblas_ztrmv(CblasColMajor, CblasUpper, CblasNoTrans, CblasNonUnit, (int)n, T, (int)n, y, 1);
        cblas_ztrmv(CblasColMajor, CblasUpper, CblasConjTrans, CblasNonUnit, (int)n, T, (int)n, y, 1);
        double complex a;
        cblas_zdotc_sub((int)n, q, 1, y, 1, &a);
        alpha[k - 1] = creal(a);
        double b = lanczos_orthogonalise(Q, n, n, k, a, k > 1 ? beta[k - 2] : 0, y, c);
        if ((st = tridiag_top(&t, alpha, beta, k, &theta, &theta2, &last))) goto out;
        double r = b * last, gap = theta - theta2, bound = r;
        if (k > 1 && gap > 0 && r * r / gap < bound) bound = r * r / gap;
        if (bound <= PTD_U * theta || (k > 1 && fabs(theta - theta_old) <= 2 * PTD_U * theta) || b <= PTD_U * theta ||
            k == n) {
            done = 1;
            break;
        }
        theta_old = theta;
        if (k == kmax) break;
        beta[k - 1] = b;
        double complex *qn = Q + (size_t)k * n;
        for (size_t i = 0; i < n; i++) qn[i] = y[i] / b;
    }
    if (done) *out = sqrt(theta);
out:
    free(Q);
    free(y);
    free(c);
    free(ab);
    tri_work_free(&t);
    if (!st && !done) return ptd_matrix_norm2(A, out);
    return st;
}

/* The diagonal blocks of T as the block solver reads them, real and imaginary parts apart:
 * block b (rows r0 = b MS_NB ..) at blk + 4 b MS_NB^2 holds U (row i: T[r0 + i, r0 + k]) and
 * L (row k: conj(T[r0 + i, r0 + k])), each as MS_NB^2 real then MS_NB^2 imaginary parts. */
static double *ms_blocks(const double complex *T, size_t n)
{
    size_t nblk = (n + MS_NB - 1) / MS_NB, bb = (size_t)MS_NB * MS_NB;
    double *blk = aligned(4 * bb * nblk * sizeof *blk);
    if (!blk) return NULL;
    memset(blk, 0, 4 * bb * nblk * sizeof *blk);
    for (size_t b = 0; b < nblk; b++) {
        size_t r0 = b * MS_NB, nb = n - r0 < MS_NB ? n - r0 : MS_NB;
        double *ur = blk + 4 * bb * b, *ui = ur + bb, *lr = ui + bb, *li = lr + bb;
        for (size_t i = 0; i < nb; i++)
            for (size_t k = i; k < nb; k++) {
                double complex t = T[r0 + i + (r0 + k) * n];
                ur[i * MS_NB + k] = creal(t);
                ui[i * MS_NB + k] = cimag(t);
                lr[k * MS_NB + i] = creal(t);
                li[k * MS_NB + i] = -cimag(t);
            }
    }
    return blk;
}

/* A plan for an m x n matrix (m >= n) with its arrays allocated, A copied (or, A NULL, an
 * m x n matrix to fill: then the top block A1 is filled by plan_top); NULL when out of memory. */
static ptd_pspec_plan *plan_alloc(size_t m, size_t n, const ptd_matrix *A)
{
    ptd_pspec_plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n;
    p->m = m;
    p->k2 = m > n ? (m - n < n ? m - n : n) : 0;
    p->ld = (n + 7) / 8 * 8;
    p->id = ++plan_ids;
    p->A = A ? ptd_matrix_copy(A) : ptd_matrix_alloc(m, n);
    p->A1 = m == n ? p->A : ptd_matrix_alloc(n, n);
    p->T = malloc(n * n * sizeof *p->T);
    p->eig = malloc(n * sizeof *p->eig);
    p->start = malloc(n * sizeof *p->start);
    if (p->k2) p->R2 = calloc(p->k2 * n, sizeof *p->R2);
    if (!p->A || !p->A1 || !p->T || !p->eig || !p->start || (p->k2 && !p->R2)) {
        ptd_pspec_plan_free(p);
        return NULL;
    }
    return p;
}

/* A rectangular plan's A1: the top n x n block of A. */
static void plan_top(ptd_pspec_plan *p)
{
    for (size_t j = 0; j < p->n && p->A1 != p->A; j++)
        memcpy(p->A1->data + j * p->n, p->A->data + j * p->m, p->n * sizeof(double complex));
}

/* What a plan derives from T by copying alone: the solver's blocks, |T| (exact plans) and
 * the eigenvalues. */
static int plan_derive(ptd_pspec_plan *p)
{
    size_t n = p->n;
    if (!(p->blk = ms_blocks(p->T, n))) return ptd_error(PTD_ENOMEM, "out of memory (plan, n = %zu)", n);
    if (p->exact) {
        if (!(p->absT = calloc(n * n, sizeof *p->absT))) return ptd_error(PTD_ENOMEM, "out of memory (plan, n = %zu)", n);
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < j; i++) p->absT[i + j * n] = fabs(creal(p->T[i + j * n])) + fabs(cimag(p->T[i + j * n]));
    }
    for (size_t i = 0; i < n; i++) p->eig[i] = p->T[i + i * n];
    return PTD_OK;
}

int ptd_pspec_plan_create(const ptd_matrix *A, ptd_pspec_plan **out)
{
    ptd_clear_error();
    *out = NULL;
    if (!A || A->rows < A->cols || A->cols == 0)
        return ptd_error(PTD_EINVAL, "pspec: a square matrix, or a rectangular one with more rows than columns, is needed");
    if (!ptd_matrix_is_finite(A)) return ptd_error(PTD_EINVAL, "pspec: the matrix has NaN or infinite entries");
    size_t n = A->cols, m = A->rows;
    ptd_pspec_plan *p = plan_alloc(m, n, A);
    if (!p) return ptd_error(PTD_ENOMEM, "out of memory (plan, %zu x %zu)", m, n);
    plan_top(p);
    int st = PTD_OK;
    if (m > n) {
        /* no exact plan: every point's QR rounds */
        st = ptd_matrix_norm2(A, &p->norm2);
        if (!st) st = rect_reduce(p);
    } else {
        if (ptd_matrix_is_upper(A)) {
            memcpy(p->T, A->data, n * n * sizeof(double complex));
            p->exact = 1;
        } else if (ptd_matrix_is_lower(A)) {
            /* J A J with J the reversal permutation is upper triangular: T_ij = A_{n-1-i, n-1-j} */
            for (size_t j = 0; j < n; j++)
                for (size_t i = 0; i < n; i++) p->T[i + j * n] = PTD_AT(A, n - 1 - i, n - 1 - j);
            p->exact = 1;
        }
        /* ||A||_2 = ||T||_2 when T is A up to a permutation: O(n^2) a Lanczos step.  Otherwise
         * the SVD of A itself (the Schur form only approximates A, and its O(n^3) is several
         * times the SVD's) */
        st = p->exact ? norm2_lanczos(p->T, n, A, &p->norm2) : ptd_matrix_norm2(A, &p->norm2);
        if (!st && !p->exact) st = schur_general(p, NULL);
    }
    if (!st) st = plan_derive(p);
    if (st) {
        ptd_pspec_plan_free(p);
        return st;
    }
    /* the Schur form's and (rectangular) the QR's backward errors */
    p->floor = p->exact ? 0.0 : (double)m * PTD_U * p->norm2;
    fixed_start(p->start, n, 20240607UL);
    *out = p;
    return PTD_OK;
}

/* --- plans as bytes (ptd_pspec_plan_export / _import) -------------------------------------
 * A header of 8 eight-byte words (magic, format, n, exact, ||A||, floor, 1.0, m), then A (m x n),
 * T (n x n, complex, column-major), the start vector (n complex) and, for a rectangular plan,
 * R2 (k2 x n), in this machine's byte order.  What is derived from those by copying alone
 * (the top block, the blocks, |T|, the eigenvalues) is derived again on import; nothing that a
 * BLAS kernel computes is. */
enum { PLAN_MAGIC = 0x70746470u, PLAN_FORMAT = 2, PLAN_HEADER = 64 };

static size_t plan_k2(size_t m, size_t n) { return m > n ? (m - n < n ? m - n : n) : 0; }

static size_t plan_bytes(size_t m, size_t n)
{
    return PLAN_HEADER + (m * n + n * n + n + plan_k2(m, n) * n) * sizeof(double complex);
}

int ptd_pspec_plan_export(const ptd_pspec_plan *p, void **buf, size_t *len)
{
    ptd_clear_error();
    *buf = NULL;
    *len = 0;
    size_t n = p->n, m = p->m, total = plan_bytes(m, n);
    unsigned char *b = malloc(total);
    if (!b) return ptd_error(PTD_ENOMEM, "out of memory (plan export, %zu bytes)", total);
    uint64_t h[8] = {PLAN_MAGIC, PLAN_FORMAT, (uint64_t)n, (uint64_t)p->exact, 0, 0, 0, (uint64_t)m};
    memcpy(&h[4], &p->norm2, sizeof(double));
    memcpy(&h[5], &p->floor, sizeof(double));
    const double one = 1.0; /* a byte-order and floating-point format check */
    memcpy(&h[6], &one, sizeof(double));
    memcpy(b, h, sizeof h);
    size_t off = PLAN_HEADER, c = sizeof(double complex);
    memcpy(b + off, p->A->data, m * n * c);
    off += m * n * c;
    memcpy(b + off, p->T, n * n * c);
    off += n * n * c;
    memcpy(b + off, p->start, n * c);
    off += n * c;
    if (p->k2) memcpy(b + off, p->R2, p->k2 * n * c);
    *buf = b;
    *len = total;
    return PTD_OK;
}

/* 1 when the k x n column-major X is finite and zero below the diagonal; else *bad = its index. */
static int finite_upper(const double complex *X, size_t k, size_t n, size_t *bad)
{
    for (size_t t = 0; t < k * n; t++)
        if (!isfinite(creal(X[t])) || !isfinite(cimag(X[t])) || (t % k > t / k && X[t] != 0)) {
            *bad = t;
            return 0;
        }
    return 1;
}

int ptd_pspec_plan_import(const void *buf, size_t len, ptd_pspec_plan **out)
{
    ptd_clear_error();
    *out = NULL;
    uint64_t h[8];
    if (!buf || len < PLAN_HEADER) return ptd_error(PTD_EFORMAT, "plan import: %zu bytes, not a plan", len);
    memcpy(h, buf, sizeof h);
    double norm2, floor_, one;
    memcpy(&norm2, &h[4], sizeof(double));
    memcpy(&floor_, &h[5], sizeof(double));
    memcpy(&one, &h[6], sizeof(double));
    if (h[0] != PLAN_MAGIC || one != 1.0)
        return ptd_error(PTD_EFORMAT, "plan import: not a plan of this library (or another byte order)");
    if (h[1] != PLAN_FORMAT) return ptd_error(PTD_EFORMAT, "plan import: format %llu, this library reads %d",
                                              (unsigned long long)h[1], PLAN_FORMAT);
    if (h[2] == 0 || h[2] > PTD_ZOO_MAX_N || h[7] < h[2] || h[7] > PTD_ZOO_MAX_N || h[3] > (h[7] == h[2]))
        return ptd_error(PTD_EFORMAT, "plan import: %llu x %llu (1..%d, rows >= columns), exact flag %llu",
                         (unsigned long long)h[7], (unsigned long long)h[2], PTD_ZOO_MAX_N, (unsigned long long)h[3]);
    size_t n = (size_t)h[2], m = (size_t)h[7];
    if (len != plan_bytes(m, n))
        return ptd_error(PTD_EFORMAT, "plan import: %zu bytes, a plan of %zu x %zu has %zu", len, m, n, plan_bytes(m, n));
    if (!(norm2 >= 0) || !isfinite(norm2) || !(floor_ >= 0) || !isfinite(floor_))
        return ptd_error(PTD_EFORMAT, "plan import: norm %g, floor %g", norm2, floor_);
    ptd_pspec_plan *p = plan_alloc(m, n, NULL);
    if (!p) return ptd_error(PTD_ENOMEM, "out of memory (plan, %zu x %zu)", m, n);
    p->exact = (int)h[3];
    p->norm2 = norm2;
    p->floor = floor_;
    const unsigned char *b = buf;
    size_t off = PLAN_HEADER, c = sizeof(double complex), bad = 0;
    memcpy(p->A->data, b + off, m * n * c);
    off += m * n * c;
    memcpy(p->T, b + off, n * n * c);
    off += n * n * c;
    memcpy(p->start, b + off, n * c);
    off += n * c;
    if (p->k2) memcpy(p->R2, b + off, p->k2 * n * c);
    int st = PTD_OK;
    if (!ptd_matrix_is_finite(p->A))
        st = ptd_error(PTD_EFORMAT, "plan import: the matrix has a non-finite entry");
    else if (!finite_upper(p->T, n, n, &bad))
        st = ptd_error(PTD_EFORMAT, "plan import: entry (%zu, %zu) of T is not finite or T is not upper triangular",
                       bad % n, bad / n);
    else if (p->k2 && !finite_upper(p->R2, p->k2, n, &bad))
        st = ptd_error(PTD_EFORMAT, "plan import: entry (%zu, %zu) of R2 is not finite or R2 is not upper trapezoidal",
                       bad % p->k2, bad / p->k2);
    for (size_t i = 0; !st && i < n; i++)
        if (!isfinite(creal(p->start[i])) || !isfinite(cimag(p->start[i])))
            st = ptd_error(PTD_EFORMAT, "plan import: start vector entry %zu is not finite", i);
    if (!st) {
        plan_top(p);
        st = plan_derive(p);
    }
    if (st) {
        ptd_pspec_plan_free(p);
        return st;
    }
    *out = p;
    return PTD_OK;
}

size_t ptd_pspec_plan_order(const ptd_pspec_plan *p) { return p->n; }
size_t ptd_pspec_plan_rows(const ptd_pspec_plan *p) { return p->m; }
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
    free(w->alpha);
    free(w->beta);
    tri_work_free(&w->tw);
    rf_work_free(&w->rf);
    free(w->s);
    free(w->svd_rwork);
    free(w->svd_work);
    free(w->B2);
    free(w->qrT);
    free(w);
}

ptd_pspec_work *ptd_pspec_work_alloc(const ptd_pspec_plan *p)
{
    size_t n = p->n, m = p->m;
    ptd_pspec_work *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->n = n;
    /* capacity for any maxit a caller may ask: n steps span the whole space */
    w->kmax = (unsigned)(n < 1000 ? n : 1000);
    size_t k = w->kmax + 1;
    w->M = ptdi_lapack_alloc(m, n, sizeof *w->M); /* zgesvd's matrix */
    if (p->k2) {
        w->B2 = ptdi_lapack_alloc(p->k2, n, sizeof *w->B2);
        w->qrT = ptdi_lapack_alloc(n, n, sizeof *w->qrT);
        if (!w->B2 || !w->qrT) {
            ptd_pspec_work_free(w);
            return NULL;
        }
    }
    w->Q = malloc(k * n * sizeof *w->Q);
    w->y = malloc(n * sizeof *w->y);
    w->alpha = malloc(k * sizeof *w->alpha);
    w->beta = malloc(k * sizeof *w->beta);
    w->s = malloc(n * sizeof *w->s);
    w->svd_rwork = ptdi_lapack_work(5 * n, n, sizeof *w->svd_rwork);
    if (!tri_work_alloc(&w->tw, k) || !rf_work_alloc(&w->rf, n) || !w->M || !w->Q || !w->y || !w->alpha ||
        !w->beta || !w->s || !w->svd_rwork) {
        ptd_pspec_work_free(w);
        return NULL;
    }
    /* workspace query for the SVD, done once here so that evaluation never allocates */
    double complex q;
    lapack_int info = LAPACKE_zgesvd_work(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)m, (lapack_int)n,
                                          w->M, (lapack_int)m, w->s, NULL, 1, NULL, 1, &q, -1,
                                          w->svd_rwork);
    w->svd_lwork = info == 0 ? (lapack_int)creal(q) : (lapack_int)(2 * n + m);
    if (w->svd_lwork < (lapack_int)(2 * n + m)) w->svd_lwork = (lapack_int)(2 * n + m);
    /* padded as lib/lapack.c explains: OpenBLAS reads past the panel inside it */
    w->svd_work = ptdi_lapack_work((size_t)w->svd_lwork, m, sizeof *w->svd_work);
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
    size_t n = p->n, m = p->m;
    w->m_holds = 0;
    /* zI~ - A, I~ = [I; 0] (m x n) */
    for (size_t k = 0; k < m * n; k++) w->M[k] = -p->A->data[k];
    for (size_t i = 0; i < n; i++) w->M[i + i * m] += z;
    lapack_int info = LAPACKE_zgesvd_work(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)m, (lapack_int)n,
                                          w->M, (lapack_int)m, w->s, NULL, 1, NULL, 1, w->svd_work,
                                          w->svd_lwork, w->svd_rwork);
    int st = ptd_lapack_status("zgesvd", (int)info);
    if (st) return st;
    res->sigma = w->s[n - 1];
    /* a backward stable SVD of zI~ - A: error at most about m u ||zI~ - A|| */
    res->err = (double)m * PTD_U * (p->norm2 + cabs(z));
    res->iterations = 0;
    return PTD_OK;
}

/* A rectangular plan at z: M <- R(z), the triangular factor of [T - zI; R2] (ztpqrt2: n
 * Householder reflections of k2 + 1 entries each, O(k2 n^2)), whose singular values are those
 * of zI~ - A.  M no longer holds T's copy (m_holds 0). */
static int rect_factor(const ptd_pspec_plan *p, ptd_pspec_work *w, double complex z)
{
    size_t n = p->n, k2 = p->k2;
    w->m_holds = 0;
    memcpy(w->M, p->T, n * n * sizeof(double complex));
    for (size_t i = 0; i < n; i++) w->M[i + i * n] -= z;
    memcpy(w->B2, p->R2, k2 * n * sizeof(double complex));
    lapack_int info = LAPACKE_ztpqrt2_work(LAPACK_COL_MAJOR, (lapack_int)k2, (lapack_int)n, (lapack_int)k2, w->M,
                                           (lapack_int)n, w->B2, (lapack_int)k2, w->qrT, (lapack_int)n);
    return ptd_lapack_status("ztpqrt2", (int)info);
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

/* The state of inverse Lanczos at one point, shared by the one-point and the multi-shift
 * paths: Lanczos on H = c M^{-1} M^{-*} (M = T - zI), whose largest eigenvalue is
 * c / sigma_min^2.  The scale c = 1 / ||M^{-*} q_0||^2 keeps every quantity near 1, so
 * sigma_min far below the square root of the underflow threshold (as for LegS) is still
 * computed. */
typedef struct {
    double complex z;
    double tol, target_abs, target_rel;
    unsigned maxit;
    unsigned k;          /* steps taken */
    double scale;        /* 1 / ||M^{-*} q_0|| (0: not yet known) */
    double theta, theta_old, theta2, last, bound;
    int converged;
} lz_state;

/* tol = 0: converge to the accuracy of the method.  The rounding of a computed Schur form
 * and of the solves bounds sigma's error by about floor + n u (||A|| + |z|) absolute; the
 * iteration stops once its own error estimate is a quarter of that.  On an exact plan the
 * solves are accurate to a few n u relative (measured by ztrrfs in lz_result) however small
 * sigma is, so the target there is n u relative. */
static void lz_begin(const ptd_pspec_plan *p, const ptd_pspec_opts *o, unsigned cap, double complex z, lz_state *s)
{
    size_t n = p->n;
    memset(s, 0, sizeof *s);
    s->z = z;
    s->tol = o && o->tol > 0 ? o->tol : 0;
    s->target_abs = 0.25 * (p->floor + (double)n * PTD_U * (p->norm2 + cabs(z)));
    s->target_rel = (double)n * PTD_U;
    s->maxit = o && o->maxit ? o->maxit : default_maxit(n);
    if (s->maxit > cap) s->maxit = cap;
    if (s->maxit > n) s->maxit = (unsigned)n;
}

/* After step k (alpha_k in place, b = beta_k, the tridiagonal's top in s): the residual of the
 * Ritz pair is |beta_k s_k|; with the gap to the next Ritz value the eigenvalue error is at
 * most min(r, r^2 / gap).  1 when the iteration stops here, converged. */
static int lz_stop(const ptd_pspec_plan *p, lz_state *s, unsigned k, double b)
{
    double r = b * s->last;
    double gap = s->theta - s->theta2;
    double bound = r;
    if (k > 1 && gap > 0 && r * r / gap < bound) bound = r * r / gap;
    s->bound = bound;
    /* sigma = scale / sqrt(theta): its relative error is half theta's */
    double sig_est = s->scale / sqrt(s->theta), sig_err = 0.5 * sig_est * bound / s->theta;
    int accurate = s->tol > 0 ? bound <= s->tol * s->theta
                              : (p->exact ? 0.5 * bound / s->theta <= s->target_rel : sig_err <= s->target_abs);
    if (accurate || (k > 1 && fabs(s->theta - s->theta_old) <= 4 * PTD_U * s->theta) || b <= PTD_U * s->theta ||
        k == p->n) {
        s->converged = 1;
        return 1;
    }
    s->theta_old = s->theta;
    return 0;
}

/* The relative forward error of the two solves with M = T - zI (held in M) started from the
 * unit vector q: LAPACK's bounds (ztrrfs) for x1 = M^{-*} q and x2 = M^{-1} (x1 / ||x1||), 1
 * where a solve leaves the double range.  (The multi-shift path computes the same bounds for
 * a block of points at once: ms_check.) */
static double solve_rel_error(const double complex *M, size_t n, const double complex *q, rf_work *rf)
{
    double rel = 0;
    const char trans[2] = {'C', 'N'};
    memcpy(rf->rhs, q, n * sizeof(double complex));
    for (int pass = 0; pass < 2; pass++) {
        memcpy(rf->x, rf->rhs, n * sizeof(double complex));
        cblas_ztrsv(CblasColMajor, CblasUpper, pass == 0 ? CblasConjTrans : CblasNoTrans, CblasNonUnit, (int)n, M,
                    (int)n, rf->x, 1);
        double ferr = 1, berr;
        double nx = cblas_dznrm2((int)n, rf->x, 1);
        if (!isfinite(nx) || nx == 0) return 1;
        lapack_int info = LAPACKE_ztrrfs_work(LAPACK_COL_MAJOR, 'U', trans[pass], 'N', (lapack_int)n, 1, M,
                                              (lapack_int)n, rf->rhs, (lapack_int)n, rf->x, (lapack_int)n, &ferr,
                                              &berr, rf->work, rf->rwork);
        rel += info == 0 && isfinite(ferr) ? ferr : 1;
        for (size_t i = 0; i < n; i++) rf->rhs[i] = rf->x[i] / nx;
    }
    return rel;
}

/* M holds T's off-diagonal part (copied once per workspace); give it the diagonal of T - zI. */
static void shifted_copy(const ptd_pspec_plan *p, double complex *M, unsigned long *holds, double complex z)
{
    size_t n = p->n;
    if (*holds != p->id) {
        memcpy(M, p->T, n * n * sizeof(double complex));
        *holds = p->id;
    }
    for (size_t i = 0; i < n; i++) M[i + i * n] = p->T[i + i * n] - z;
}

/* sigma from the state: 0 when the solves overflowed (theta <= 0 or no scale yet). */
static double lz_sigma(const lz_state *s) { return s->theta <= 0 || s->scale == 0 ? 0.0 : s->scale / sqrt(s->theta); }

/* 1 when the error needs the solves' forward error bounds: an exact plan, sigma below the
 * normwise rounding bound. */
static int lz_needs_bounds(const ptd_pspec_plan *p, const lz_state *s)
{
    double sigma = lz_sigma(s);
    return p->exact && sigma > 0 && sigma < (double)p->n * PTD_U * (p->norm2 + cabs(s->z));
}

/* The value and its error after s->k steps.  Where lz_needs_bounds, rel is the relative
 * forward error of the last step's two solves (see solve_rel_error), or negative: then it is
 * computed here from q, the last Lanczos vector, with M (T - zI, in a buffer with *holds, see
 * shifted_copy) and rf.
 *
 * The error: the Lanczos bound on theta (relative, halved for the square root), plus
 * rounding.  Backward stable solves perturb zI - A by about n u ||zI - A|| in norm, and a
 * computed Schur form adds n u ||A||: that normwise bound is what a general matrix gets.
 * With an exact (triangular) Schur form, values below it are usually far more accurate
 * than it says (LegS: 2e-44, to 15 digits); there LAPACK's forward error bounds of the
 * two triangular solves (ztrrfs) on the last Lanczos vector give the relative error. */
static int lz_result(const ptd_pspec_plan *p, const lz_state *s, double rel, const double complex *q,
                     double complex *M, unsigned long *holds, rf_work *rf, ptd_pspec_point *res)
{
    size_t n = p->n;
    res->iterations = s->k;
    res->sigma = lz_sigma(s);
    if (res->sigma == 0) {
        /* the solves overflowed: sigma_min is below what double precision represents */
        res->err = fmax(p->floor, DBL_MIN);
        return PTD_OK;
    }
    double normwise = (double)n * PTD_U * (p->norm2 + cabs(s->z));
    double rounding = p->floor + normwise;
    if (lz_needs_bounds(p, s)) {
        if (rel < 0) {
            shifted_copy(p, M, holds, s->z);
            rel = solve_rel_error(M, n, q, rf);
        }
        rounding = fmin(normwise, res->sigma * 0.5 * rel);
    }
    res->err = rounding + res->sigma * 0.5 * s->bound / s->theta;
    if (!s->converged)
        return ptd_error(PTD_ENOCONV, "inverse Lanczos did not converge in %u steps at z = %g%+gi", s->maxit,
                         creal(s->z), cimag(s->z));
    return PTD_OK;
}

/* An exactly zero pivot: zI - A is exactly singular for the plan's data. */
static void singular_point(const ptd_pspec_plan *p, ptd_pspec_point *res)
{
    res->sigma = 0.0;
    res->err = p->floor;
    res->iterations = 0;
}

/* The one-point path (the reference): two ztrsv per step, from the plan's fixed start. */
static int sigma_lanczos(const ptd_pspec_plan *p, ptd_pspec_work *w, double complex z,
                         const ptd_pspec_opts *o, ptd_pspec_point *res)
{
    size_t n = p->n;
    /* T is copied once per workspace; each point only rewrites the diagonal (an O(n^2)
     * copy per point cost as much as two triangular solves at n = 512).  A rectangular plan
     * factors [T - zI; R2] instead (the same solves follow, with R(z)) */
    if (p->k2) {
        int st = rect_factor(p, w, z);
        if (st) return st;
    } else {
        shifted_copy(p, w->M, &w->m_holds, z);
    }
    for (size_t i = 0; i < n; i++)
        if (w->M[i + i * n] == 0) {
            singular_point(p, res);
            return PTD_OK;
        }
    lz_state s;
    lz_begin(p, o, w->kmax, z, &s);
    double complex *Q = w->Q;
    memcpy(Q, p->start, n * sizeof(double complex));
    w->ritz_k = 0;
    unsigned k;
    for (k = 1; k <= s.maxit; k++) {
        const double complex *q = Q + (size_t)(k - 1) * n;
        double complex *y = w->y;
        memcpy(y, q, n * sizeof(double complex));
        cblas_ztrsv(CblasColMajor, CblasUpper, CblasConjTrans, CblasNonUnit, (int)n, w->M, (int)n, y, 1);
        double ny = cblas_dznrm2((int)n, y, 1);
        if (!isfinite(ny) || ny == 0) break; /* beyond the double range: handled below */
        if (k == 1) s.scale = 1.0 / ny;
        /* y <- M^{-1} (y / ny) * (ny scale) scale = c M^{-1} M^{-*} q */
        double f = ny * s.scale;
        for (size_t i = 0; i < n; i++) y[i] /= ny;
        cblas_ztrsv(CblasColMajor, CblasUpper, CblasNoTrans, CblasNonUnit, (int)n, w->M, (int)n, y, 1);
        for (size_t i = 0; i < n; i++) y[i] *= f * s.scale;
        if (!isfinite(cblas_dznrm2((int)n, y, 1))) break;
        double complex a;
        cblas_zdotc_sub((int)n, q, 1, y, 1, &a);
        w->alpha[k - 1] = creal(a);
        orthogonalise(Q, n, k, y);
        double b = cblas_dznrm2((int)n, y, 1);
        int st = tridiag_top(&w->tw, w->alpha, w->beta, k, &s.theta, &s.theta2, &s.last);
        if (st) return st;
        w->ritz_k = k;
        if (lz_stop(p, &s, k, b)) break;
        if (k == s.maxit) break;
        w->beta[k - 1] = b;
        double complex *qn = Q + (size_t)k * n;
        for (size_t i = 0; i < n; i++) qn[i] = y[i] / b;
    }
    s.k = k > s.maxit ? s.maxit : k;
    return lz_result(p, &s, -1, Q + (size_t)(s.k - 1) * n, w->M, &w->m_holds, &w->rf, res);
}

int ptd_pspec_sigma_min(const ptd_pspec_plan *p, ptd_pspec_work *w, double complex z,
                        const ptd_pspec_opts *opts, ptd_pspec_point *res)
{
    ptd_clear_error();
    if (!isfinite(creal(z)) || !isfinite(cimag(z)))
        return ptd_error(PTD_EINVAL, "sigma_min: z is not finite");
    if (opts && (!(opts->tol >= 0) || opts->tol >= 1 ||
                 (opts->method != PTD_PSPEC_LANCZOS && opts->method != PTD_PSPEC_SVD &&
                  opts->method != PTD_PSPEC_LANCZOS_SINGLE)))
        return ptd_error(PTD_EINVAL, "sigma_min: tol must be in [0, 1) and method lanczos, lanczos-single or svd");
    if (w->n != p->n) return ptd_error(PTD_EINVAL, "sigma_min: workspace of another size");
    if (opts && opts->method == PTD_PSPEC_SVD) return sigma_svd(p, w, z, res);
    return sigma_lanczos(p, w, z, opts, res);
}

/* The Ritz vector of the one-point path's last Lanczos step, sum_j z1_j q_j, into v (in the
 * basis of T; zero when there is none, w->ritz_k = 0). */
static void ritz_vector(const ptd_pspec_work *w, size_t n, double complex *v)
{
    memset(v, 0, n * sizeof *v);
    for (unsigned j = 0; j < w->ritz_k; j++) {
        double complex c = w->tw.z1[j];
        cblas_zaxpy((int)n, &c, w->Q + (size_t)j * n, 1, v, 1);
    }
}

/* One step of inverse iteration with M = T - zI (upper triangular, in M): u = M^{-*} v / ||.||,
 * then v <- M^{-1} u / ||.||.  0 when a solve leaves the double range (v, u then undefined). */
static int inverse_step(const double complex *M, size_t n, double complex *v, double complex *u)
{
    memcpy(u, v, n * sizeof *u);
    cblas_ztrsv(CblasColMajor, CblasUpper, CblasConjTrans, CblasNonUnit, (int)n, M, (int)n, u, 1);
    double nu = cblas_dznrm2((int)n, u, 1);
    if (!(nu > 0) || !isfinite(nu)) return 0;
    for (size_t i = 0; i < n; i++) u[i] /= nu;
    memcpy(v, u, n * sizeof *v);
    cblas_ztrsv(CblasColMajor, CblasUpper, CblasNoTrans, CblasNonUnit, (int)n, M, (int)n, v, 1);
    double nv = cblas_dznrm2((int)n, v, 1);
    if (!(nv > 0) || !isfinite(nv)) return 0;
    for (size_t i = 0; i < n; i++) v[i] /= nv;
    return 1;
}

/* The one-point value and the gradient of sigma_min(zI - A) in z (ptd_pspec_sigma_grad, for
 * lib/trace.c).  With M = T - zI, the Ritz vector v0 of the last Lanczos step is refined by
 * one inverse iteration, u = M^{-*} v0 / ||.||, v = M^{-1} u / ||.|| (two triangular solves:
 * the error of v0 along the other singular vectors shrinks by sigma / sigma_j), so that
 * M v = sigma u; then (zI - T) v = -sigma u and d sigma/dx + i d sigma/dy = -(v^* u)
 * (docs/mathematics.md section 2, tracing).  (The Rayleigh quotient form
 * (z - v0^* T v0) / sigma would amplify the vector's error by ||T|| / sigma.)  *grad is 0
 * where it is not defined (sigma 0, no Ritz vector, a solve out of range).  On an exact plan
 * the error of a value above the normwise rounding bound n u (||A|| + |z|) is the smaller of
 * that bound and the solves' forward error bounds (as lz_result computes them below it).
 * Uses w->y and w->rf as scratch; w->M holds T - zI after the one-point path. */
int ptd_pspec_sigma_grad(const ptd_pspec_plan *p, ptd_pspec_work *w, double complex z, const ptd_pspec_opts *o,
                         ptd_pspec_point *res, double complex *grad)
{
    *grad = 0;
    if (p->k2) return ptd_error(PTD_EINVAL, "sigma_grad: not for a rectangular plan (%zu x %zu)", p->m, p->n);
    int st = ptd_pspec_sigma_min(p, w, z, o, res);
    if (st && st != PTD_ENOCONV) return st;
    size_t n = p->n;
    unsigned k = (o && o->method == PTD_PSPEC_SVD) ? 0 : w->ritz_k;
    if (k == 0 || !(res->sigma > 0) || w->m_holds != p->id) return st;
    /* an exact plan above the normwise rounding bound: there the value carries that bound
     * (what a grid reports); a level curve needs more, and the solves' forward error bounds
     * (ztrrfs, as below the bound) give it: the smaller of the two, both bounds */
    double normwise = (double)n * PTD_U * (p->norm2 + cabs(z));
    if (p->exact && res->sigma >= normwise && res->err > 1e-6 * res->sigma) {
        double rel = solve_rel_error(w->M, n, w->Q + (size_t)(res->iterations ? res->iterations - 1 : 0) * n, &w->rf);
        res->err += fmin(normwise, res->sigma * 0.5 * rel) - (p->floor + normwise);
        if (res->err < 0) res->err = 0;
    }
    double complex *v = w->y, *u = w->rf.x;
    ritz_vector(w, n, v);
    if (!inverse_step(w->M, n, v, u)) return st;
    double complex d;
    cblas_zdotc_sub((int)n, v, 1, u, 1, &d);
    *grad = -d;
    return st;
}

/* --- the pseudomode at a point (ptd_pspec_mode) ------------------------------------------ */

/* ||(zI - A) v - sigma u||_2 from A itself. */
static double mode_residual(const ptd_pspec_plan *p, double complex z, const double complex *v, const double complex *u,
                            double sigma, double complex *r)
{
    size_t n = p->n;
    double complex mone = -1, zero = 0;
    cblas_zgemv(CblasColMajor, CblasNoTrans, (int)n, (int)n, &mone, p->A->data, (int)n, v, 1, &zero, r, 1);
    for (size_t i = 0; i < n; i++) r[i] += z * v[i] - sigma * u[i];
    return cblas_dznrm2((int)n, r, 1);
}

/* The SVD path: zI - A in a padded buffer, zgesvd with vectors. */
static int mode_svd(const ptd_pspec_plan *p, double complex z, double complex *v, double complex *u,
                    ptd_pspec_mode_info *info)
{
    size_t n = p->n;
    double complex *M = ptdi_lapack_alloc(n, n, sizeof *M), *U = ptdi_lapack_alloc(n, n, sizeof *U),
                   *VT = ptdi_lapack_alloc(n, n, sizeof *VT);
    double *s = malloc(n * sizeof *s);
    int st = PTD_OK;
    if (!M || !U || !VT || !s) st = ptd_error(PTD_ENOMEM, "pseudomode: out of memory (n = %zu)", n);
    if (!st) {
        for (size_t k = 0; k < n * n; k++) M[k] = -p->A->data[k];
        for (size_t i = 0; i < n; i++) M[i + i * n] += z;
        st = ptd_lapack_status("zgesvd", ptdi_zgesvd('S', 'S', n, n, M, n, s, U, n, VT, n));
    }
    if (!st) {
        for (size_t i = 0; i < n; i++) {
            u[i] = U[i + (n - 1) * n];
            v[i] = conj(VT[(n - 1) + i * n]);
        }
        info->sigma = s[n - 1];
        info->sigma_err = (double)n * PTD_U * (p->norm2 + cabs(z));
        info->gap = n > 1 ? s[n - 2] : 0;
        info->iterations = 0;
        info->exact = 0;
    }
    free(M);
    free(U);
    free(VT);
    free(s);
    return st;
}

int ptd_pspec_mode(const ptd_pspec_plan *p, double complex z, double complex *v, double complex *u,
                   ptd_pspec_mode_info *info)
{
    ptd_clear_error();
    if (!p || !v || !u || !info) return ptd_error(PTD_EINVAL, "pseudomode: NULL argument");
    memset(info, 0, sizeof *info);
    if (!isfinite(creal(z)) || !isfinite(cimag(z))) return ptd_error(PTD_EINVAL, "pseudomode: z is not finite");
    if (p->k2) return ptd_error(PTD_EINVAL, "pseudomode: not for a rectangular matrix (%zu x %zu)", p->m, p->n);
    size_t n = p->n;
    double complex *r = malloc(n * sizeof *r);
    if (!r) return ptd_error(PTD_ENOMEM, "pseudomode: out of memory (n = %zu)", n);
    int st;
    if (!p->exact) {
        st = mode_svd(p, z, v, u, info);
        if (!st) info->residual = mode_residual(p, z, v, u, info->sigma, r);
        free(r);
        return st;
    }
    for (size_t i = 0; i < n; i++)
        if (p->T[i + i * n] == z) {
            free(r);
            return ptd_error(PTD_EINVAL, "pseudomode: z = %g%+gi is an eigenvalue (zI - A is exactly singular)",
                             creal(z), cimag(z));
        }
    ptd_pspec_work *w = ptd_pspec_work_alloc(p);
    double complex *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    if (!w || !x || !y) {
        ptd_pspec_work_free(w);
        free(x);
        free(y);
        free(r);
        return ptd_error(PTD_ENOMEM, "pseudomode: out of memory (n = %zu)", n);
    }
    ptd_pspec_point pt;
    st = ptd_pspec_sigma_min(p, w, z, NULL, &pt);
    if (st && st != PTD_ENOCONV) goto done;
    st = PTD_OK;
    info->sigma = pt.sigma;
    info->sigma_err = pt.err;
    /* the start: the Ritz vector of the last Lanczos step (in the basis of T) */
    ritz_vector(w, n, x);
    if (w->ritz_k == 0) memcpy(x, p->start, n * sizeof *x);
    double nx0 = cblas_dznrm2((int)n, x, 1);
    for (size_t i = 0; i < n; i++) x[i] /= nx0;
    /* w->M holds T - zI after the one-point path */
    shifted_copy(p, w->M, &w->m_holds, z);
    unsigned it;
    double last_move = INFINITY, move = INFINITY;
    const unsigned maxit = 50;
    for (it = 1; it <= maxit; it++) {
        /* xn <- the next v, y <- u (of T - zI, up to sign: see below) */
        double complex *xn = r;
        memcpy(xn, x, n * sizeof *xn);
        if (!inverse_step(w->M, n, xn, y)) break;
        /* the move of v up to a unimodular factor */
        double complex c;
        cblas_zdotc_sub((int)n, x, 1, xn, 1, &c);
        double complex ph = cabs(c) > 0 ? c / cabs(c) : 1;
        move = 0;
        for (size_t i = 0; i < n; i++) {
            double d = cabs(xn[i] - ph * x[i]);
            move += d * d;
        }
        move = sqrt(move);
        memcpy(x, xn, n * sizeof *x);
        memcpy(u, y, n * sizeof *u);
        /* the convergence factor sigma_n^2 / sigma_{n-1}^2 per step, from two moves */
        if (isfinite(last_move) && last_move > 0 && move < last_move && move > 0)
            info->gap = pt.sigma / sqrt(move / last_move);
        if (move <= 4 * (double)n * PTD_U) break;
        last_move = move;
    }
    info->iterations = it > maxit ? maxit : it;
    if (!(move <= 4 * (double)n * PTD_U))
        st = ptd_error(PTD_ENOCONV, "pseudomode: inverse iteration moved v by %.3g after %u steps at z = %g%+gi", move,
                       info->iterations, creal(z), cimag(z));
    /* (T - zI) x = u / ||..||: so (zI - T) x = -sigma u; u <- -u makes (zI - T) v = sigma u,
     * and (zI - T)^* u = sigma v to the iteration's accuracy.  Back to A's indices: T is A, or
     * J A J with J the reversal (a lower triangular A) */
    int lower = !ptd_matrix_is_upper(p->A);
    for (size_t i = 0; i < n; i++) {
        size_t k = lower ? n - 1 - i : i;
        v[k] = x[i];
        y[k] = -u[i];
    }
    memcpy(u, y, n * sizeof *u);
    info->exact = 1;
    info->residual = mode_residual(p, z, v, u, info->sigma, r);
done:
    ptd_pspec_work_free(w);
    free(x);
    free(y);
    free(r);
    return st;
}

/* --- many shifts at once ------------------------------------------------------------------ */

/* The block solver's diagonal blocks: nb rows of lanes x (re xr, im xi, row i at i * ldx),
 * rr + i ri the reciprocal pivots 1 / (t_ii - z) of each lane, lanes a multiple of 4.  Every
 * lane goes through the same instructions (pairs of lanes per vector register), so its bits
 * do not depend on its neighbours. */
typedef double ms_v2 __attribute__((vector_size(16), may_alias));

#define MS_LD(ptr) (*(const ms_v2 *)(const void *)(ptr))
#define MS_ST(ptr, v) (*(ms_v2 *)(void *)(ptr) = (v))

/* (U - diag(z)) x = b, U upper triangular (row i of its real and imaginary parts at ur, ui
 * + i MS_NB): back substitution, each x_i = (b_i - sum_k u_ik x_k) / (u_ii - z). */
static void ms_block_upper(size_t nb, const double *ur, const double *ui, size_t lanes, size_t ldx, double *xr,
                           double *xi, const double *rr, const double *ri)
{
    for (size_t g = 0; g < lanes; g += 4)
        for (size_t i = nb; i-- > 0;) {
            double *pr = xr + i * ldx + g, *pi = xi + i * ldx + g;
            ms_v2 r0 = MS_LD(pr), r1 = MS_LD(pr + 2), m0 = MS_LD(pi), m1 = MS_LD(pi + 2);
            const double *tr = ur + i * MS_NB, *ti = ui + i * MS_NB;
            for (size_t k = i + 1; k < nb; k++) {
                ms_v2 a = {tr[k], tr[k]}, b = {ti[k], ti[k]};
                const double *yr = xr + k * ldx + g, *yi = xi + k * ldx + g;
                ms_v2 y0 = MS_LD(yr), y1 = MS_LD(yr + 2), w0 = MS_LD(yi), w1 = MS_LD(yi + 2);
                r0 -= a * y0 - b * w0;
                m0 -= a * w0 + b * y0;
                r1 -= a * y1 - b * w1;
                m1 -= a * w1 + b * y1;
            }
            const double *qr = rr + i * ldx + g, *qi = ri + i * ldx + g;
            ms_v2 p0 = MS_LD(qr), p1 = MS_LD(qr + 2), s0 = MS_LD(qi), s1 = MS_LD(qi + 2);
            MS_ST(pr, r0 * p0 - m0 * s0);
            MS_ST(pr + 2, r1 * p1 - m1 * s1);
            MS_ST(pi, r0 * s0 + m0 * p0);
            MS_ST(pi + 2, r1 * s1 + m1 * p1);
        }
}

/* (L - diag(conj z)) x = b, L = U^* lower triangular (row k at lr, li + k MS_NB): forward
 * substitution, dividing by conj(u_kk - z). */
static void ms_block_lower(size_t nb, const double *lr, const double *li, size_t lanes, size_t ldx, double *xr,
                           double *xi, const double *rr, const double *ri)
{
    for (size_t g = 0; g < lanes; g += 4)
        for (size_t k = 0; k < nb; k++) {
            double *pr = xr + k * ldx + g, *pi = xi + k * ldx + g;
            ms_v2 r0 = MS_LD(pr), r1 = MS_LD(pr + 2), m0 = MS_LD(pi), m1 = MS_LD(pi + 2);
            const double *tr = lr + k * MS_NB, *ti = li + k * MS_NB;
            for (size_t i = 0; i < k; i++) {
                ms_v2 a = {tr[i], tr[i]}, b = {ti[i], ti[i]};
                const double *yr = xr + i * ldx + g, *yi = xi + i * ldx + g;
                ms_v2 y0 = MS_LD(yr), y1 = MS_LD(yr + 2), w0 = MS_LD(yi), w1 = MS_LD(yi + 2);
                r0 -= a * y0 - b * w0;
                m0 -= a * w0 + b * y0;
                r1 -= a * y1 - b * w1;
                m1 -= a * w1 + b * y1;
            }
            const double *qr = rr + k * ldx + g, *qi = ri + k * ldx + g;
            ms_v2 p0 = MS_LD(qr), p1 = MS_LD(qr + 2), s0 = MS_LD(qi), s1 = MS_LD(qi + 2);
            MS_ST(pr, r0 * p0 + m0 * s0);
            MS_ST(pr + 2, r1 * p1 + m1 * s1);
            MS_ST(pi, m0 * p0 - r0 * s0);
            MS_ST(pi + 2, m1 * p1 - r1 * s1);
        }
}

/* One lane: the inverse Lanczos of one point, and where its chain of points goes on. */
typedef struct {
    lz_state s;
    size_t point;            /* index of the point in z[] */
    size_t end;              /* its chain: points point + 1 .. end - 1 follow */
    double complex *Q;       /* basis, (cap + 1) x ld */
    double *alpha, *beta;
    double complex *x1, *x2; /* exact plans: the last step's two solutions, for their error bounds */
    /* the error bounds of those solutions, computed in the block (ms_check): */
    int checking;            /* 1 while they are */
    int warm_next;           /* then: Q[0] holds the next point's warm start */
    int pass;                /* 0: M^* x1 = q, 1: M x2 = x1 / ||x1|| */
    lapack_int kase, isave[3];
    double est, rel;
    int want;                /* the solve cw waits for: MS_NONE, MS_CONJ, MS_PLAIN */
    int scale_after;
    double complex *cw, *cv; /* zlacn2's x and v */
    double *crw;             /* ztrrfs's rwork: |b| + |op(M)| |x|, then the weights */
} ms_lane;

enum { MS_NONE = 0, MS_CONJ = 1, MS_PLAIN = 2 };

/* A thread's multi-shift workspace. */
typedef struct {
    size_t lanes;            /* capacity, a multiple of MS_STEP */
    unsigned cap;            /* Lanczos steps per lane */
    double complex *V;       /* ld x lanes: the vectors being solved */
    double *xr, *xi;         /* MS_NB x lanes: a diagonal block of V, by rows */
    double *rr, *ri;         /* n x lanes: reciprocal pivots, by rows */
    double complex *c;       /* cap + 1 coefficients */
    ms_lane *lane;
    double *f;               /* per lane: the scale between the two solves */
    unsigned char *state;    /* per lane, during a step */
    tri_work tw;
} ms_work;

static void ms_work_free(ms_work *m)
{
    if (!m) return;
    free(m->V);
    free(m->xr);
    free(m->xi);
    free(m->rr);
    free(m->ri);
    free(m->c);
    if (m->lane)
        for (size_t s = 0; s < m->lanes; s++) {
            free(m->lane[s].Q);
            free(m->lane[s].alpha);
            free(m->lane[s].beta);
            free(m->lane[s].x1);
            free(m->lane[s].x2);
            free(m->lane[s].cw);
            free(m->lane[s].cv);
            free(m->lane[s].crw);
        }
    free(m->lane);
    free(m->f);
    free(m->state);
    tri_work_free(&m->tw);
    free(m);
}

static ms_work *ms_work_alloc(const ptd_pspec_plan *p, size_t lanes, unsigned cap)
{
    size_t n = p->n, ld = p->ld;
    ms_work *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->lanes = lanes;
    m->cap = cap;
    m->V = aligned(ld * lanes * sizeof *m->V);
    m->xr = aligned(MS_NB * lanes * sizeof *m->xr);
    m->xi = aligned(MS_NB * lanes * sizeof *m->xi);
    m->rr = aligned(n * lanes * sizeof *m->rr);
    m->ri = aligned(n * lanes * sizeof *m->ri);
    m->c = malloc(((size_t)cap + 1) * sizeof *m->c);
    m->lane = calloc(lanes, sizeof *m->lane);
    m->f = malloc(lanes * sizeof *m->f);
    m->state = malloc(lanes);
    int ok = m->V && m->xr && m->xi && m->rr && m->ri && m->c && m->lane && m->f && m->state &&
             tri_work_alloc(&m->tw, (size_t)cap + 1);
    for (size_t s = 0; ok && s < lanes; s++) {
        ms_lane *L = &m->lane[s];
        L->Q = aligned(((size_t)cap + 1) * ld * sizeof *L->Q);
        L->alpha = malloc(((size_t)cap + 1) * sizeof *L->alpha);
        L->beta = malloc(((size_t)cap + 1) * sizeof *L->beta);
        ok = L->Q && L->alpha && L->beta;
        if (ok && p->exact)
            ok = (L->x1 = malloc(n * sizeof *L->x1)) && (L->x2 = malloc(n * sizeof *L->x2)) &&
                 (L->cw = malloc(n * sizeof *L->cw)) && (L->cv = malloc(n * sizeof *L->cv)) &&
                 (L->crw = malloc(n * sizeof *L->crw));
    }
    if (!ok) {
        ms_work_free(m);
        return NULL;
    }
    memset(m->V, 0, ld * lanes * sizeof *m->V);
    memset(m->rr, 0, n * lanes * sizeof *m->rr);
    memset(m->ri, 0, n * lanes * sizeof *m->ri);
    return m;
}

/* V[:, 0 .. width) <- (T - z_j I)^{-1} V[:, j] (conj: (T - z_j I)^{-*}), width a multiple of
 * MS_STEP: the diagonal blocks per lane, the off-diagonal blocks by zgemm (right-looking: a
 * block row once solved updates all the rows still to be solved; a few per cent faster than
 * left-looking, which packs the solved rows again for every block). */
static void ms_solve(const ptd_pspec_plan *p, ms_work *m, size_t width, int conj)
{
    size_t n = p->n, ld = p->ld, L = m->lanes, nblk = (n + MS_NB - 1) / MS_NB, bb = (size_t)MS_NB * MS_NB;
    const double complex one = 1, mone = -1;
    for (size_t t = 0; t < nblk; t++) {
        size_t b = conj ? t : nblk - 1 - t;
        size_t r0 = b * MS_NB, nb = n - r0 < MS_NB ? n - r0 : MS_NB, r1 = r0 + nb;
        for (size_t s = 0; s < width; s++) {
            const double complex *v = m->V + r0 + s * ld;
            for (size_t i = 0; i < nb; i++) {
                m->xr[i * L + s] = creal(v[i]);
                m->xi[i * L + s] = cimag(v[i]);
            }
        }
        const double *blk = p->blk + 4 * bb * b;
        if (conj) ms_block_lower(nb, blk + 2 * bb, blk + 3 * bb, width, L, m->xr, m->xi, m->rr + r0 * L, m->ri + r0 * L);
        else ms_block_upper(nb, blk, blk + bb, width, L, m->xr, m->xi, m->rr + r0 * L, m->ri + r0 * L);
        for (size_t s = 0; s < width; s++) {
            double complex *v = m->V + r0 + s * ld;
            for (size_t i = 0; i < nb; i++) v[i] = CMPLX(m->xr[i * L + s], m->xi[i * L + s]);
        }
        if (!conj && r0 > 0)
            cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)r0, (int)width, (int)nb, &mone,
                        p->T + r0 * n, (int)n, m->V + r0, (int)ld, &one, m->V, (int)ld);
        if (conj && r1 < n)
            cblas_zgemm(CblasColMajor, CblasConjTrans, CblasNoTrans, (int)(n - r1), (int)width, (int)nb, &mone,
                        p->T + r0 + r1 * n, (int)n, m->V + r0, (int)ld, &one, m->V + r1, (int)ld);
    }
}

/* The points of one evaluation, in chains: a chain is a run of consecutive points of one row
 * (seg of them, fewer at the row's end), evaluated in order, each point started from the
 * converged vector of the one before it.  Which thread or lane runs a chain changes nothing. */
typedef struct {
    const ptd_pspec_plan *p;
    const ptd_pspec_opts *o;
    const double complex *z;
    size_t count, rowlen, seg, segs_per_row, nchains;
    double *sigma, *err;
    size_t *order;           /* chains in the order they are handed out */
    size_t next_chain;       /* shared: the next chain to hand out */
    size_t done;             /* shared: points finished */
    size_t report_every;
    int failure;
    char failmsg[256];
} ms_job;

/* Chain c: its points first .. end - 1. */
static void ms_chain(const ms_job *j, size_t c, size_t *first, size_t *end)
{
    size_t row = c / j->segs_per_row, q = c % j->segs_per_row;
    *first = row * j->rowlen + q * j->seg;
    *end = *first + j->seg;
    if (*end > (row + 1) * j->rowlen) *end = (row + 1) * j->rowlen;
    if (*end > j->count) *end = j->count;
}

static int ms_take_chain(ms_job *j, size_t *first, size_t *end)
{
    size_t c;
#ifdef _OPENMP
#pragma omp atomic capture
#endif
    c = j->next_chain++;
    if (c >= j->nchains) return 0;
    ms_chain(j, j->order[c], first, end);
    return *first < *end ? 1 : ms_take_chain(j, first, end);
}

typedef struct {
    unsigned long it_total;
    unsigned it_max;
    size_t unconverged;
    int master;
} ms_stats;

static void ms_record(ms_job *j, ms_stats *t, size_t point, int st, const ptd_pspec_point *r)
{
    j->sigma[point] = r->sigma;
    if (j->err) j->err[point] = r->err;
    t->it_total += r->iterations;
    if (r->iterations > t->it_max) t->it_max = r->iterations;
    if (st == PTD_ENOCONV) {
        t->unconverged++;
    } else if (st) {
#ifdef _OPENMP
#pragma omp critical(ptd_pspec_fail)
#endif
        if (!j->failure) {
            j->failure = st;
            snprintf(j->failmsg, sizeof j->failmsg, "%s", ptd_last_error());
        }
    }
    size_t d;
#ifdef _OPENMP
#pragma omp atomic capture
#endif
    d = ++j->done;
    if (t->master && j->o && j->o->progress && d % j->report_every == 0) j->o->progress(j->o->progress_ctx, d, j->count);
}

/* How much of the plan's fixed start goes into a warm start: a neighbour's vector alone may
 * be nearly orthogonal to this point's (where the two smallest singular values swap), and
 * inverse Lanczos then finds the wrong one; the fixed start keeps every direction in the
 * Krylov space, as a cold start does. */
static const double ms_warm_mix = 0.1;

/* Point `point` enters slot s; Q[0] holds its start when warm, else the fixed start is
 * used.  1 when it is in the lane, 0 when it was decided on the spot (an exactly singular
 * zI - T: sigma = 0). */
static int ms_enter(ms_job *j, ms_work *m, ms_stats *t, size_t s, size_t point, int warm)
{
    const ptd_pspec_plan *p = j->p;
    size_t n = p->n, L = m->lanes;
    ms_lane *ln = &m->lane[s];
    double complex z = j->z[point];
    ln->point = point;
    lz_begin(p, j->o, m->cap, z, &ln->s);
    int singular = 0;
    for (size_t i = 0; i < n; i++) {
        double complex d = p->T[i + i * n] - z;
        if (d == 0) {
            singular = 1;
            break;
        }
        double complex r = 1.0 / d;
        m->rr[i * L + s] = creal(r);
        m->ri[i * L + s] = cimag(r);
    }
    if (singular) {
        ptd_pspec_point r;
        singular_point(p, &r);
        ms_record(j, t, point, PTD_OK, &r);
        return 0;
    }
    if (!warm) memcpy(ln->Q, p->start, n * sizeof(double complex));
    return 1;
}

/* Fill slot s: the next point of its chain (warm: Q[0] holds its start), else the first
 * point of a new chain (cold).  0 when there is no more work. */
static int ms_fill(ms_job *j, ms_work *m, ms_stats *t, size_t s, int warm)
{
    ms_lane *ln = &m->lane[s];
    for (;;) {
        size_t next;
        if (ln->point + 1 < ln->end) {
            next = ln->point + 1;
        } else {
            size_t first, end;
            if (!ms_take_chain(j, &first, &end)) return 0;
            ln->end = end;
            next = first;
            warm = 0;
        }
        if (ms_enter(j, m, t, s, next, warm)) return 1;
        /* decided on the spot: its start (warm or not) serves the point after it */
    }
}

/* --- the solves' error bounds, for a block of points ---------------------------------------
 *
 * On an exact plan a value below the normwise rounding bound gets LAPACK's forward error
 * bounds of its last two solves (solve_rel_error: ztrrfs, one point at a time, as costly as
 * several Lanczos steps).  ms_check computes them as ztrrfs does (residual, |b| + |op(M)| |x|,
 * then Higham's estimator zlacn2 by reverse communication) but lets every solve the
 * estimator asks for go through the block's multi-shift solves: a lane in this state puts its
 * vector into the step's conjugate-transposed or plain solve, whichever zlacn2 wants. */

/* Start pass `pass` of slot s's bounds: M^* x1 = q (pass 0) or M x2 = x1 / ||x1|| (pass 1). */
static void ms_check_pass(const ptd_pspec_plan *p, ms_lane *ln, int pass);

/* zlacn2 has set ln->kase: ask for the next solve, or close the pass. */
static void ms_check_next(const ptd_pspec_plan *p, ms_lane *ln)
{
    size_t n = p->n;
    if (ln->kase == 0) {
        const double complex *x = ln->pass == 0 ? ln->x1 : ln->x2;
        double lstres = 0;
        for (size_t i = 0; i < n; i++) lstres = fmax(lstres, fabs(creal(x[i])) + fabs(cimag(x[i])));
        double ferr = lstres != 0 ? ln->est / lstres : ln->est;
        ln->rel += isfinite(ferr) ? ferr : 1;
        ln->want = MS_NONE;
        if (ln->pass == 0) ms_check_pass(p, ln, 1);
        return;
    }
    /* pass 0 bounds the solution of op(M) = M^*: kase 1 wants op(M)^{-*} = M^{-1}, kase 2
     * op(M)^{-1} = M^{-*}; pass 1 the other way round */
    int plain = (ln->kase == 1) == (ln->pass == 0);
    ln->want = plain ? MS_PLAIN : MS_CONJ;
    ln->scale_after = ln->kase == 1;
    if (ln->kase == 2)
        for (size_t i = 0; i < n; i++) ln->cw[i] *= ln->crw[i];
}

/* The solve slot s asked for is in cw. */
static void ms_check_solved(const ptd_pspec_plan *p, ms_lane *ln)
{
    if (ln->scale_after)
        for (size_t i = 0; i < p->n; i++) ln->cw[i] *= ln->crw[i];
    LAPACKE_zlacn2((lapack_int)p->n, ln->cv, ln->cw, &ln->est, &ln->kase, ln->isave);
    ms_check_next(p, ln);
}

static void ms_check_pass(const ptd_pspec_plan *p, ms_lane *ln, int pass)
{
    size_t n = p->n;
    ln->pass = pass;
    const double complex *x = pass == 0 ? ln->x1 : ln->x2;
    double nx = cblas_dznrm2((int)n, x, 1);
    if (!isfinite(nx) || nx == 0) {
        /* a solve left the double range: as solve_rel_error */
        ln->rel = 1;
        ln->want = MS_NONE;
        ln->kase = 0;
        ln->pass = 1;
        return;
    }
    /* b, the right-hand side, into cv (free until zlacn2 starts) */
    double complex *b = ln->cv;
    if (pass == 0) {
        memcpy(b, ln->Q + (size_t)(ln->s.k - 1) * p->ld, n * sizeof *b);
    } else {
        double n1 = cblas_dznrm2((int)n, ln->x1, 1);
        for (size_t i = 0; i < n; i++) b[i] = ln->x1[i] / n1;
    }
    /* the residual op(M) x - b, op(M) x = op(T) x - shift x */
    double complex shift = pass == 0 ? conj(ln->s.z) : ln->s.z;
    memcpy(ln->cw, x, n * sizeof *x);
    cblas_ztrmv(CblasColMajor, CblasUpper, pass == 0 ? CblasConjTrans : CblasNoTrans, CblasNonUnit, (int)n, p->T,
                (int)n, ln->cw, 1);
    for (size_t i = 0; i < n; i++) ln->cw[i] -= shift * x[i] + b[i];
    /* |b| + |op(M)| |x| (|.| = |re| + |im|, as LAPACK's) */
    for (size_t i = 0; i < n; i++) ln->crw[i] = fabs(creal(x[i])) + fabs(cimag(x[i]));
    cblas_dtrmv(CblasColMajor, CblasUpper, pass == 0 ? CblasTrans : CblasNoTrans, CblasNonUnit, (int)n, p->absT,
                (int)n, ln->crw, 1);
    const double eps = DBL_EPSILON / 2, safe1 = (double)(n + 1) * DBL_MIN, safe2 = safe1 / eps;
    for (size_t i = 0; i < n; i++) {
        double complex d = p->T[i + i * n] - ln->s.z;
        double w = ln->crw[i] + (fabs(creal(d)) + fabs(cimag(d))) * (fabs(creal(x[i])) + fabs(cimag(x[i]))) +
                   fabs(creal(b[i])) + fabs(cimag(b[i]));
        double r = fabs(creal(ln->cw[i])) + fabs(cimag(ln->cw[i]));
        ln->crw[i] = w > safe2 ? r + (double)(n + 1) * eps * w : r + (double)(n + 1) * eps * w + safe1;
    }
    ln->kase = 0;
    ln->est = 0;
    LAPACKE_zlacn2((lapack_int)n, ln->cv, ln->cw, &ln->est, &ln->kase, ln->isave);
    ms_check_next(p, ln);
}

static int ms_check_done(const ms_lane *ln) { return ln->pass == 1 && ln->kase == 0; }

/* Slot s's point is done after its s.k steps (converged or not).  When its chain goes on, put
 * the next point's warm start in Q[0] (when `ritz`: m->tw.z1 holds the tridiagonal's top
 * eigenvector): the Ritz vector Q z1 plus ms_warm_mix times the fixed start.  Then either the
 * error bounds of its solves start (the slot stays in the block until ms_check_done), or the
 * point is recorded and the slot takes the next one.  1 when the slot holds a point. */
static int ms_finish(ms_job *j, ms_work *m, ms_stats *t, size_t s, int ritz)
{
    const ptd_pspec_plan *p = j->p;
    size_t n = p->n, ld = p->ld;
    ms_lane *ln = &m->lane[s];
    int check = lz_needs_bounds(p, &ln->s);
    if (check) {
        ln->rel = 0;
        ms_check_pass(p, ln, 0); /* reads q = Q[k - 1]: before the warm start overwrites Q[0] */
    }
    int warm = ritz && ln->point + 1 < ln->end && ln->s.theta > 0 && ln->s.scale > 0;
    if (warm) {
        unsigned k = ln->s.k;
        const double complex one = 1, zero = 0;
        double complex *u = m->V + s * ld;
        for (unsigned i = 0; i < k; i++) m->c[i] = m->tw.z1[i];
        cblas_zgemv(CblasColMajor, CblasNoTrans, (int)n, (int)k, &one, ln->Q, (int)ld, m->c, 1, &zero, u, 1);
        double nu = cblas_dznrm2((int)n, u, 1);
        warm = isfinite(nu) && nu > 0;
        if (warm) {
            for (size_t i = 0; i < n; i++) ln->Q[i] = u[i] / nu + ms_warm_mix * p->start[i];
            double nq = cblas_dznrm2((int)n, ln->Q, 1);
            for (size_t i = 0; i < n; i++) ln->Q[i] /= nq;
        }
    }
    ln->warm_next = warm;
    ln->checking = check && !ms_check_done(ln);
    if (ln->checking) return 1;
    ptd_pspec_point r = {0, 0, 0};
    int st = lz_result(p, &ln->s, check ? ln->rel : 0, NULL, NULL, NULL, NULL, &r);
    ms_record(j, t, ln->point, st, &r);
    return ms_fill(j, m, t, s, warm);
}

/* Slot s's bounds are done: record its point, take the next. */
static int ms_check_finish(ms_job *j, ms_work *m, ms_stats *t, size_t s)
{
    ms_lane *ln = &m->lane[s];
    ptd_pspec_point r = {0, 0, 0};
    int st = lz_result(j->p, &ln->s, ln->rel, NULL, NULL, NULL, NULL, &r);
    ms_record(j, t, ln->point, st, &r);
    ln->checking = 0;
    return ms_fill(j, m, t, s, ln->warm_next);
}

/* Slot a takes slot b's lane (b's slot is then free). */
static void ms_move(ms_work *m, size_t n, size_t a, size_t b)
{
    size_t L = m->lanes;
    ms_lane tmp = m->lane[a];
    m->lane[a] = m->lane[b];
    m->lane[b] = tmp;
    for (size_t i = 0; i < n; i++) {
        m->rr[i * L + a] = m->rr[i * L + b];
        m->ri[i * L + a] = m->ri[i * L + b];
        m->rr[i * L + b] = 0;
        m->ri[i * L + b] = 0;
    }
}

/* One thread's share: lanes in lock step, every step two multi-shift solves; a finished lane
 * takes the next point of its chain, or a new chain, or leaves the block. */
static void ms_thread(ms_job *j, ms_work *m, ms_stats *t)
{
    const ptd_pspec_plan *p = j->p;
    size_t n = p->n, ld = p->ld;
    size_t active = 0;
    while (active < m->lanes && ms_fill(j, m, t, active, 0)) active++;
    double *f = m->f;
    unsigned char *state = m->state;
    while (active > 0) {
        size_t width = (active + MS_STEP - 1) / MS_STEP * MS_STEP;
        /* a lane in Lanczos: its vector q_k; a lane computing its bounds: the vector zlacn2
         * asked a conjugate-transposed solve for, or nothing */
        for (size_t s = 0; s < width; s++) {
            double complex *v = m->V + s * ld;
            const ms_lane *ln = &m->lane[s];
            if (s < active && !ln->checking) memcpy(v, ln->Q + (size_t)ln->s.k * ld, n * sizeof *v);
            else if (s < active && ln->want == MS_CONJ) memcpy(v, ln->cw, n * sizeof *v);
            else memset(v, 0, n * sizeof *v);
        }
        /* y <- c M^{-1} M^{-*} q, as in sigma_lanczos, for every lane */
        ms_solve(p, m, width, 1);
        for (size_t s = 0; s < active; s++) {
            ms_lane *ln = &m->lane[s];
            lz_state *ls = &ln->s;
            double complex *y = m->V + s * ld;
            if (ln->checking) {
                if (ln->want == MS_CONJ) {
                    memcpy(ln->cw, y, n * sizeof *y);
                    ms_check_solved(p, ln);
                }
                state[s] = !ms_check_done(ln) && ln->want == MS_PLAIN ? 4 : 5;
                if (state[s] == 4) memcpy(y, ln->cw, n * sizeof *y);
                else memset(y, 0, n * sizeof *y);
                continue;
            }
            if (p->exact) memcpy(ln->x1, y, n * sizeof *y);
            double ny = cblas_dznrm2((int)n, y, 1);
            state[s] = 0;
            if (!isfinite(ny) || ny == 0) {
                state[s] = 1; /* beyond the double range */
                memset(y, 0, n * sizeof *y);
                continue;
            }
            if (ls->k == 0) ls->scale = 1.0 / ny;
            f[s] = ny * ls->scale;
            for (size_t i = 0; i < n; i++) y[i] /= ny;
        }
        ms_solve(p, m, width, 0);
        for (size_t s = 0; s < active; s++) {
            ms_lane *ln = &m->lane[s];
            lz_state *ls = &ln->s;
            double complex *y = m->V + s * ld;
            if (ln->checking) {
                if (state[s] == 4) {
                    memcpy(ln->cw, y, n * sizeof *y);
                    ms_check_solved(p, ln);
                }
                state[s] = !ms_check_done(ln) ? 2 : ms_check_finish(j, m, t, s) ? 2 : 3;
                continue;
            }
            unsigned k = ls->k + 1;
            if (p->exact) memcpy(ln->x2, y, n * sizeof *y);
            if (state[s] == 0) {
                for (size_t i = 0; i < n; i++) y[i] *= f[s] * ls->scale;
                if (!isfinite(cblas_dznrm2((int)n, y, 1))) state[s] = 1;
            }
            if (state[s] == 1) {
                ls->k = k;
                state[s] = ms_finish(j, m, t, s, 0) ? 2 : 3;
                continue;
            }
            const double complex *q = ln->Q + (size_t)(k - 1) * ld;
            double complex a;
            cblas_zdotc_sub((int)n, q, 1, y, 1, &a);
            ln->alpha[k - 1] = creal(a);
            double b = lanczos_orthogonalise(ln->Q, n, ld, k, a, k > 1 ? ln->beta[k - 2] : 0, y, m->c);
            ls->k = k;
            int st = tridiag_top_ms(&m->tw, ln->alpha, ln->beta, k, &ls->theta, &ls->theta2, &ls->last);
            if (st) {
                ptd_pspec_point r = {0, 0, k};
                ms_record(j, t, ln->point, st, &r);
                state[s] = ms_fill(j, m, t, s, 0) ? 2 : 3;
                continue;
            }
            if (lz_stop(p, ls, k, b) || k == ls->maxit) {
                state[s] = ms_finish(j, m, t, s, 1) ? 2 : 3;
                continue;
            }
            ln->beta[k - 1] = b;
            double complex *qn = ln->Q + (size_t)k * ld;
            for (size_t i = 0; i < n; i++) qn[i] = y[i] / b;
        }
        /* the lanes that left: the last active lanes take their slots */
        for (size_t s = active; s-- > 0;)
            if (state[s] == 3) {
                if (s != active - 1) ms_move(m, n, s, active - 1);
                else
                    for (size_t i = 0; i < n; i++) m->rr[i * m->lanes + s] = m->ri[i * m->lanes + s] = 0;
                active--;
            }
    }
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

/* Evaluate sigma_min at count points z[] one at a time (the one-shift reference, or the
 * SVD) into sigma[] (and err[] when not NULL), on `threads` threads, each with its own
 * workspace.  Collects iteration statistics. */
static int eval_single(const ptd_pspec_plan *p, const ptd_pspec_opts *o, int threads,
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

/* The order chains are handed out in: the costly first, so that the last ones to finish are
 * short and no lane of a block idles long at the end.  Inverse Lanczos takes the most steps
 * far from the spectrum, where the smallest singular values cluster: a chain's cost is
 * estimated by the larger distance of its two ends to the nearest eigenvalue (it changes
 * when a chain runs, never what it computes). */
typedef struct {
    double cost;
    size_t chain;
} ms_rank;

static int ms_rank_cmp(const void *a, const void *b)
{
    const ms_rank *x = a, *y = b;
    if (x->cost != y->cost) return x->cost < y->cost ? 1 : -1;
    return x->chain < y->chain ? -1 : x->chain > y->chain;
}

static int ms_order(ms_job *j)
{
    const ptd_pspec_plan *p = j->p;
    ms_rank *r = malloc(j->nchains * sizeof *r);
    j->order = malloc(j->nchains * sizeof *j->order);
    if (!r || !j->order) {
        free(r);
        return ptd_error(PTD_ENOMEM, "out of memory (%zu chains)", j->nchains);
    }
    for (size_t c = 0; c < j->nchains; c++) {
        size_t first, end;
        ms_chain(j, c, &first, &end);
        double cost = 0;
        for (int e = 0; e < 2 && first < end; e++) {
            double complex z = j->z[e ? end - 1 : first];
            double d = INFINITY;
            for (size_t i = 0; i < p->n; i++) {
                double dx = creal(z) - creal(p->eig[i]), dy = cimag(z) - cimag(p->eig[i]);
                d = fmin(d, dx * dx + dy * dy);
            }
            cost = fmax(cost, d);
        }
        r[c] = (ms_rank){cost, c};
    }
    qsort(r, j->nchains, sizeof *r, ms_rank_cmp);
    for (size_t c = 0; c < j->nchains; c++) j->order[c] = r[c].chain;
    free(r);
    return PTD_OK;
}

/* Lanczos bases of one thread's lanes are held to this many bytes (fewer lanes when n or
 * maxit is large: the lane count changes no value). */
#define MS_BASIS_BYTES ((size_t)256 << 20)

/* The multi-shift evaluation of count points in rows of rowlen (a grid's nx), threads taking
 * chains of points (see ms_job).  The chain length depends on the points alone: on
 * seg_count, the number of points of the whole evaluation these rows belong to (a grid's
 * nx ny when only some of its rows are evaluated here, so that every row is cut into the
 * same chains whichever rows go with it: a chain never leaves its row, and a row's values
 * depend on nothing else). */
static int eval_multi(const ptd_pspec_plan *p, const ptd_pspec_opts *o, int threads, const double complex *z,
                      size_t count, size_t seg_count, size_t rowlen, double *sigma, double *err,
                      unsigned long *iters, unsigned *maxits, size_t *unconv)
{
    size_t n = p->n;
    unsigned cap = o && o->maxit ? o->maxit : default_maxit(n);
    if (cap > n) cap = (unsigned)n;
    if (cap > 1000) cap = 1000;
    size_t lanes = o && o->block ? o->block : MS_LANES;
    if (lanes > 1200) lanes = 1200;
    lanes = (lanes + MS_STEP - 1) / MS_STEP * MS_STEP;
    size_t per_lane = ((size_t)cap + 1) * p->ld * sizeof(double complex);
    while (lanes > MS_STEP && lanes * per_lane > MS_BASIS_BYTES) lanes -= MS_STEP;
    if (rowlen == 0 || rowlen > count) rowlen = count;
    ms_job j = {.p = p, .o = o, .z = z, .count = count, .rowlen = rowlen, .sigma = sigma, .err = err};
    /* chains long enough for warm starts to pay, and at least MS_CHAINS of them where there
     * are as many points, so that lanes do not wait at the end (a function of the points
     * alone: it decides the values) */
    j.seg = seg_count / MS_CHAINS;
    if (j.seg < 1) j.seg = 1;
    if (j.seg > rowlen) j.seg = rowlen;
    j.segs_per_row = (rowlen + j.seg - 1) / j.seg;
    j.nchains = (count + rowlen - 1) / rowlen * j.segs_per_row;
    /* and by default every lane a few chains (the lane count decides no value) */
    size_t per = j.nchains / (4 * (size_t)threads) / MS_STEP * MS_STEP;
    if (!(o && o->block) && lanes > per) lanes = per > MS_STEP ? per : MS_STEP;
    j.report_every = count / 200 + 1;
    int st = ms_order(&j);
    if (st) return st;
    ms_work **ws = calloc((size_t)threads, sizeof *ws);
    if (!ws) {
        free(j.order);
        return ptd_error(PTD_ENOMEM, "out of memory");
    }
    for (int t = 0; t < threads; t++)
        if (!(ws[t] = ms_work_alloc(p, lanes, cap))) {
            for (int s = 0; s < t; s++) ms_work_free(ws[s]);
            free(ws);
            free(j.order);
            return ptd_error(PTD_ENOMEM, "out of memory (multi-shift workspace for n = %zu, %zu lanes)", n, lanes);
        }
    int blas_old = ptd_blas_threads_single();
    unsigned long it_total = 0;
    unsigned it_max = 0;
    size_t nunconv = 0;
#pragma omp parallel num_threads(threads) reduction(+ : it_total, nunconv) reduction(max : it_max)
    {
        ms_stats t = {0, 0, 0, 1};
#ifdef _OPENMP
        ms_work *m = ws[omp_get_thread_num()];
        t.master = omp_get_thread_num() == 0;
#else
        ms_work *m = ws[0];
#endif
        ms_thread(&j, m, &t);
        it_total += t.it_total;
        nunconv += t.unconverged;
        if (t.it_max > it_max) it_max = t.it_max;
    }
    ptd_blas_threads_restore(blas_old);
    for (int t = 0; t < threads; t++) ms_work_free(ws[t]);
    free(ws);
    free(j.order);
    if (iters) *iters += it_total;
    if (maxits && it_max > *maxits) *maxits = it_max;
    if (unconv) *unconv += nunconv;
    if (o && o->progress) o->progress(o->progress_ctx, count, count);
    if (j.failure) return ptd_error(j.failure, "%s", j.failmsg);
    return PTD_OK;
}

/* Evaluate sigma_min at count points z[] (rows of rowlen: a grid's nx, or count; part of an
 * evaluation of seg_count points, see eval_multi) into sigma[] (and err[] when not NULL) on
 * `threads` threads, by the method of o. */
static int eval_points(const ptd_pspec_plan *p, const ptd_pspec_opts *o, int threads, const double complex *z,
                       size_t count, size_t seg_count, size_t rowlen, double *sigma, double *err,
                       unsigned long *iters, unsigned *maxits, size_t *unconv)
{
    if (count == 0) return PTD_OK;
    if (o && (!(o->tol >= 0) || o->tol >= 1))
        return ptd_error(PTD_EINVAL, "pspec: tol must be in [0, 1)");
    /* a rectangular plan's points each have their own triangular factor: no shared solves */
    if ((!o || o->method == PTD_PSPEC_LANCZOS) && p->k2) {
        ptd_pspec_opts single = o ? *o : (ptd_pspec_opts){0};
        single.method = PTD_PSPEC_LANCZOS_SINGLE;
        return eval_single(p, &single, threads, z, count, sigma, err, iters, maxits, unconv);
    }
    if (!o || o->method == PTD_PSPEC_LANCZOS)
        return eval_multi(p, o, threads, z, count, seg_count, rowlen, sigma, err, iters, maxits, unconv);
    if (o->method != PTD_PSPEC_SVD && o->method != PTD_PSPEC_LANCZOS_SINGLE)
        return ptd_error(PTD_EINVAL, "pspec: method must be lanczos, lanczos-single or svd");
    return eval_single(p, o, threads, z, count, sigma, err, iters, maxits, unconv);
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

static int check_grid(const ptd_box *box, size_t nx, size_t ny)
{
    int st = check_box(box);
    if (st) return st;
    if (nx < 2 || ny < 2 || nx > 100000 || ny > 100000 || nx * ny > 100000000)
        return ptd_error(PTD_EINVAL, "grid %zu x %zu: each side must be 2..100000, at most 1e8 points", nx, ny);
    return PTD_OK;
}

int ptd_pspec_grid_create(const ptd_box *box, size_t nx, size_t ny, ptd_pspec_grid **out)
{
    ptd_clear_error();
    *out = NULL;
    int st = check_grid(box, nx, ny);
    if (st) return st;
    ptd_pspec_grid *g = calloc(1, sizeof *g);
    if (g) {
        g->sigma = calloc(nx * ny, sizeof *g->sigma);
        g->err = calloc(nx * ny, sizeof *g->err);
    }
    if (!g || !g->sigma || !g->err) {
        ptd_pspec_grid_free(g);
        return ptd_error(PTD_ENOMEM, "out of memory (grid %zu x %zu)", nx, ny);
    }
    g->nx = nx;
    g->ny = ny;
    g->box = *box;
    *out = g;
    return PTD_OK;
}

int ptd_pspec_grid_rows(const ptd_pspec_plan *p, const ptd_box *box, size_t nx, size_t ny, size_t j0, size_t j1,
                        const ptd_pspec_opts *opts, double *sigma, double *err, ptd_pspec_grid_stats *stats)
{
    ptd_clear_error();
    int st = check_grid(box, nx, ny);
    if (st) return st;
    if (!(j0 < j1 && j1 <= ny) || !sigma || !err)
        return ptd_error(PTD_EINVAL, "grid rows %zu..%zu of %zu: need 0 <= first < end <= ny and two arrays", j0, j1, ny);
    size_t count = nx * (j1 - j0);
    double complex *z = malloc(count * sizeof *z);
    if (!z) return ptd_error(PTD_ENOMEM, "out of memory (grid rows %zu..%zu of %zu x %zu)", j0, j1, nx, ny);
    /* the points as ptd_pspec_grid_x / _y place them */
    ptd_pspec_grid g = {.nx = nx, .ny = ny, .box = *box};
    for (size_t j = j0; j < j1; j++)
        for (size_t i = 0; i < nx; i++) z[i + (j - j0) * nx] = CMPLX(ptd_pspec_grid_x(&g, i), ptd_pspec_grid_y(&g, j));
    unsigned long it = 0;
    unsigned itmax = 0;
    size_t unconv = 0;
    st = eval_points(p, opts, thread_count(opts), z, count, nx * ny, nx, sigma, err, &it, &itmax, &unconv);
    free(z);
    if (st) return st;
    if (stats) {
        stats->iterations += it;
        if (itmax > stats->max_iterations) stats->max_iterations = itmax;
        stats->unconverged += unconv;
    }
    ptd_clear_error(); /* unconverged points are counted, not errors */
    return PTD_OK;
}

int ptd_pspec_grid_compute(const ptd_pspec_plan *p, const ptd_box *box, size_t nx, size_t ny,
                           const ptd_pspec_opts *opts, ptd_pspec_grid **out)
{
    ptd_pspec_grid *g = NULL;
    int st = ptd_pspec_grid_create(box, nx, ny, &g);
    *out = NULL;
    if (st) return st;
    g->threads = thread_count(opts);
    ptd_pspec_grid_stats gs = {0, 0, 0};
    double t0 = wall_seconds();
    st = ptd_pspec_grid_rows(p, box, nx, ny, 0, ny, opts, g->sigma, g->err, &gs);
    g->seconds = wall_seconds() - t0;
    if (st) {
        ptd_pspec_grid_free(g);
        return st;
    }
    g->iterations = gs.iterations;
    g->max_iterations = gs.max_iterations;
    g->unconverged = gs.unconverged;
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

/* Whether a grid draws an eps-contour about the eigenvalue e: 0 yes, 2 e is outside the box,
 * 1 the bilinear interpolant of log10 sigma_min over the cell holding e lies above log10 eps
 * (the component is narrower than the spacing there). */
static int grid_misses(const ptd_pspec_grid *g, double eps, double complex e)
{
    size_t nx = g->nx, ny = g->ny;
    double hx = (g->box.xmax - g->box.xmin) / (double)(nx - 1), hy = (g->box.ymax - g->box.ymin) / (double)(ny - 1);
    double x = creal(e), y = cimag(e);
    if (!(x >= g->box.xmin && x <= g->box.xmax && y >= g->box.ymin && y <= g->box.ymax)) return 2;
    double fx = (x - g->box.xmin) / hx, fy = (y - g->box.ymin) / hy;
    size_t i = (size_t)fx, j = (size_t)fy;
    if (i > nx - 2) i = nx - 2;
    if (j > ny - 2) j = ny - 2;
    double tx = fmin(fmax(fx - (double)i, 0), 1), ty = fmin(fmax(fy - (double)j, 0), 1);
    double l[4];
    const size_t c[4] = {i + j * nx, i + 1 + j * nx, i + (j + 1) * nx, i + 1 + (j + 1) * nx};
    for (int t = 0; t < 4; t++) l[t] = log10(fmax(g->sigma[c[t]], DBL_TRUE_MIN));
    double v = (1 - tx) * (1 - ty) * l[0] + tx * (1 - ty) * l[1] + (1 - tx) * ty * l[2] + tx * ty * l[3];
    return v > log10(eps);
}

size_t ptd_pspec_grid_missed(const ptd_pspec_grid *g, double eps, const double complex *eig, size_t neig,
                             unsigned char *flags)
{
    size_t m = 0;
    for (size_t q = 0; q < neig; q++) {
        int f = g && eig && eps > 0 ? grid_misses(g, eps, eig[q]) : 0;
        if (flags) flags[q] = (unsigned char)f;
        m += f != 0;
    }
    return m;
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
        int m = grid_misses(g, eps, eig[q]);
        if (m == 2) {
            b.contained = 0;
            b.outside++;
        }
        b.missed += m != 0;
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
    double complex *H = ptdi_lapack_alloc(n, n, sizeof *H);
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
    lapack_int info = ptdi_zheev('N', 'U', n, H, n, ev);
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
    int st = eval_points(p, &quiet, threads, z, m, m, m, sig, NULL, NULL, NULL, NULL);
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
    /* (rectangular: sigma_min(zI~ - A) >= sigma_min(zI - A1), so Lambda_eps lies in A1's) */
    int st = hermitian_extremes(p->A1, 0, &enc.xmin, &enc.xmax);
    if (!st) st = hermitian_extremes(p->A1, 1, &enc.ymin, &enc.ymax);
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
    for (size_t k = 0; k < p->m * p->n && real; k++) real = cimag(p->A->data[k]) == 0;
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
