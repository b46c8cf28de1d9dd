/* tf.c - transfer functions G(s) = C (sI - A)^{-1} B and the strong and weak errors between
 * two systems.
 *
 * Dense systems are reduced once to Hessenberg form, A = Q H Q^*, so that each s costs one
 * Hessenberg solve: Gaussian elimination with partial pivoting touches only the subdiagonal,
 * O(n^2) instead of the O(n^3) of a fresh LU.  H is stored by rows (row i contiguous from
 * column i-1), so the row operations of the elimination and the back substitution run over
 * contiguous memory.
 *
 * HiPPO systems have a cheaper and better-conditioned form: A = A_N - P P^T with A_N normal,
 * whose eigenvectors are orthonormal, and the Woodbury formula.  The LegS resolvent itself is
 * exponentially ill-conditioned (kappa(V) ~ 5.8^n), yet G on the imaginary axis is of size 1:
 * the normal-plus-low-rank form computes it without that ill-conditioning.
 */
#include "config.h"
#include "internal.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_min.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define NPLR_MAX_RANK 4

struct ptd_tf {
    ptd_tf_kind kind;
    size_t n, r;
    /* dense: H by rows (Hr[i * n + j] = H(i, j)), bq = Q^* B, cq = C Q */
    double complex *Hr, *bq, *cq;
    /* diag and nplr: modes lambda, b~ = W^{-1} B, c~ = C W */
    double complex *lambda, *b, *c;
    /* nplr: pl = W^{-1} P (n x r, column-major), pr = P^T W (r x n, stored as pr[k * r + j]),
     * and W, W^{-1} themselves (for the S4D model) are not kept: b, c, lambda are all S4D needs */
    double complex *pl, *pr;
};

static ptd_tf *tf_new(ptd_tf_kind kind, size_t n)
{
    ptd_tf *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->kind = kind;
    t->n = n;
    return t;
}

void ptd_tf_free(ptd_tf *t)
{
    if (!t) return;
    free(t->Hr);
    free(t->bq);
    free(t->cq);
    free(t->lambda);
    free(t->b);
    free(t->c);
    free(t->pl);
    free(t->pr);
    free(t);
}

ptd_tf_kind ptd_tf_get_kind(const ptd_tf *t) { return t->kind; }
size_t ptd_tf_order(const ptd_tf *t) { return t->n; }

void ptd_tf_modes(const ptd_tf *t, const double complex **lambda, const double complex **b,
                  const double complex **c)
{
    if (lambda) *lambda = t->lambda;
    if (b) *b = t->kind == PTD_TF_DIAG ? t->b : NULL;
    if (c) *c = t->kind == PTD_TF_DIAG ? t->c : NULL;
}

/* B must be n x 1 and C 1 x n or n x 1. */
static int check_bc(const char *fn, size_t n, const ptd_matrix *B, const ptd_matrix *C)
{
    if (!B || B->rows != n || B->cols != 1)
        return ptd_error(PTD_EINVAL, "%s: B must be %zu x 1", fn, n);
    if (!C || !((C->rows == 1 && C->cols == n) || (C->rows == n && C->cols == 1)))
        return ptd_error(PTD_EINVAL, "%s: C must be 1 x %zu", fn, n);
    if (!ptd_matrix_is_finite(B) || !ptd_matrix_is_finite(C))
        return ptd_error(PTD_EINVAL, "%s: B and C must be finite", fn);
    return PTD_OK;
}

int ptd_tf_dense_create(const ptd_matrix *A, const ptd_matrix *B, const ptd_matrix *C, ptd_tf **out)
{
    ptd_clear_error();
    *out = NULL;
    if (!A || A->rows != A->cols) return ptd_error(PTD_EINVAL, "ptd_tf_dense_create: A must be square");
    size_t n = A->rows;
    int st = check_bc("ptd_tf_dense_create", n, B, C);
    if (st) return st;
    if (!ptd_matrix_is_finite(A)) return ptd_error(PTD_EINVAL, "ptd_tf_dense_create: A must be finite");
    ptd_tf *t = tf_new(PTD_TF_DENSE, n);
    double complex *H = malloc(n * n * sizeof *H), *tau = malloc((n > 1 ? n - 1 : 1) * sizeof *tau);
    if (t) {
        t->Hr = malloc(n * n * sizeof *t->Hr);
        t->bq = malloc(n * sizeof *t->bq);
        t->cq = malloc(n * sizeof *t->cq);
    }
    if (!t || !H || !tau || !t->Hr || !t->bq || !t->cq) {
        st = ptd_error(PTD_ENOMEM, "ptd_tf_dense_create: out of memory (n = %zu)", n);
        goto done;
    }
    memcpy(H, A->data, n * n * sizeof *H);
    memcpy(t->bq, B->data, n * sizeof *t->bq);
    memcpy(t->cq, C->data, n * sizeof *t->cq);
    lapack_int ln = (lapack_int)n;
    lapack_int info = LAPACKE_zgehrd(LAPACK_COL_MAJOR, ln, 1, ln, H, ln, tau);
    if ((st = ptd_lapack_status("zgehrd", (int)info))) goto done;
    /* bq = Q^* B (left, conjugate transpose); cq = C Q (a 1 x n row, right, no transpose) */
    info = LAPACKE_zunmhr(LAPACK_COL_MAJOR, 'L', 'C', ln, 1, 1, ln, H, ln, tau, t->bq, ln);
    if ((st = ptd_lapack_status("zunmhr", (int)info))) goto done;
    info = LAPACKE_zunmhr(LAPACK_COL_MAJOR, 'R', 'N', 1, ln, 1, ln, H, ln, tau, t->cq, 1);
    if ((st = ptd_lapack_status("zunmhr", (int)info))) goto done;
    /* rows of H; zgehrd leaves the reflectors below the subdiagonal: zeros there */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) t->Hr[i * n + j] = j + 1 >= i ? H[i + j * n] : 0;
