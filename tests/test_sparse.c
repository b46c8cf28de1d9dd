/* test_sparse.c - lib/sparse.c and the sparse Matrix Market reader.  Oracles: the dense
 * reader on the same files; the convection-diffusion operator's eigenvalues in closed form,
 * checked on the symmetric matrix it is diagonally similar to (LAPACK dsyev); the Arnoldi
 * relation and orthogonality to rounding; the dense SVD of zI - A for the sparse-LU values;
 * and the projection inequality sigma_min(zI~ - H~) >= sigma_min(zI - A). */
#define _POSIX_C_SOURCE 200809L /* fmemopen */
#define _DEFAULT_SOURCE /* M_PI */
#include "testutil.h"

#include <lapacke.h>
#include <stdlib.h>
#include <string.h>

static ptd_csr *csr_of(const char *text, int *status)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    ck_assert_ptr_nonnull(f);
    ptd_csr *A = NULL;
    *status = ptd_csr_read(f, "t.mtx", &A);
    fclose(f);
    return A;
}

static ptd_matrix *dense_of(const char *text)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    ptd_matrix *M = NULL;
    ck_assert_int_eq(ptd_mm_read(f, "t.mtx", &M), PTD_OK);
    fclose(f);
    return M;
}

/* A CSR's (i, j) entry, 0 where none; and the check that columns increase in each row. */
static double complex csr_at(const ptd_csr *A, size_t i, size_t j)
{
    for (size_t e = A->rowptr[i]; e < A->rowptr[i + 1]; e++) {
        if (e > A->rowptr[i]) ck_assert(A->colind[e] > A->colind[e - 1]);
        if (A->colind[e] == j) return A->val[e];
    }
    return 0;
}

/* Every field and symmetry: the same matrix as the dense reader's, entry for entry. */
START_TEST(test_read_kinds)
{
    const char *files[] = {
        "%%MatrixMarket matrix coordinate real general\n% c\n3 4 4\n1 1 2.5\n3 4 -1\n2 1 1e-300\n1 4 7\n",
        "%%MatrixMarket matrix coordinate complex general\n2 2 3\n1 2 1 -2\n2 1 0.5 0.25\n2 2 0 3\n",
        "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n1 1 4\n3 1 -2\n2 3 5\n",
        "%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 2\n2 1 3\n1 3 -1\n",
        "%%MatrixMarket matrix coordinate complex hermitian\n2 2 2\n1 1 2 0\n2 1 1 1\n",
        "%%MatrixMarket matrix coordinate pattern general\n2 3 2\n1 3\n2 1\n",
        "%%MatrixMarket matrix coordinate integer symmetric\n2 2 2\n2 1 -7\n2 2 9\n"};
    for (size_t c = 0; c < sizeof files / sizeof files[0]; c++) {
        int st;
        ptd_csr *A = csr_of(files[c], &st);
        ck_assert_msg(st == PTD_OK, "%zu: %s", c, ptd_last_error());
        ptd_matrix *M = dense_of(files[c]);
        ck_assert_uint_eq(A->rows, M->rows);
        ck_assert_uint_eq(A->cols, M->cols);
        size_t nz = 0;
        for (size_t i = 0; i < M->rows; i++)
            for (size_t j = 0; j < M->cols; j++) {
                ck_assert_msg(csr_at(A, i, j) == PTD_AT(M, i, j), "file %zu entry (%zu, %zu)", c, i, j);
                nz += PTD_AT(M, i, j) != 0;
            }
        ck_assert_uint_eq(A->nnz, nz);
        ck_assert_uint_eq(A->rowptr[A->rows], A->nnz);
        /* the CSR of the dense matrix is the same */
        ptd_csr *B = NULL;
        ck_assert_int_eq(ptd_csr_from_dense(M, &B), PTD_OK);
        ck_assert_uint_eq(B->nnz, A->nnz);
        ck_assert(memcmp(B->colind, A->colind, A->nnz * sizeof *A->colind) == 0);
        ck_assert(memcmp(B->val, A->val, A->nnz * sizeof *A->val) == 0);
        ptd_csr_free(B);
        /* and back: the dense reader's matrix, zeros included, to the bit */
        ptd_matrix *D = NULL;
        ck_assert_int_eq(ptd_csr_to_dense(A, &D), PTD_OK);
        ck_assert_uint_eq(D->rows, M->rows);
        ck_assert_uint_eq(D->cols, M->cols);
        ck_assert(memcmp(D->data, M->data, M->rows * M->cols * sizeof *M->data) == 0);
        ptd_matrix_free(D);
        ptd_csr_free(A);
        ptd_matrix_free(M);
    }
}
END_TEST

