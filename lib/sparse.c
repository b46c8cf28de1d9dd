/* sparse.c - large sparse matrices: CSR storage (read by lib/mmio.c), the convection-diffusion
 * test operator, Arnoldi with full reorthogonalisation (the rectangular Hessenberg whose
 * pseudospectra lie inside A's, see ptd_pspec_plan_create), and sigma_min(zI - A) by a sparse
 * LU factorization (UMFPACK) and inverse Lanczos: the reference the projection is checked
 * against (docs/mathematics.md section 2, "Large sparse matrices"). */
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
#include <suitesparse/umfpack.h>

void ptd_csr_free(ptd_csr *A)
{
    if (!A) return;
    free(A->rowptr);
    free(A->colind);
    free(A->val);
    free(A);
}

/* An empty rows x cols CSR with room for nnz entries; NULL when out of memory. */
static ptd_csr *csr_alloc(size_t rows, size_t cols, size_t nnz)
{
    ptd_csr *A = calloc(1, sizeof *A);
    if (!A) return NULL;
    A->rows = rows;
    A->cols = cols;
    A->rowptr = calloc(rows + 1, sizeof *A->rowptr);
    A->colind = malloc((nnz + 1) * sizeof *A->colind);
    A->val = malloc((nnz + 1) * sizeof *A->val);
    if (!A->rowptr || !A->colind || !A->val) {
        ptd_csr_free(A);
        return NULL;
    }
    return A;
}

int ptd_csr_from_dense(const ptd_matrix *M, ptd_csr **out)
{
    ptd_clear_error();
    *out = NULL;
    if (!M || !M->rows || !M->cols) return ptd_error(PTD_EINVAL, "csr: an empty matrix");
    size_t nnz = 0;
    for (size_t k = 0; k < M->rows * M->cols; k++) nnz += M->data[k] != 0;
    ptd_csr *A = csr_alloc(M->rows, M->cols, nnz);
    if (!A) return ptd_error(PTD_ENOMEM, "csr: out of memory (%zu entries)", nnz);
    for (size_t i = 0; i < M->rows; i++) {
        for (size_t j = 0; j < M->cols; j++)
            if (PTD_AT(M, i, j) != 0) {
                A->colind[A->nnz] = j;
                A->val[A->nnz++] = PTD_AT(M, i, j);
            }
        A->rowptr[i + 1] = A->nnz;
    }
    *out = A;
    return PTD_OK;
}

int ptd_csr_to_dense(const ptd_csr *A, ptd_matrix **out)
{
    ptd_clear_error();
    *out = NULL;
    if (!A || !A->rows || !A->cols) return ptd_error(PTD_EINVAL, "csr: an empty matrix");
    if (A->rows > PTD_ZOO_MAX_N || A->cols > PTD_ZOO_MAX_N)
        return ptd_error(PTD_EINVAL, "csr: %zu x %zu is too large to store dense (at most %d x %d)", A->rows, A->cols,
                         PTD_ZOO_MAX_N, PTD_ZOO_MAX_N);
    ptd_matrix *M = ptd_matrix_alloc(A->rows, A->cols);
    if (!M) return ptd_error(PTD_ENOMEM, "csr: out of memory for a dense %zu x %zu", A->rows, A->cols);
    for (size_t i = 0; i < A->rows; i++)
        for (size_t e = A->rowptr[i]; e < A->rowptr[i + 1]; e++) PTD_AT(M, i, A->colind[e]) = A->val[e];
    *out = M;
    return PTD_OK;
}

void ptd_csr_matvec(const ptd_csr *A, const double complex *x, double complex *y)
{
    for (size_t i = 0; i < A->rows; i++) {
        double complex s = 0;
        for (size_t e = A->rowptr[i]; e < A->rowptr[i + 1]; e++) s += A->val[e] * x[A->colind[e]];
        y[i] = s;
    }
}