done:
    free(H);
    free(tau);
    if (st) ptd_tf_free(t);
    else *out = t;
    return st;
}

int ptd_tf_diag_create(size_t n, const double complex *lambda, const double complex *b,
                       const double complex *c, ptd_tf **out)
{
    ptd_clear_error();
    *out = NULL;
    if (n == 0 || !lambda) return ptd_error(PTD_EINVAL, "ptd_tf_diag_create: need n >= 1 eigenvalues");
    ptd_tf *t = tf_new(PTD_TF_DIAG, n);
    if (t) {
        t->lambda = malloc(n * sizeof *t->lambda);
        t->b = malloc(n * sizeof *t->b);
        t->c = malloc(n * sizeof *t->c);
    }
    if (!t || !t->lambda || !t->b || !t->c) {
        ptd_tf_free(t);
        return ptd_error(PTD_ENOMEM, "ptd_tf_diag_create: out of memory (n = %zu)", n);
    }
    for (size_t k = 0; k < n; k++) {
        t->lambda[k] = lambda[k];
        t->b[k] = b ? b[k] : 1;
        t->c[k] = c ? c[k] : 1;
        if (!isfinite(creal(t->lambda[k]) + cimag(t->lambda[k]) + creal(t->b[k]) + cimag(t->b[k]) +
                      creal(t->c[k]) + cimag(t->c[k]))) {
            ptd_tf_free(t);
            return ptd_error(PTD_EINVAL, "ptd_tf_diag_create: mode %zu is not finite", k);
        }
    }
    *out = t;
    return PTD_OK;
}

/* Solve the r x r system M x = y in place (partial pivoting); r <= NPLR_MAX_RANK. */
static void small_solve(size_t r, double complex *M, double complex *y)
{
    for (size_t k = 0; k < r; k++) {
        size_t p = k;
        for (size_t i = k + 1; i < r; i++)
            if (cabs(M[i + k * r]) > cabs(M[p + k * r])) p = i;
        if (p != k) {
            for (size_t j = 0; j < r; j++) {
                double complex tmp = M[k + j * r];
                M[k + j * r] = M[p + j * r];
                M[p + j * r] = tmp;
            }
            double complex tmp = y[k];
            y[k] = y[p];
            y[p] = tmp;
        }
        for (size_t i = k + 1; i < r; i++) {
            double complex m = M[i + k * r] / M[k + k * r];
            for (size_t j = k; j < r; j++) M[i + j * r] -= m * M[k + j * r];
            y[i] -= m * y[k];
        }
    }
    for (size_t k = r; k-- > 0;) {
        double complex s = y[k];
        for (size_t j = k + 1; j < r; j++) s -= M[k + j * r] * y[j];
        y[k] = s / M[k + k * r];
    }
}