/* Malformed files: the line and the reason; orders beyond the dense limit are fine. */
START_TEST(test_read_errors)
{
    struct {
        const char *text, *msg;
    } bad[] = {
        {"%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n1 1 2\n", "t.mtx:4: duplicate entry (1, 1)"},
        {"%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n2 1 1\n1 2 2\n", "duplicate entry (1, 2): it or its mirror"},
        {"%%MatrixMarket matrix array real general\n1 1\n1\n", "t.mtx:2: an array file is dense"},
        {"%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n", "file ends after 1 of 2 entries"},
        {"%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1\n", "row index 3 out of range 1..2"},
        {"%%MatrixMarket matrix coordinate real general\n20000001 2 1\n1 1 1\n", "out of range 1..10000000"},
        {"%%MatrixMarket matrix coordinate real general\n2 2 5\n1 1 1\n", "exceeds the 4 positions"},
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        int st;
        ptd_csr *A = csr_of(bad[c].text, &st);
        ck_assert_int_eq(st, PTD_EFORMAT);
        ck_assert_ptr_null(A);
        ck_assert_msg(strstr(ptd_last_error(), bad[c].msg) != NULL, "%zu: '%s'", c, ptd_last_error());
    }
    int st;
    ptd_csr *A = csr_of("%%MatrixMarket matrix coordinate real general\n50000 50000 2\n50000 1 3\n7 7 1\n", &st);
    ck_assert_msg(st == PTD_OK, "%s", ptd_last_error());
    ck_assert_uint_eq(A->nnz, 2);
    ck_assert(csr_at(A, 49999, 0) == 3 && csr_at(A, 6, 6) == 1);
    ptd_csr_free(A);
}
END_TEST

/* The convection-diffusion operator is D S D^{-1} with S symmetric, D = diag(rx^i ry^j),
 * r = sqrt(b/c): S built from A's entries is symmetric to rounding and its eigenvalues
 * (dsyev) are the closed form, within n u ||S||; A x against the Kronecker sum applied
 * directly. */