double ptd_csr_norm_fro(const ptd_csr *A)
{
    double scale = 0, ssq = 1; /* as LAPACK's zlassq: no overflow */
    for (size_t e = 0; e < A->nnz; e++)
        for (int part = 0; part < 2; part++) {
            double a = fabs(part ? cimag(A->val[e]) : creal(A->val[e]));
            if (a == 0) continue;
            if (scale < a) {
                ssq = 1 + ssq * (scale / a) * (scale / a);
                scale = a;
            } else {
                ssq += (a / scale) * (a / scale);
            }
        }
    return scale * sqrt(ssq);
}

/* --- the convection-diffusion operator ------------------------------------------------- */

#define CD_NU 0.02
#define CD_WX 1.0
#define CD_WY 0.5

/* T's diagonal, subdiagonal (the coefficient of u_{i-1}) and superdiagonal for velocity w. */
static void cd_coeffs(size_t m, double w, double *a, double *b, double *c)
{
    double h = 1.0 / (double)(m + 1);
    *a = -2 * CD_NU / (h * h);
    *b = CD_NU / (h * h) + w / (2 * h);
    *c = CD_NU / (h * h) - w / (2 * h);
}

int ptd_csr_convdiff(size_t m, ptd_csr **out)
{
    ptd_clear_error();
    *out = NULL;
    if (m < 25 || m > 3000)
        return ptd_error(PTD_EINVAL, "convdiff: m = %zu; 25..3000 (the cell Peclet number h/(2 nu) must be below 1)", m);
    size_t n = m * m;
    ptd_csr *A = csr_alloc(n, n, 5 * n);
    if (!A) return ptd_error(PTD_ENOMEM, "convdiff: out of memory (n = %zu)", n);
    double ax, bx, cx, ay, by, cy;
    cd_coeffs(m, CD_WX, &ax, &bx, &cx);
    cd_coeffs(m, CD_WY, &ay, &by, &cy);
    /* unknown (i, j) (x index i, y index j) is row i + j m; columns in increasing order */
    for (size_t j = 0; j < m; j++)
        for (size_t i = 0; i < m; i++) {
            size_t r = i + j * m;
            if (j > 0) A->colind[A->nnz] = r - m, A->val[A->nnz++] = by;
            if (i > 0) A->colind[A->nnz] = r - 1, A->val[A->nnz++] = bx;
            A->colind[A->nnz] = r, A->val[A->nnz++] = ax + ay;
            if (i + 1 < m) A->colind[A->nnz] = r + 1, A->val[A->nnz++] = cx;
            if (j + 1 < m) A->colind[A->nnz] = r + m, A->val[A->nnz++] = cy;
            A->rowptr[r + 1] = A->nnz;
        }
    *out = A;
    return PTD_OK;
}

double ptd_csr_convdiff_eig(size_t m, size_t j, size_t k)
{
    double ax, bx, cx, ay, by, cy, t = M_PI / (double)(m + 1);
    cd_coeffs(m, CD_WX, &ax, &bx, &cx);
    cd_coeffs(m, CD_WY, &ay, &by, &cy);
    return ax + ay + 2 * sqrt(bx * cx) * cos((double)j * t) + 2 * sqrt(by * cy) * cos((double)k * t);
}

/* --- Arnoldi ---------------------------------------------------------------------------- */

/* Arnoldi's Gram-Schmidt pass and norm in a fixed order of operations (no BLAS): the
 * Ritz values of a far-from-normal A move with the rounding of the basis (by far more than
 * u, since they lie anywhere in A's pseudospectra), so the basis must not depend on the BLAS
 * kernel or its threads.  c = Q^* w, w -= Q c, Q the first j columns. */
static void cgs_pass(const double complex *Q, size_t n, size_t j, double complex *w, double complex *c)
{
    for (size_t l = 0; l < j; l++) {
        const double complex *q = Q + l * n;
        double sr = 0, si = 0;
        for (size_t i = 0; i < n; i++) { /* conj(q_i) w_i */
            sr += creal(q[i]) * creal(w[i]) + cimag(q[i]) * cimag(w[i]);
            si += creal(q[i]) * cimag(w[i]) - cimag(q[i]) * creal(w[i]);
        }
        c[l] = CMPLX(sr, si);
    }
    for (size_t l = 0; l < j; l++) {
        const double complex *q = Q + l * n;
        double cr = creal(c[l]), ci = cimag(c[l]);
        for (size_t i = 0; i < n; i++)
            w[i] = CMPLX(creal(w[i]) - (creal(q[i]) * cr - cimag(q[i]) * ci),
                         cimag(w[i]) - (creal(q[i]) * ci + cimag(q[i]) * cr));
    }
}