int ptd_tf_nplr_create(const ptd_matrix *A, const ptd_matrix *P, const ptd_matrix *B, const ptd_matrix *C,
                       ptd_tf **out)
{
    ptd_clear_error();
    *out = NULL;
    if (!A || A->rows != A->cols) return ptd_error(PTD_EINVAL, "ptd_tf_nplr_create: A must be square");
    size_t n = A->rows;
    int st = check_bc("ptd_tf_nplr_create", n, B, C);
    if (st) return st;
    if (!P || P->rows != n || P->cols < 1 || P->cols > NPLR_MAX_RANK)
        return ptd_error(PTD_EINVAL, "ptd_tf_nplr_create: P must be %zu x r with 1 <= r <= %d", n, NPLR_MAX_RANK);
    size_t r = P->cols;
    ptd_tf *t = tf_new(PTD_TF_NPLR, n);
    double complex *AN = malloc(n * n * sizeof *AN), *W = ptdi_lapack_alloc(n, n, sizeof *W),
                   *Wi = malloc(n * n * sizeof *Wi);
    double *ev = malloc(n * sizeof *ev);
    lapack_int *ipiv = malloc(n * sizeof *ipiv);
    if (t) {
        t->r = r;
        t->lambda = malloc(n * sizeof *t->lambda);
        t->b = malloc(n * sizeof *t->b);
        t->c = malloc(n * sizeof *t->c);
        t->pl = malloc(n * r * sizeof *t->pl);
        t->pr = malloc(n * r * sizeof *t->pr);
    }
    if (!t || !AN || !W || !Wi || !ev || !ipiv || !t->lambda || !t->b || !t->c || !t->pl || !t->pr) {
        st = ptd_error(PTD_ENOMEM, "ptd_tf_nplr_create: out of memory (n = %zu)", n);
        goto done;
    }
    /* A_N = A + P P^T */
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) {
            double complex v = A->data[i + j * n];
            for (size_t q = 0; q < r; q++) v += P->data[i + q * n] * P->data[j + q * n];
            AN[i + j * n] = v;
        }
    /* normality: ||A_N A_N^* - A_N^* A_N||_F relative to ||A_N||_F^2 */
    double nf = 0, comm = 0, herm_off = 0, cmean = 0;
    for (size_t k = 0; k < n * n; k++) nf += creal(AN[k] * conj(AN[k]));
    for (size_t i = 0; i < n; i++) cmean += creal(AN[i + i * n]) / (double)n;
    {
        /* [A_N, A_N^*] by two products (zgemm), the Hermitian part's distance from cmean I */
        double complex *X = malloc(n * n * sizeof *X), *Y = malloc(n * n * sizeof *Y);
        if (!X || !Y) {
            free(X);
            free(Y);
            st = ptd_error(PTD_ENOMEM, "ptd_tf_nplr_create: out of memory (n = %zu)", n);
            goto done;
        }
        const double complex one = 1, zero = 0;
        cblas_zgemm(CblasColMajor, CblasNoTrans, CblasConjTrans, (int)n, (int)n, (int)n, &one, AN, (int)n, AN, (int)n,
                    &zero, X, (int)n);
        cblas_zgemm(CblasColMajor, CblasConjTrans, CblasNoTrans, (int)n, (int)n, (int)n, &one, AN, (int)n, AN, (int)n,
                    &zero, Y, (int)n);
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) {
                double complex d = X[i + j * n] - Y[i + j * n];
                comm += creal(d * conj(d));
                double complex h = 0.5 * (AN[i + j * n] + conj(AN[j + i * n])) - (i == j ? cmean : 0);
                herm_off += creal(h * conj(h));
            }
        free(X);
        free(Y);
    }
    if (!(sqrt(comm) <= 1e3 * (double)n * PTD_U * nf)) {
        st = ptd_error(PTD_EINVAL, "ptd_tf_nplr_create: A + P P^T is not normal (||[A_N, A_N^*]||_F / ||A_N||_F^2 = %.3g)",
                       sqrt(comm) / nf);
        goto done;
    }
    lapack_int ln = (lapack_int)n, info;
    if (sqrt(herm_off) <= 1e3 * (double)n * PTD_U * sqrt(nf)) {
        /* A_N = cI + K, K skew-Hermitian: -i K is Hermitian, its eigenvectors are exactly
         * orthonormal to rounding, W^{-1} = W^* */
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) {
                double complex k = AN[i + j * n] - (i == j ? cmean : 0);
                double complex kh = -I * 0.5 * (k - conj(AN[j + i * n] - (i == j ? cmean : 0)));
                W[i + j * n] = kh;
            }
        info = ptdi_zheevd('V', 'L', n, W, n, ev);
        if ((st = ptd_lapack_status("zheevd", (int)info))) goto done;
        for (size_t k = 0; k < n; k++) t->lambda[k] = CMPLX(cmean, ev[k]);
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) Wi[j + i * n] = conj(W[i + j * n]);
    } else {
        double complex *Acp = malloc(n * n * sizeof *Acp);
        if (!Acp) {
            st = ptd_error(PTD_ENOMEM, "ptd_tf_nplr_create: out of memory (n = %zu)", n);
            goto done;
        }
        memcpy(Acp, AN, n * n * sizeof *Acp);
        info = LAPACKE_zgeev(LAPACK_COL_MAJOR, 'N', 'V', ln, Acp, ln, t->lambda, NULL, 1, W, ln);
        free(Acp);
        if ((st = ptd_lapack_status("zgeev", (int)info))) goto done;
        /* W^{-1} by one LU */
        memcpy(AN, W, n * n * sizeof *AN);
        for (size_t k = 0; k < n * n; k++) Wi[k] = 0;
        for (size_t k = 0; k < n; k++) Wi[k + k * n] = 1;
        info = LAPACKE_zgesv(LAPACK_COL_MAJOR, ln, ln, AN, ln, ipiv, Wi, ln);
        if ((st = ptd_lapack_status("zgesv", (int)info))) goto done;
    }
    /* b~ = W^{-1} B, pl = W^{-1} P, c~ = C W, pr = P^T W */
    for (size_t i = 0; i < n; i++) {
        double complex sb = 0, sc = 0;
        for (size_t k = 0; k < n; k++) {
            sb += Wi[i + k * n] * B->data[k];
            sc += C->data[k] * W[k + i * n];
        }
        t->b[i] = sb;
        t->c[i] = sc;
        for (size_t q = 0; q < r; q++) {
            double complex a = 0, d = 0;
            for (size_t k = 0; k < n; k++) {
                a += Wi[i + k * n] * P->data[k + q * n];
                d += P->data[k + q * n] * W[k + i * n];
            }
            t->pl[i + q * n] = a;
            t->pr[i * r + q] = d;
        }
    }