START_TEST(test_convdiff)
{
    size_t m = 25, n = m * m;
    ptd_csr *A = NULL;
    ck_assert_int_eq(ptd_csr_convdiff(m, &A), PTD_OK);
    ck_assert_uint_eq(A->nnz, 5 * n - 4 * m);
    ptd_csr *B = NULL;
    ck_assert_int_eq(ptd_csr_convdiff(24, &B), PTD_EINVAL); /* Peclet >= 1 */
    ck_assert_ptr_null(B);
    double h = 1.0 / (double)(m + 1), nu = 0.02;
    double bx = nu / (h * h) + 1 / (2 * h), cx = nu / (h * h) - 1 / (2 * h);
    double by = nu / (h * h) + 0.5 / (2 * h), cy = nu / (h * h) - 0.5 / (2 * h);
    double lrx = 0.5 * log(bx / cx), lry = 0.5 * log(by / cy);
    double *S = calloc(n * n, sizeof *S), *w = malloc(n * sizeof *w);
    for (size_t r = 0; r < n; r++)
        for (size_t e = A->rowptr[r]; e < A->rowptr[r + 1]; e++) {
            size_t c = A->colind[e];
            ck_assert(cimag(A->val[e]) == 0);
            /* S = D^{-1} A D: log d = i log rx + j log ry for unknown (i, j) = (r % m, r / m) */
            double ld = ((double)(c % m) - (double)(r % m)) * lrx + ((double)(c / m) - (double)(r / m)) * lry;
            S[r + c * n] = creal(A->val[e]) * exp(ld);
        }
    double snorm = 0;
    for (size_t k = 0; k < n * n; k++) snorm = fmax(snorm, fabs(S[k]));
    snorm *= 5;
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < r; c++) ck_assert(fabs(S[r + c * n] - S[c + r * n]) <= 8 * U_ROUND * snorm);
    ck_assert_int_eq(LAPACKE_dsyev(LAPACK_COL_MAJOR, 'N', 'L', (lapack_int)n, S, (lapack_int)n, w), 0);
    double *cf = malloc(n * sizeof *cf);
    for (size_t j = 1; j <= m; j++)
        for (size_t k = 1; k <= m; k++) cf[(j - 1) + (k - 1) * m] = ptd_csr_convdiff_eig(m, j, k);
    /* sort the closed form ascending, as dsyev returns */
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && cf[b] < cf[b - 1]; b--) {
            double t = cf[b];
            cf[b] = cf[b - 1];
            cf[b - 1] = t;
        }
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(fabs(w[k] - cf[k]) <= (double)n * U_ROUND * snorm, "eigenvalue %zu: dsyev %.17g closed form %.17g", k,
                      w[k], cf[k]);
    ck_assert(cf[n - 1] == ptd_csr_convdiff_eig(m, 1, 1) && cf[n - 1] < 0);
    /* A x by the stencil, directly */
    double complex *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    for (size_t k = 0; k < n; k++) x[k] = CMPLX(sin((double)k), cos(3.0 * (double)k));
    ptd_csr_matvec(A, x, y);
    double ax = -2 * nu / (h * h);
    for (size_t j = 0; j < m; j++)
        for (size_t i = 0; i < m; i++) {
            size_t r = i + j * m;
            double complex s = 2 * ax * x[r];
            if (i > 0) s += bx * x[r - 1];
            if (i + 1 < m) s += cx * x[r + 1];
            if (j > 0) s += by * x[r - m];
            if (j + 1 < m) s += cy * x[r + m];
            ck_assert(cabs(s - y[r]) <= 16 * U_ROUND * snorm);
        }
    free(S), free(w), free(cf), free(x), free(y);
    ptd_csr_free(A);
}
END_TEST

/* Arnoldi: A V_k = V_{k+1} H~ and V^* V = I to rounding, H~ Hessenberg with a real positive
 * subdiagonal, the same bits twice; k = n on a small matrix: the Ritz values are the
 * eigenvalues (zgeev of the dense matrix). */