/* ||x||_2, scaled by the largest |component| (no overflow), in a fixed order */
static double nrm2_fixed(const double complex *x, size_t n)
{
    double big = 0;
    for (size_t i = 0; i < n; i++) big = fmax(big, fmax(fabs(creal(x[i])), fabs(cimag(x[i]))));
    if (!(big > 0) || !isfinite(big)) return big;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double a = creal(x[i]) / big, b = cimag(x[i]) / big;
        s += a * a + b * b;
    }
    return big * sqrt(s);
}

/* x: n seeded standard Gaussians (GSL's mt19937), real or complex; 0, or -1 when out of memory */
static int gaussian_fill(unsigned long seed, int real, double complex *x, size_t n)
{
    gsl_rng *r = ptdi_rng_seeded(seed);
    if (!r) return -1;
    for (size_t i = 0; i < n; i++) {
        double re = gsl_ran_gaussian(r, 1), im = real ? 0 : gsl_ran_gaussian(r, 1);
        x[i] = CMPLX(re, im);
    }
    gsl_rng_free(r);
    return 0;
}

int ptd_csr_arnoldi(const ptd_csr *A, size_t k, unsigned long seed, ptd_matrix **H, ptd_matrix **V, size_t *steps)
{
    ptd_clear_error();
    *H = NULL;
    if (V) *V = NULL;
    if (steps) *steps = 0;
    if (!A || A->rows != A->cols || A->rows == 0) return ptd_error(PTD_EINVAL, "arnoldi: a square sparse matrix is needed");
    size_t n = A->rows;
    if (k < 1 || k > n) return ptd_error(PTD_EINVAL, "arnoldi: %zu steps; 1..n (n = %zu)", k, n);
    double complex *Q = malloc(n * (k + 1) * sizeof *Q), *h = malloc((k + 1) * sizeof *h), *c = malloc((k + 1) * sizeof *c);
    ptd_matrix *Hk = ptd_matrix_alloc(k + 1, k);
    /* a real A gets a real start, so that H~ is real and its pseudospectra symmetric */
    int real = 1;
    for (size_t e = 0; e < A->nnz && real; e++) real = cimag(A->val[e]) == 0;
    if (!Q || !h || !c || !Hk || gaussian_fill(seed, real, Q, n)) {
        free(Q), free(h), free(c), ptd_matrix_free(Hk);
        return ptd_error(PTD_ENOMEM, "arnoldi: out of memory (n = %zu, %zu steps)", n, k);
    }
    double nq = nrm2_fixed(Q, n);
    for (size_t i = 0; i < n; i++) Q[i] /= nq;
    double tiny = 4 * (double)n * PTD_U * ptd_csr_norm_fro(A);
    size_t j;
    for (j = 0; j < k; j++) {
        double complex *w = Q + (j + 1) * n;
        ptd_csr_matvec(A, Q + j * n, w);
        memset(h, 0, (j + 1) * sizeof *h);
        /* classical Gram-Schmidt twice: c = Q^* w, w -= Q c */
        for (int pass = 0; pass < 2; pass++) {
            cgs_pass(Q, n, j + 1, w, c);
            for (size_t i = 0; i <= j; i++) h[i] += c[i];
        }
        double b = nrm2_fixed(w, n);
        for (size_t i = 0; i <= j; i++) PTD_AT(Hk, i, j) = h[i];
        PTD_AT(Hk, j + 1, j) = b;
        if (b <= tiny) {
            /* an invariant subspace to rounding: the last row of H~ is 0 (what is dropped, w,
             * is below 4 n u ||A||_F), and the last column of V a unit vector orthogonal to the
             * others, from the generator, or 0 when they span the space (j + 1 = n) */
            PTD_AT(Hk, j + 1, j) = 0;
            j++;
            memset(w, 0, n * sizeof *w);
            if (j < n) {
                if (gaussian_fill(seed + 1, 0, w, n)) {
                    free(Q), free(h), free(c), ptd_matrix_free(Hk);
                    return ptd_error(PTD_ENOMEM, "arnoldi: out of memory (n = %zu, %zu steps)", n, k);
                }
                for (int pass = 0; pass < 2; pass++) cgs_pass(Q, n, j, w, c);
                double nw = nrm2_fixed(w, n);
                for (size_t i = 0; i < n; i++) w[i] = nw > 0 ? w[i] / nw : 0;
            }
            break;
        }
        for (size_t i = 0; i < n; i++) w[i] /= b;
    }
    free(h);
    free(c);
    size_t got = j;
    if (got < k) { /* breakdown: the (got+1) x got leading part */
        ptd_matrix *S = ptd_matrix_alloc(got + 1, got);
        if (!S) {
            free(Q);
            ptd_matrix_free(Hk);
            return ptd_error(PTD_ENOMEM, "arnoldi: out of memory");
        }
        for (size_t jj = 0; jj < got; jj++)
            for (size_t i = 0; i <= got; i++) PTD_AT(S, i, jj) = PTD_AT(Hk, i, jj);
        ptd_matrix_free(Hk);
        Hk = S;
    }
    if (V) {
        ptd_matrix *W = ptd_matrix_alloc(n, got + 1);
        if (!W) {
            free(Q);
            ptd_matrix_free(Hk);
            return ptd_error(PTD_ENOMEM, "arnoldi: out of memory");
        }
        memcpy(W->data, Q, n * (got + 1) * sizeof *Q);
        *V = W;
    }
    free(Q);
    *H = Hk;
    if (steps) *steps = got;
    return PTD_OK;
}