done:
    free(AN);
    free(W);
    free(Wi);
    free(ev);
    free(ipiv);
    if (st) ptd_tf_free(t);
    else *out = t;
    return st;
}

int ptd_tf_s4d_create(const ptd_tf *nplr, ptd_tf **out)
{
    ptd_clear_error();
    *out = NULL;
    if (!nplr || nplr->kind != PTD_TF_NPLR)
        return ptd_error(PTD_EINVAL, "ptd_tf_s4d_create: needs a normal-plus-low-rank system");
    return ptd_tf_diag_create(nplr->n, nplr->lambda, nplr->b, nplr->c, out);
}

/* c^T (sI - H)^{-1} b for the dense form; W is n x n scratch (rows of U), cur n scratch. */
static double complex eval_dense(const ptd_tf *t, double complex s, double complex *U, double complex *cur,
                                 double complex *y)
{
    size_t n = t->n;
    const double complex *Hr = t->Hr;
    /* row 0 of M = sI - H */
    for (size_t j = 0; j < n; j++) cur[j] = -Hr[j];
    cur[0] += s;
    double complex rc = t->bq[0];
    for (size_t k = 0; k + 1 < n; k++) {
        const double complex *h = Hr + (k + 1) * n; /* row k+1 of H: nonzero from column k */
        double complex *u = U + k * n;
        double complex fk = -h[k]; /* M(k+1, k) */
        double complex rn = t->bq[k + 1];
        if (cabs(fk) > cabs(cur[k])) {
            /* pivot on the fresh row: U row k = M row k+1, new cur = cur - m M row k+1 */
            double complex m = cur[k] / fk;
            for (size_t j = k; j < n; j++) {
                double complex mv = (j == k + 1 ? s : 0) - h[j];
                u[j] = mv;
                cur[j] -= m * mv;
            }
            y[k] = rn;
            rc -= m * rn;
        } else {
            double complex m = cur[k] != 0 ? fk / cur[k] : 0;
            for (size_t j = k; j < n; j++) {
                double complex mv = (j == k + 1 ? s : 0) - h[j];
                u[j] = cur[j];
                cur[j] = mv - m * cur[j];
            }
            y[k] = rc;
            rc = rn - m * rc;
        }
    }
    U[(n - 1) * n + (n - 1)] = cur[n - 1];
    y[n - 1] = rc;
    /* back substitution, x over y, then c^T x */
    double complex g = 0;
    for (size_t k = n; k-- > 0;) {
        const double complex *u = U + k * n;
        double complex v = y[k];
        for (size_t j = k + 1; j < n; j++) v -= u[j] * y[j];
        y[k] = v / u[k];
        g += t->cq[k] * y[k];
    }
    return g;
}

/* 1/z without the library's careful complex division (__divdc3, scaled against overflow):
 * z = s - lambda here is of moderate size, and this is the inner loop of every evaluation. */
static inline double complex recip(double complex z)
{
    double a = creal(z), b = cimag(z), m = a * a + b * b;
    return CMPLX(a / m, -b / m);
}

static double complex eval_diag(const ptd_tf *t, double complex s)
{
    double complex g = 0;
    for (size_t k = 0; k < t->n; k++) g += t->c[k] * t->b[k] * recip(s - t->lambda[k]);
    return g;
}