START_TEST(test_arnoldi)
{
    ptd_csr *A = NULL;
    ck_assert_int_eq(ptd_csr_convdiff(45, &A), PTD_OK);
    size_t n = A->rows, k = 60, steps = 0;
    ptd_matrix *H = NULL, *V = NULL, *H2 = NULL;
    ck_assert_int_eq(ptd_csr_arnoldi(A, k, 3, &H, &V, &steps), PTD_OK);
    ck_assert_uint_eq(steps, k);
    ck_assert_uint_eq(H->rows, k + 1);
    ck_assert_uint_eq(H->cols, k);
    double na = ptd_csr_norm_fro(A);
    double complex *av = malloc(n * sizeof *av);
    double res = 0, orth = 0;
    for (size_t j = 0; j < k; j++) {
        ptd_csr_matvec(A, V->data + j * n, av);
        for (size_t i = 0; i < n; i++) {
            double complex s = 0;
            for (size_t l = 0; l <= j + 1; l++) s += PTD_AT(V, i, l) * PTD_AT(H, l, j);
            res = fmax(res, cabs(av[i] - s));
        }
        for (size_t i = j + 2; i <= k; i++) ck_assert(PTD_AT(H, i, j) == 0);
        /* a real A, a real start: H~ real exactly (complex products of reals have imaginary part 0) */
        for (size_t i = 0; i <= j + 1; i++) ck_assert(cimag(PTD_AT(H, i, j)) == 0);
        ck_assert(cimag(PTD_AT(H, j + 1, j)) == 0 && creal(PTD_AT(H, j + 1, j)) > 0);
        for (size_t l = 0; l <= k; l++) {
            double complex d = 0;
            for (size_t i = 0; i < n; i++) d += conj(PTD_AT(V, i, l)) * PTD_AT(V, i, j);
            orth = fmax(orth, cabs(d - (l == j ? 1 : 0)));
        }
    }
    ck_assert_msg(res <= 4 * (double)k * U_ROUND * na, "||A V - V H|| entries %.3g, 4 k u ||A||_F %.3g", res,
                  4 * (double)k * U_ROUND * na);
    ck_assert_msg(orth <= 4 * (double)k * U_ROUND, "||V^* V - I|| entries %.3g", orth);
    ck_assert_int_eq(ptd_csr_arnoldi(A, k, 3, &H2, NULL, &steps), PTD_OK);
    ck_assert(memcmp(H->data, H2->data, (k + 1) * k * sizeof *H->data) == 0);
    ck_assert_int_eq(ptd_csr_arnoldi(A, 0, 3, &H2, NULL, &steps), PTD_EINVAL);
    ptd_matrix_free(H), ptd_matrix_free(H2), ptd_matrix_free(V);
    free(av);
    ptd_csr_free(A);

    /* k = n: an invariant subspace; the Ritz values are the eigenvalues */
    ptd_system *s = zoo_system("ginibre", 20, 4);
    ptd_csr *G = NULL;
    ck_assert_int_eq(ptd_csr_from_dense(s->A, &G), PTD_OK);
    ck_assert_int_eq(ptd_csr_arnoldi(G, 20, 1, &H, NULL, &steps), PTD_OK);
    ck_assert_uint_eq(H->rows, steps + 1);
    ck_assert(PTD_AT(H, steps, steps - 1) == 0);
    ptd_matrix *T = ptd_matrix_alloc(steps, steps);
    for (size_t j = 0; j < steps; j++)
        for (size_t i = 0; i < steps; i++) PTD_AT(T, i, j) = PTD_AT(H, i, j);
    ptd_eig *e1 = NULL, *e2 = NULL;
    ck_assert_int_eq(ptd_cond_eig(T, &e1), PTD_OK);
    ck_assert_int_eq(ptd_cond_eig(s->A, &e2), PTD_OK);
    ck_assert_uint_eq(steps, 20);
    /* each computed eigenvalue within kappa(lambda) times the backward errors, 20 u ||A|| each */
    double kmax = 0;
    for (size_t j = 0; j < 20; j++) kmax = fmax(kmax, e2->eig_cond[j]);
    for (size_t i = 0; i < 20; i++) {
        double d = INFINITY;
        for (size_t j = 0; j < 20; j++) d = fmin(d, cabs(e1->lambda[i] - e2->lambda[j]));
        ck_assert_msg(d <= 2 * 20 * 20 * U_ROUND * kmax * e2->norm2, "Ritz value %zu off by %g (kappa %g)", i, d, kmax);
    }
    ptd_eig_free(e1), ptd_eig_free(e2), ptd_matrix_free(T), ptd_matrix_free(H);
    ptd_csr_free(G);
    ptd_system_free(s);

    /* breakdown before n: diag(1, 2, 3) repeated ten times has a 3-dimensional Krylov space,
     * H~ is 4 x 3 with last row 0, its top block's eigenvalues 1, 2, 3, V orthonormal */
    ptd_matrix *D = ptd_matrix_alloc(30, 30);
    for (size_t i = 0; i < 30; i++) PTD_AT(D, i, i) = (double)(i % 3 + 1);
    ck_assert_int_eq(ptd_csr_from_dense(D, &G), PTD_OK);
    ck_assert_int_eq(ptd_csr_arnoldi(G, 10, 2, &H, &V, &steps), PTD_OK);
    ck_assert_uint_eq(steps, 3);
    ck_assert_uint_eq(H->rows, 4);
    ck_assert_uint_eq(V->cols, 4);
    for (size_t j = 0; j < 3; j++) ck_assert(PTD_AT(H, 3, j) == 0);
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 4; b++) {
            double complex d = 0;
            for (size_t i = 0; i < 30; i++) d += conj(PTD_AT(V, i, a)) * PTD_AT(V, i, b);
            ck_assert_msg(cabs(d - (a == b ? 1 : 0)) <= 4 * 30 * U_ROUND, "V^* V (%zu, %zu) = %g%+gi", a, b, creal(d), cimag(d));
        }
    T = ptd_matrix_alloc(3, 3);
    for (size_t j = 0; j < 3; j++)
        for (size_t i = 0; i < 3; i++) PTD_AT(T, i, j) = PTD_AT(H, i, j);
    ck_assert_int_eq(ptd_cond_eig(T, &e1), PTD_OK);
    for (int v = 1; v <= 3; v++) {
        double d = INFINITY;
        for (size_t i = 0; i < 3; i++) d = fmin(d, cabs(e1->lambda[i] - v));
        /* H_3 = V_3^* A V_3 is Hermitian to rounding (A is): its eigenvalues are well conditioned */
        ck_assert_msg(d <= 4 * 30 * U_ROUND * 3, "eigenvalue %d missed by %g", v, d);
    }
    ptd_eig_free(e1), ptd_matrix_free(T), ptd_matrix_free(H), ptd_matrix_free(V), ptd_matrix_free(D);
    ptd_csr_free(G);
}
END_TEST