/* --- sigma_min by sparse LU ------------------------------------------------------------- */

/* zI - A in compressed columns of its transpose: the CSR arrays of zI - A read as CSC are
 * (zI - A)^T, which UMFPACK factors; a missing diagonal entry is inserted. */
static int shifted_csc(const ptd_csr *A, double complex z, SuiteSparse_long **Ap, SuiteSparse_long **Ai,
                       double complex **Ax)
{
    size_t n = A->rows, cap = A->nnz + n;
    *Ap = malloc((n + 1) * sizeof **Ap);
    *Ai = malloc(cap * sizeof **Ai);
    *Ax = malloc(cap * sizeof **Ax);
    if (!*Ap || !*Ai || !*Ax) return ptd_error(PTD_ENOMEM, "sparse LU: out of memory (n = %zu)", n);
    size_t t = 0;
    for (size_t i = 0; i < n; i++) {
        (*Ap)[i] = (SuiteSparse_long)t;
        int diag = 0;
        for (size_t e = A->rowptr[i]; e < A->rowptr[i + 1]; e++) {
            size_t j = A->colind[e];
            if (!diag && j > i) {
                (*Ai)[t] = (SuiteSparse_long)i, (*Ax)[t++] = z;
                diag = 1;
            }
            (*Ai)[t] = (SuiteSparse_long)j;
            (*Ax)[t++] = (j == i ? z : 0) - A->val[e];
            diag |= j == i;
        }
        if (!diag) (*Ai)[t] = (SuiteSparse_long)i, (*Ax)[t++] = z;
    }
    (*Ap)[n] = (SuiteSparse_long)t;
    return PTD_OK;
}

/* x = M^{-1} b (how = 0) or M^{-*} b (how = 1), M = zI - A, from the factors of S = M^T:
 * M x = b is S^T x = b; M^* x = b is conj(S) x = b, i.e. S conj(x) = conj(b). */