static double complex eval_nplr(const ptd_tf *t, double complex s)
{
    size_t n = t->n, r = t->r;
    if (r == 1) {
        /* the HiPPO case (LegS, LagT, FouT): scalars only */
        double complex crb = 0, crp = 0, prb = 0, prp = 1;
        for (size_t k = 0; k < n; k++) {
            double complex d = recip(s - t->lambda[k]), cd = t->c[k] * d, pd = t->pr[k] * d;
            crb += cd * t->b[k];
            crp += cd * t->pl[k];
            prb += pd * t->b[k];
            prp += pd * t->pl[k];
        }
        return crb - crp * prb / prp;
    }
    double complex crb = 0, crp[NPLR_MAX_RANK] = {0}, prb[NPLR_MAX_RANK] = {0},
                   M[NPLR_MAX_RANK * NPLR_MAX_RANK] = {0};
    for (size_t q = 0; q < r; q++) M[q + q * r] = 1;
    for (size_t k = 0; k < n; k++) {
        double complex d = recip(s - t->lambda[k]);
        double complex cd = t->c[k] * d;
        crb += cd * t->b[k];
        for (size_t q = 0; q < r; q++) {
            double complex prd = t->pr[k * r + q] * d;
            crp[q] += cd * t->pl[k + q * n];
            prb[q] += prd * t->b[k];
            for (size_t q2 = 0; q2 < r; q2++) M[q + q2 * r] += prd * t->pl[k + q2 * n];
        }
    }
    small_solve(r, M, prb);
    for (size_t q = 0; q < r; q++) crb -= crp[q] * prb[q];
    return crb;
}

double complex ptd_tf_eval1(const ptd_tf *t, double complex s)
{
    double complex g = NAN;
    ptd_tf_eval(t, &s, 1, &g);
    return g;
}

int ptd_tf_eval(const ptd_tf *t, const double complex *s, size_t m, double complex *G)
{
    if (t->kind != PTD_TF_DENSE) {
        int par = m * t->n >= 200000;
        (void)par;
#pragma omp parallel for schedule(static) if (par)
        for (size_t k = 0; k < m; k++) G[k] = t->kind == PTD_TF_DIAG ? eval_diag(t, s[k]) : eval_nplr(t, s[k]);
        return PTD_OK;
    }
    size_t n = t->n;
    int par = m >= 8 && n >= 32, status = PTD_OK, old = 0;
    if (par) old = ptd_blas_threads_single();
#pragma omp parallel if (par)
    {
        double complex *U = malloc(n * n * sizeof *U), *cur = malloc(n * sizeof *cur), *y = malloc(n * sizeof *y);
        if (!U || !cur || !y) {
#pragma omp critical
            status = PTD_ENOMEM;
        }
#pragma omp for schedule(dynamic, 4)
        for (size_t k = 0; k < m; k++) G[k] = (U && cur && y) ? eval_dense(t, s[k], U, cur, y) : NAN;
        free(U);
        free(cur);
        free(y);
    }
    if (par) ptd_blas_threads_restore(old);
    if (status) return ptd_error(status, "ptd_tf_eval: out of memory (n = %zu)", n);
    return PTD_OK;
}

int ptd_tf_eval_lu(const ptd_matrix *A, const ptd_matrix *B, const ptd_matrix *C, const double complex *s,
                   size_t m, double complex *G)
{
    ptd_clear_error();
    if (!A || A->rows != A->cols) return ptd_error(PTD_EINVAL, "ptd_tf_eval_lu: A must be square");
    size_t n = A->rows;
    int st = check_bc("ptd_tf_eval_lu", n, B, C);
    if (st) return st;
    double complex *M = malloc(n * n * sizeof *M), *x = malloc(n * sizeof *x);
    lapack_int *ipiv = malloc(n * sizeof *ipiv);
    if (!M || !x || !ipiv) st = ptd_error(PTD_ENOMEM, "ptd_tf_eval_lu: out of memory (n = %zu)", n);
    for (size_t k = 0; k < m && !st; k++) {
        for (size_t q = 0; q < n * n; q++) M[q] = -A->data[q];
        for (size_t i = 0; i < n; i++) M[i + i * n] += s[k];
        memcpy(x, B->data, n * sizeof *x);
        lapack_int info = LAPACKE_zgesv(LAPACK_COL_MAJOR, (lapack_int)n, 1, M, (lapack_int)n, ipiv, x, (lapack_int)n);
        if (info > 0) {
            G[k] = NAN;
            continue;
        }
        if ((st = ptd_lapack_status("zgesv", (int)info))) break;
        double complex g = 0;
        for (size_t i = 0; i < n; i++) g += C->data[i] * x[i];
        G[k] = g;
    }
    free(M);
    free(x);
    free(ipiv);
    return st;
}

double complex ptd_tf_legs_closed(size_t n, const double complex *c, double complex s)
{
    /* x_0 = 1/(s+1); x_k = x_{k-1} (p_k/p_{k-1}) (s - (k-1))/(s + k + 1) */
    double complex x = 1 / (s + 1), g = (c ? c[0] : 1) * x;
    for (size_t k = 1; k < n; k++) {
        x *= sqrt((2.0 * (double)k + 1) / (2.0 * (double)k - 1)) * (s - (double)(k - 1)) / (s + (double)(k + 1));
        g += (c ? c[k] : 1) * x;
    }
    /* the p_0 = 1 factor is in x_0; x carries p_k / p_0 */
    return g;
}

/* ---------------------------------------------------------------------------------------- */
/* strong error: the sup of |G1 - G2| on the imaginary axis                                  */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    ptd_tf_absfn f;
    void *ctx;
    double sign; /* the grid side, for refinement in log coordinates */
    int logx;
    size_t *evals;
    double best, bestw;
} search_ctx;