/* sigma_min(zI - A) of the test's own dense SVD (a spare column: OpenBLAS reads past it). */
static double dense_sigma(const ptd_csr *A, double complex z)
{
    size_t n = A->rows;
    double complex *M = calloc(n * (n + 1), sizeof *M);
    double *sv = malloc(n * sizeof *sv), *sup = malloc(n * sizeof *sup);
    for (size_t i = 0; i < n; i++) {
        M[i + i * n] = z;
        for (size_t e = A->rowptr[i]; e < A->rowptr[i + 1]; e++) M[i + A->colind[e] * n] -= A->val[e];
    }
    ck_assert_int_eq(LAPACKE_zgesvd(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)n, (lapack_int)n, M, (lapack_int)n, sv, NULL, 1,
                                    NULL, 1, sup), 0);
    double s = sv[n - 1];
    free(M), free(sv), free(sup);
    return s;
}

/* The sparse-LU value against the dense SVD within both errors; an exactly singular zI - A. */
START_TEST(test_lu_vs_svd)
{
    ptd_csr *A = NULL;
    ck_assert_int_eq(ptd_csr_convdiff(25, &A), PTD_OK);
    double na = ptd_csr_norm_fro(A);
    double lam = ptd_csr_convdiff_eig(25, 1, 1);
    const double complex zs[] = {lam + 5, lam, CMPLX(lam - 100, 40), CMPLX(-2000, 300), 100};
    for (size_t q = 0; q < sizeof zs / sizeof zs[0]; q++) {
        ptd_pspec_point r;
        int st = ptd_csr_sigma_min(A, zs[q], &r);
        ck_assert_msg(st == PTD_OK, "%s", ptd_last_error());
        double want = dense_sigma(A, zs[q]), tol = (double)A->rows * U_ROUND * (na + cabs(zs[q]));
        ck_assert_msg(fabs(r.sigma - want) <= r.err + tol && r.err <= 2 * tol, "z=%g%+gi: LU %.17g (err %.3g), SVD %.17g",
                      creal(zs[q]), cimag(zs[q]), r.sigma, r.err, want);
    }
    ptd_csr_free(A);
    /* a random sparse nonsymmetric matrix, complex z */
    ptd_system *s = zoo_system("ginibre", 120, 9);
    for (size_t k = 0; k < 120 * 120; k++)
        if ((k * 2654435761u) % 7 > 1) s->A->data[k] = 0;
    ck_assert_int_eq(ptd_csr_from_dense(s->A, &A), PTD_OK);
    for (int q = 0; q < 6; q++) {
        double complex z = CMPLX(-0.8 + 0.3 * q, 0.2 * q - 0.4);
        ptd_pspec_point r;
        ck_assert_int_eq(ptd_csr_sigma_min(A, z, &r), PTD_OK);
        double want = dense_sigma(A, z), tol = 120 * U_ROUND * (ptd_csr_norm_fro(A) + cabs(z));
        ck_assert_msg(fabs(r.sigma - want) <= r.err + tol, "ginibre z=%g%+gi: LU %.17g SVD %.17g", creal(z), cimag(z), r.sigma,
                      want);
    }
    ptd_csr_free(A);
    ptd_system_free(s);
    /* diag(1, 2, 3) at z = 2: an exact zero pivot */
    int st;
    A = csr_of("%%MatrixMarket matrix coordinate real general\n3 3 3\n1 1 1\n2 2 2\n3 3 3\n", &st);
    ptd_pspec_point r;
    ck_assert_int_eq(ptd_csr_sigma_min(A, 2, &r), PTD_OK);
    ck_assert(r.sigma == 0);
    ck_assert_int_eq(ptd_csr_sigma_min(A, 2.5, &r), PTD_OK);
    ck_assert(fabs(r.sigma - 0.5) <= 8 * U_ROUND);
    ptd_csr_free(A);
}
END_TEST