static int lu_solve(void *num, const SuiteSparse_long *Ap, const SuiteSparse_long *Ai, const double complex *Ax,
                    int how, double complex *x, double complex *b, size_t n)
{
    double control[UMFPACK_CONTROL], info[UMFPACK_INFO];
    umfpack_zl_defaults(control);
    control[UMFPACK_IRSTEP] = 0; /* no iterative refinement: a plain backward stable solve */
    SuiteSparse_long st;
    if (how == 0) {
        st = umfpack_zl_solve(UMFPACK_Aat, Ap, Ai, (const double *)Ax, NULL, (double *)x, NULL, (const double *)b, NULL,
                              num, control, info);
    } else {
        for (size_t i = 0; i < n; i++) b[i] = conj(b[i]);
        st = umfpack_zl_solve(UMFPACK_A, Ap, Ai, (const double *)Ax, NULL, (double *)x, NULL, (const double *)b, NULL,
                              num, control, info);
        for (size_t i = 0; i < n; i++) x[i] = conj(x[i]), b[i] = conj(b[i]);
    }
    return st == UMFPACK_OK ? PTD_OK : ptd_error(PTD_ELAPACK, "sparse LU: umfpack solve status %ld", (long)st);
}

enum { LU_MAXIT = 300 };

int ptd_csr_sigma_min(const ptd_csr *A, double complex z, ptd_pspec_point *res)
{
    ptd_clear_error();
    memset(res, 0, sizeof *res);
    if (!A || A->rows != A->cols || A->rows == 0) return ptd_error(PTD_EINVAL, "sparse sigma_min: a square matrix is needed");
    if (!isfinite(creal(z)) || !isfinite(cimag(z))) return ptd_error(PTD_EINVAL, "sparse sigma_min: z is not finite");
    size_t n = A->rows, cap = n < LU_MAXIT ? n : LU_MAXIT;
    /* ||A||_2 <= sqrt(||A||_1 ||A||_inf), both a pass over the entries */
    double *colsum = calloc(n, sizeof *colsum), n1 = 0, ninf = 0;
    if (!colsum) return ptd_error(PTD_ENOMEM, "sparse sigma_min: out of memory (n = %zu)", n);
    for (size_t i = 0; i < n; i++) {
        double r = 0;
        for (size_t e = A->rowptr[i]; e < A->rowptr[i + 1]; e++) {
            r += cabs(A->val[e]);
            colsum[A->colind[e]] += cabs(A->val[e]);
        }
        ninf = fmax(ninf, r);
    }
    for (size_t j = 0; j < n; j++) n1 = fmax(n1, colsum[j]);
    free(colsum);
    double normwise = (double)n * PTD_U * (sqrt(n1 * ninf) + cabs(z));
    SuiteSparse_long *Ap = NULL, *Ai = NULL;
    double complex *Ax = NULL, *Q = malloc((cap + 1) * n * sizeof *Q), *y = malloc(n * sizeof *y),
                   *u = malloc(n * sizeof *u), *c = malloc((cap + 1) * sizeof *c);
    double *al = malloc((cap + 1) * sizeof *al), *be = calloc(cap + 1, sizeof *be), *d = malloc((cap + 1) * sizeof *d),
           *e = malloc((cap + 1) * sizeof *e), *zv = malloc((cap + 1) * (cap + 1) * sizeof *zv);
    void *sym = NULL, *num = NULL;
    int st = Q && y && u && c && al && be && d && e && zv ? shifted_csc(A, z, &Ap, &Ai, &Ax)
                                                          : ptd_error(PTD_ENOMEM, "sparse sigma_min: out of memory (n = %zu)", n);
    double control[UMFPACK_CONTROL], info[UMFPACK_INFO];
    umfpack_zl_defaults(control);
    if (!st) {
        SuiteSparse_long s1 = umfpack_zl_symbolic((SuiteSparse_long)n, (SuiteSparse_long)n, Ap, Ai, (const double *)Ax, NULL,
                                                  &sym, control, info);
        SuiteSparse_long s2 = s1 == UMFPACK_OK ? umfpack_zl_numeric(Ap, Ai, (const double *)Ax, NULL, sym, &num, control, info)
                                               : s1;
        if (s2 == UMFPACK_WARNING_singular_matrix) {
            res->sigma = 0; /* an exactly zero pivot */
            res->err = normwise;
            goto done;
        }
        if (s2 == UMFPACK_ERROR_out_of_memory) st = ptd_error(PTD_ENOMEM, "sparse LU: out of memory (n = %zu)", n);
        else if (s2 != UMFPACK_OK) st = ptd_error(PTD_ELAPACK, "sparse LU: umfpack status %ld", (long)s2);
    }
    if (!st) {
        /* Lanczos on H = c M^{-1} M^{-*}, c = 1/||M^{-*} q_0||^2, from a fixed unit start */
        if (gaussian_fill(20240607UL, 0, Q, n)) st = ptd_error(PTD_ENOMEM, "sparse sigma_min: out of memory");
        double nq = st ? 1 : cblas_dznrm2((int)n, Q, 1);
        for (size_t i = 0; !st && i < n; i++) Q[i] /= nq;
        double scale = 0, theta = 0, theta_old = 0, bound = INFINITY;
        const double complex one = 1, mone = -1, zero = 0;
        size_t k;
        int converged = 0;
        for (k = 1; !st && k <= cap; k++) {
            double complex *q = Q + (k - 1) * n;
            memcpy(u, q, n * sizeof *u);
            if ((st = lu_solve(num, Ap, Ai, Ax, 1, y, u, n))) break;
            double ny = cblas_dznrm2((int)n, y, 1);
            if (!(ny > 0) || !isfinite(ny)) break;
            if (k == 1) scale = 1 / ny;
            for (size_t i = 0; i < n; i++) u[i] = y[i] * scale;
            if ((st = lu_solve(num, Ap, Ai, Ax, 0, y, u, n))) break;
            for (size_t i = 0; i < n; i++) y[i] *= scale;
            for (int pass = 0; pass < 2; pass++) {
                cblas_zgemv(CblasColMajor, CblasConjTrans, (int)n, (int)k, &one, Q, (int)n, y, 1, &zero, c, 1);
                cblas_zgemv(CblasColMajor, CblasNoTrans, (int)n, (int)k, &mone, Q, (int)n, c, 1, &one, y, 1);
                if (pass == 0) al[k - 1] = creal(c[k - 1]);
            }
            double b = cblas_dznrm2((int)n, y, 1);
            /* the tridiagonal's eigenvalues and vectors (k <= 300: O(k^2) a step) */
            memcpy(d, al, k * sizeof *d);
            memcpy(e, be, k * sizeof *e);
            if (LAPACKE_dstev(LAPACK_COL_MAJOR, 'V', (lapack_int)k, d, e, zv, (lapack_int)k) != 0) {
                st = ptd_error(PTD_ELAPACK, "sparse sigma_min: dstev failed");
                break;
            }
            theta = d[k - 1];
            double last = fabs(zv[(k - 1) + (k - 1) * k]), r = b * last, gap = k > 1 ? theta - d[k - 2] : 0;
            bound = (k > 1 && gap > 0 && r * r / gap < r) ? r * r / gap : r;
            double sig = scale / sqrt(theta), sig_err = 0.5 * sig * bound / theta;
            if (sig_err <= 0.25 * normwise || (k > 1 && fabs(theta - theta_old) <= 4 * PTD_U * theta) ||
                b <= PTD_U * theta || k == n) {
                converged = 1;
                break;
            }
            theta_old = theta;
            if (k == cap) break;
            be[k - 1] = b;
            for (size_t i = 0; i < n; i++) Q[k * n + i] = y[i] / b;
        }
        res->iterations = (unsigned)(k > cap ? cap : k);
        if (!st) {
            res->sigma = theta > 0 && scale > 0 ? scale / sqrt(theta) : 0;
            res->err = normwise + (theta > 0 ? 0.5 * res->sigma * bound / theta : 0);
            if (!converged)
                st = ptd_error(PTD_ENOCONV, "sparse sigma_min: inverse Lanczos did not converge in %zu steps at z = %g%+gi",
                               cap, creal(z), cimag(z));
        }
    }
done:
    if (num) umfpack_zl_free_numeric(&num);
    if (sym) umfpack_zl_free_symbolic(&sym);
    free(Ap), free(Ai), free(Ax), free(Q), free(y), free(u), free(c), free(al), free(be), free(d), free(e), free(zv);
    return st;
}