static double at(search_ctx *c, double w)
{
    double v = c->f(c->ctx, w);
    (*c->evals)++;
    if (!isfinite(v)) v = INFINITY;
    if (v > c->best || (isnan(c->best))) c->best = v, c->bestw = w;
    return v;
}

static double neg_f(double x, void *p)
{
    search_ctx *c = p;
    double w = c->logx ? c->sign * exp(x) : x;
    double v = at(c, w);
    return isfinite(v) ? -v : -DBL_MAX;
}

/* Brent in [a, b] from m with f(m) above f(a), f(b) (in the coordinate of c). */
static void refine(search_ctx *c, gsl_min_fminimizer *mz, double a, double m, double b, double fa, double fm,
                   double fb)
{
    if (!(fm > fa && fm > fb)) return;
    gsl_function F = {neg_f, c};
    if (gsl_min_fminimizer_set_with_values(mz, &F, m, -fm, a, -fa, b, -fb) != GSL_SUCCESS) return;
    for (int it = 0; it < 100; it++) {
        if (gsl_min_fminimizer_iterate(mz) != GSL_SUCCESS) break;
        double lo = gsl_min_fminimizer_x_lower(mz), hi = gsl_min_fminimizer_x_upper(mz);
        if (gsl_min_test_interval(lo, hi, 1e-14, 1e-12) == GSL_SUCCESS) break;
    }
}

int ptd_tf_sup_search(ptd_tf_absfn f, void *ctx, double w0, double w1, size_t grid,
                      const double complex *seeds, size_t nseeds, ptd_tf_sup *res)
{
    ptd_clear_error();
    if (!(w0 > 0) || !(w1 > w0) || !isfinite(w1))
        return ptd_error(PTD_EINVAL, "ptd_tf_sup_search: need 0 < w0 < w1 < inf (got %g, %g)", w0, w1);
    if (grid == 0) grid = 2000;
    if (grid < 3) return ptd_error(PTD_EINVAL, "ptd_tf_sup_search: grid must be >= 3");
    size_t evals = 0, refined = 0;
    search_ctx c = {.f = f, .ctx = ctx, .evals = &evals, .best = -INFINITY, .bestw = 0};
    double *x = malloc(grid * sizeof *x), *v = malloc(2 * grid * sizeof *v);
    gsl_min_fminimizer *mz = gsl_min_fminimizer_alloc(gsl_min_fminimizer_brent);
    if (!x || !v || !mz) {
        free(x);
        free(v);
        if (mz) gsl_min_fminimizer_free(mz);
        return ptd_error(PTD_ENOMEM, "ptd_tf_sup_search: out of memory");
    }
    at(&c, 0);
    double l0 = log(w0), l1 = log(w1);
    for (int side = 0; side < 2; side++) {
        c.sign = side ? -1 : 1;
        c.logx = 1;
        for (size_t i = 0; i < grid; i++) {
            x[i] = l0 + (l1 - l0) * (double)i / (double)(grid - 1);
            v[side * grid + i] = at(&c, c.sign * exp(x[i]));
        }
    }
    res->grid_value = c.best;
    res->grid_w = c.bestw;
    /* refine every local maximum of the grid */
    for (int side = 0; side < 2; side++) {
        const double *vs = v + side * grid;
        c.sign = side ? -1 : 1;
        c.logx = 1;
        for (size_t i = 1; i + 1 < grid; i++)
            if (vs[i] > vs[i - 1] && vs[i] >= vs[i + 1] && isfinite(vs[i])) {
                refine(&c, mz, x[i - 1], x[i], x[i + 1], vs[i - 1], vs[i], vs[i + 1]);
                refined++;
            }
    }
    /* the seeds: narrow peaks at the poles.  Each is sampled at 17 points first; then the
     * samples' maxima are refined from the highest down, skipping those below half the best
     * value so far: a peak of half-width |Re lambda| sampled every |Re lambda|/2 shows at least
     * 0.8 of its height in the samples, so a skipped one cannot hold the sup. */
    c.logx = 0;
    double *sx = malloc(3 * (nseeds ? nseeds : 1) * sizeof *sx), *sv = malloc(3 * (nseeds ? nseeds : 1) * sizeof *sv);
    size_t *order = malloc((nseeds ? nseeds : 1) * sizeof *order);
    if (!sx || !sv || !order) {
        free(sx);
        free(sv);
        free(order);
        free(x);
        free(v);
        gsl_min_fminimizer_free(mz);
        return ptd_error(PTD_ENOMEM, "ptd_tf_sup_search: out of memory");
    }
    size_t ns = 0;
    for (size_t k = 0; k < nseeds; k++) {
        double wi = cimag(seeds[k]), h = 4 * fmax(fabs(creal(seeds[k])), 1e-12 * fabs(wi));
        if (!isfinite(wi) || !isfinite(h) || fabs(wi) > w1 + h) continue;
        double xs[17], vs[17];
        size_t ib = 0;
        for (int j = 0; j < 17; j++) {
            xs[j] = wi - h + 2 * h * j / 16.0;
            vs[j] = at(&c, xs[j]);
            if (vs[j] > vs[ib]) ib = (size_t)j;
        }
        if (ib > 0 && ib < 16) {
            for (int j = 0; j < 3; j++) sx[3 * ns + j] = xs[ib - 1 + j], sv[3 * ns + j] = vs[ib - 1 + j];
            order[ns] = ns;
            ns++;
        }
    }
    /* highest first (insertion sort on the middle values; ns is at most the order of the systems) */
    for (size_t i = 1; i < ns; i++) {
        size_t o = order[i], j = i;
        while (j > 0 && sv[3 * order[j - 1] + 1] < sv[3 * o + 1]) order[j] = order[j - 1], j--;
        order[j] = o;
    }
    for (size_t i = 0; i < ns; i++) {
        size_t o = order[i];
        if (sv[3 * o + 1] < 0.5 * c.best) break;
        refine(&c, mz, sx[3 * o], sx[3 * o + 1], sx[3 * o + 2], sv[3 * o], sv[3 * o + 1], sv[3 * o + 2]);
        refined++;
    }
    free(sx);
    free(sv);
    free(order);
    res->value = c.best;
    res->w = c.bestw;
    res->evaluations = evals;
    res->refined = refined;
    free(x);
    free(v);
    gsl_min_fminimizer_free(mz);
    if (!isfinite(res->value)) return ptd_error(PTD_ERANGE, "ptd_tf_sup_search: unbounded at w = %g", res->w);
    return PTD_OK;
}