/* The projection: on the 2025 x 2025 convection-diffusion operator, k Arnoldi steps give
 * sigma_min(zI~ - H~) >= sigma_min(zI - A) (sparse LU) at points around the spectrum; the
 * Ritz values lie in the numerical range (Re <= omega(A) = lambda_max of the symmetric part,
 * the diffusion alone: -4 nu/h^2 (1 - cos(pi/(m+1)))); and beside the rightmost eigenvalue,
 * where this matrix's non-normality makes Arnoldi slow, 160 steps come ten times closer to
 * A's value than 20 do. */
START_TEST(test_projection_bounds)
{
    size_t m = 45;
    ptd_csr *A = NULL;
    ck_assert_int_eq(ptd_csr_convdiff(m, &A), PTD_OK);
    double lam = ptd_csr_convdiff_eig(m, 1, 1), h = 1.0 / (double)(m + 1);
    double omega = -4 * 0.02 / (h * h) * (1 - cos(M_PI / (double)(m + 1)));
    double near[2];
    const size_t ks[] = {20, 60, 160};
    for (size_t c = 0; c < 3; c++) {
        ptd_matrix *H = NULL;
        size_t steps;
        ck_assert_int_eq(ptd_csr_arnoldi(A, ks[c], 1, &H, NULL, &steps), PTD_OK);
        ck_assert_uint_eq(steps, ks[c]);
        ptd_pspec_plan *p = plan_of(H);
        ptd_pspec_work *w = ptd_pspec_work_alloc(p);
        const double complex *ritz = ptd_pspec_plan_eigenvalues(p);
        for (size_t i = 0; i < steps; i++)
            ck_assert_msg(creal(ritz[i]) <= omega + 1e-9 * fabs(lam), "Ritz value %g%+gi right of omega(A) = %g",
                          creal(ritz[i]), cimag(ritz[i]), omega);
        for (int q = 0; q < (c == 1 ? 8 : 1); q++) {
            double complex z = q == 0 ? lam + 10 : q < 4 ? CMPLX(lam + 20 * q, 30.0 * q) : CMPLX(lam - 200 * (q - 3), 150.0 * (q - 4));
            ptd_pspec_point a, b;
            ck_assert_int_eq(ptd_pspec_sigma_min(p, w, z, NULL, &a), PTD_OK);
            ck_assert_int_eq(ptd_csr_sigma_min(A, z, &b), PTD_OK);
            ck_assert_msg(a.sigma >= b.sigma - (a.err + b.err),
                          "k=%zu z=%g%+gi: projection %.17g below A's %.17g (errors %.3g, %.3g)", ks[c], creal(z), cimag(z),
                          a.sigma, b.sigma, a.err, b.err);
            if (q == 0 && c != 1) near[c / 2] = a.sigma - b.sigma;
        }
        ptd_pspec_work_free(w);
        ptd_pspec_plan_free(p);
        ptd_matrix_free(H);
    }
    ck_assert_msg(near[1] < 0.1 * near[0], "beside the rightmost eigenvalue: the projection's excess %g (k = 160), %g (k = 20)",
                  near[1], near[0]);
    ptd_csr_free(A);
}
END_TEST

int main(void)
{
    ptd_init();
    Suite *s = suite_create("sparse");
    TCase *tc = tcase_create("sparse");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_read_kinds);
    tcase_add_test(tc, test_read_errors);
    tcase_add_test(tc, test_convdiff);
    tcase_add_test(tc, test_arnoldi);
    tcase_add_test(tc, test_lu_vs_svd);
    tcase_add_test(tc, test_projection_bounds);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