typedef struct {
    const ptd_tf *t1, *t2;
} pair;

static double diff_abs(void *p, double w)
{
    const pair *q = p;
    return cabs(ptd_tf_eval1(q->t1, CMPLX(0, w)) - ptd_tf_eval1(q->t2, CMPLX(0, w)));
}

static int cmp_imag(const void *a, const void *b)
{
    double x = cimag(*(const double complex *)a), y = cimag(*(const double complex *)b);
    return (x > y) - (x < y);
}

/* The poles of the diag and nplr systems of the pair, sorted by imaginary part, a pole that
 * both hold (S4D against its own full system) kept once; a malloc'd array. */
static double complex *pair_poles(const ptd_tf *t1, const ptd_tf *t2, size_t *np)
{
    size_t n = (t1->lambda ? t1->n : 0) + (t2->lambda ? t2->n : 0);
    double complex *p = malloc((n ? n : 1) * sizeof *p);
    *np = 0;
    if (!p) return NULL;
    size_t k = 0;
    if (t1->lambda) memcpy(p, t1->lambda, t1->n * sizeof *p), k = t1->n;
    if (t2->lambda) memcpy(p + k, t2->lambda, t2->n * sizeof *p);
    qsort(p, n, sizeof *p, cmp_imag);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int dup = 0;
        for (size_t j = m; j-- > 0 && cimag(p[i]) - cimag(p[j]) <= 1e-12 * fabs(cimag(p[i]));)
            if (cabs(p[i] - p[j]) <= 1e-12 * cabs(p[i])) dup = 1;
        if (!dup) p[m++] = p[i];
    }
    *np = m;
    return p;
}

int ptd_tf_strong_error(const ptd_tf *t1, const ptd_tf *t2, double w0, double w1, size_t grid,
                        ptd_tf_sup *res)
{
    ptd_clear_error();
    if (t1->n == 0 || t2->n == 0) return ptd_error(PTD_EINVAL, "ptd_tf_strong_error: empty system");
    size_t np;
    double complex *poles = pair_poles(t1, t2, &np);
    if (!poles) return ptd_error(PTD_ENOMEM, "ptd_tf_strong_error: out of memory");
    pair q = {t1, t2};
    int st = ptd_tf_sup_search(diff_abs, &q, w0, w1, grid, poles, np, res);
    free(poles);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* weak error: Parseval                                                                      */
/* ---------------------------------------------------------------------------------------- */

double ptd_tf_input_energy(ptd_tf_input u, double w)
{
    switch (u) {
    case PTD_INPUT_IMPULSE: return 1;
    case PTD_INPUT_EXP: return 1 / (1 + w * w);
    case PTD_INPUT_GAUSS: return 2 * M_PI * exp(-w * w);
    case PTD_INPUT_STEP: {
        if (fabs(w) < 1e-4) return 1 - w * w / 12; /* 4 sin^2(w/2)/w^2 near 0 */
        double s = sin(w / 2);
        return 4 * s * s / (w * w);
    }
    }
    return NAN;
}

static const char *input_names[] = {"impulse", "exp", "gauss", "step"};

int ptd_tf_input_parse(const char *name)
{
    for (int k = 0; k < 4; k++)
        if (strcmp(name, input_names[k]) == 0) return k;
    return -1;
}

const char *ptd_tf_input_name(ptd_tf_input u) { return (unsigned)u < 4 ? input_names[u] : "?"; }

typedef struct {
    const ptd_tf *t1, *t2;
    ptd_tf_input u;
} weak_ctx;

static double weak_integrand(double w, void *p)
{
    const weak_ctx *q = p;
    double e = ptd_tf_input_energy(q->u, w);
    if (e == 0) return 0;
    double complex d = ptd_tf_eval1(q->t1, CMPLX(0, w)) - ptd_tf_eval1(q->t2, CMPLX(0, w));
    double a = cabs(d);
    return a * a * e;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int ptd_tf_weak_error(const ptd_tf *t1, const ptd_tf *t2, ptd_tf_input u, double *err, double *abserr)
{
    ptd_clear_error();
    if ((unsigned)u > PTD_INPUT_STEP) return ptd_error(PTD_EINVAL, "ptd_tf_weak_error: unknown input %d", (int)u);
    size_t np;
    double complex *poles = pair_poles(t1, t2, &np);
    double *br = malloc((np + 2) * sizeof *br);
    gsl_integration_workspace *ws = gsl_integration_workspace_alloc(1000);
    int st = PTD_OK;
    if (!poles || !br || !ws) {
        st = ptd_error(PTD_ENOMEM, "ptd_tf_weak_error: out of memory");
        goto done;
    }
    /* breakpoints: the poles' frequencies, sorted and merged within 0.25, and 0 */
    size_t nb = 0;
    for (size_t k = 0; k < np; k++)
        if (isfinite(cimag(poles[k]))) br[nb++] = cimag(poles[k]);
    br[nb++] = 0;
    qsort(br, nb, sizeof *br, cmp_double);
    size_t m = 1;
    for (size_t k = 1; k < nb; k++)
        if (br[k] - br[m - 1] > 0.25) br[m++] = br[k];
    nb = m;
    /* the integrand decays fast for gauss: no point splitting far out */
    weak_ctx q = {t1, t2, u};
    gsl_function F = {weak_integrand, &q};
    double total = 0, toterr = 0;
    int bad = 0;
    /* one 21-point Kronrod rule per piece gives the size of the whole, then each piece is
     * refined (qags) only until its share of the tolerance, 1e-8 of the whole per piece:
     * thousands of pieces far out on the axis carry almost nothing */
    double *qr = malloc(nb * sizeof *qr), *qe = malloc(nb * sizeof *qe);
    if (!qr || !qe) {
        free(qr);
        free(qe);
        st = ptd_error(PTD_ENOMEM, "ptd_tf_weak_error: out of memory");
        goto done;
    }
    double rough = 0;
    for (size_t k = 0; k + 1 < nb; k++) {
        double ra, rs;
        qr[k] = qe[k] = 0;
        if (u == PTD_INPUT_GAUSS && fmin(fabs(br[k]), fabs(br[k + 1])) > 40 && br[k] * br[k + 1] > 0)
            continue; /* 2 pi e^{-1600}: zero in double */
        gsl_integration_qk21(&F, br[k], br[k + 1], &qr[k], &qe[k], &ra, &rs);
        rough += qr[k];
    }
    double piece_tol = 1e-8 * rough / (double)(nb > 1 ? nb - 1 : 1);
    for (size_t k = 0; k + 1 < nb; k++) {
        double r = qr[k], e = qe[k];
        if (e > piece_tol && e > 1e-7 * fabs(r)) {
            int s = gsl_integration_qags(&F, br[k], br[k + 1], piece_tol, 1e-7, 1000, ws, &r, &e);
            if (s && s != GSL_EROUND) bad = s;
        }
        total += r;
        toterr += e;
    }
    free(qr);
    free(qe);
    for (int side = 0; side < 2; side++) {
        double r, e;
        int s = side ? gsl_integration_qagil(&F, br[0], 1e-300, 1e-8, 1000, ws, &r, &e)
                     : gsl_integration_qagiu(&F, br[nb - 1], 1e-300, 1e-8, 1000, ws, &r, &e);
        if (s && s != GSL_EROUND) bad = s;
        total += r;
        toterr += e;
    }
    *err = sqrt(total / (2 * M_PI));
    if (abserr) *abserr = *err > 0 ? toterr / (2 * M_PI) / (2 * *err) : sqrt(toterr / (2 * M_PI));
    if (bad && toterr > 1e-6 * total)
        st = ptd_error(PTD_ENOCONV, "ptd_tf_weak_error: quadrature did not converge (%s; relative error %.2g)",
                       gsl_strerror(bad), toterr / total);
done:
    free(poles);
    free(br);
    if (ws) gsl_integration_workspace_free(ws);
    return st;
}
