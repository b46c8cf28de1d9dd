/* test_zoo.c - the named matrices against independent constructions of their definitions
 * (docs/mathematics.md section 6; the S4 code base's transition() for HiPPO), normality of the
 * normal parts, known spectra and published properties. */
#include "testutil.h"

#include <lapacke.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ptd_system *make_checked(const char *name, size_t n, unsigned long seed)
{
    ptd_system *s = NULL;
    int st = ptd_zoo_make(name, n, seed, &s);
    ck_assert_msg(st == PTD_OK, "%s n=%zu: %s", name, n, ptd_last_error());
    ck_assert_uint_eq(s->n, n);
    ck_assert_uint_eq(s->A->rows, n);
    ck_assert_uint_eq(s->A->cols, n);
    return s;
}

/* max |A - W| over entries, W given column-major as real doubles */
static double maxdiff(const ptd_matrix *A, const double *W)
{
    double d = 0;
    for (size_t k = 0; k < A->rows * A->cols; k++) d = fmax(d, cabs(A->data[k] - W[k]));
    return d;
}

static double maxabs(const double *W, size_t len)
{
    double m = 0;
    for (size_t k = 0; k < len; k++) m = fmax(m, fabs(W[k]));
    return m;
}

static const size_t sizes[] = {1, 2, 3, 8, 17, 64};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* LegS as the S4 code builds it: M_nk = -(2k+1) for n >= k, minus diag(n), then
 * A = T M T^{-1} with T = diag(sqrt(2n+1)): a different route to -p_n p_k. */
START_TEST(test_legs_formula)
{
    for (size_t t = 0; t < NSIZES; t++) {
        size_t N = sizes[t];
        ptd_system *s = make_checked("hippo-legs", N, 0);
        double *W = calloc(N * N, sizeof *W);
        for (size_t n = 0; n < N; n++)
            for (size_t k = 0; k <= n; k++) {
                double M = -(2.0 * (double)k + 1) + (n == k ? (double)n : 0.0);
                W[n + k * N] = sqrt(2.0 * n + 1) * M / sqrt(2.0 * k + 1);
            }
        ck_assert_double_le(maxdiff(s->A, W), 4 * U_ROUND * maxabs(W, N * N));
        ck_assert_ptr_nonnull(s->B);
        ck_assert_ptr_nonnull(s->P);
        for (size_t n = 0; n < N; n++) {
            assert_close(creal(PTD_AT(s->B, n, 0)), sqrt(2.0 * n + 1), 0, 2 * U_ROUND);
            /* B = sqrt2 P */
            assert_close(creal(PTD_AT(s->B, n, 0)), M_SQRT2 * creal(PTD_AT(s->P, n, 0)), 0, 4 * U_ROUND);
        }
        ck_assert(ptd_matrix_is_lower(s->A));
        free(W);
        ptd_system_free(s);
    }
}
END_TEST

START_TEST(test_legt_lmu_lagt_formula)
{
    for (size_t t = 0; t < NSIZES; t++) {
        size_t N = sizes[t];
        double *W = calloc(N * N, sizeof *W);
        /* LegT: R_n R_k (1 if n >= k else (-1)^(n-k)), negated and halved */
        ptd_system *s = make_checked("hippo-legt", N, 0);
        for (size_t n = 0; n < N; n++)
            for (size_t k = 0; k < N; k++) {
                double sg = n >= k ? 1.0 : pow(-1.0, (double)n - (double)k);
                W[n + k * N] = -0.5 * sqrt(2.0 * n + 1) * sg * sqrt(2.0 * k + 1);
            }
        ck_assert_double_le(maxdiff(s->A, W), 4 * U_ROUND * maxabs(W, N * N));
        for (size_t n = 0; n < N; n++) assert_close(creal(PTD_AT(s->B, n, 0)), 0.5 * sqrt(2.0 * n + 1), 0, 2 * U_ROUND);
        ptd_system_free(s);
        /* LMU: (2n+1) * (-1 if n < k else (-1)^(n-k+1)) */
        s = make_checked("hippo-lmu", N, 0);
        for (size_t n = 0; n < N; n++)
            for (size_t k = 0; k < N; k++)
                W[n + k * N] = (2.0 * n + 1) * (n < k ? -1.0 : pow(-1.0, (double)n - (double)k + 1));
        ck_assert_double_eq(maxdiff(s->A, W), 0);
        for (size_t n = 0; n < N; n++) ck_assert_double_eq(creal(PTD_AT(s->B, n, 0)), pow(-1.0, (double)n) * (2.0 * n + 1));
        ptd_system_free(s);
        /* LagT: I/2 - tril(ones) */
        s = make_checked("hippo-lagt", N, 0);
        for (size_t n = 0; n < N; n++)
            for (size_t k = 0; k < N; k++) W[n + k * N] = (n == k ? 0.5 : 0.0) - (n >= k ? 1.0 : 0.0);
        ck_assert_double_eq(maxdiff(s->A, W), 0);
        for (size_t n = 0; n < N; n++) ck_assert_double_eq(creal(PTD_AT(s->B, n, 0)), 1.0);
        ptd_system_free(s);
        free(W);
    }
}
END_TEST

/* FouT / FouD as the S4 code builds them: d = (0, 0, 1, 0, 2, 0, 3, ...) on the
 * super/sub-diagonals, A = pi (-diag(d, 1) + diag(d, -1)) - b b^T. */
START_TEST(test_fourier_formula)
{
    const size_t Ns[] = {2, 4, 10, 64};
    for (size_t t = 0; t < 4; t++) {
        size_t N = Ns[t];
        double *d = calloc(N, sizeof *d), *b = calloc(N, sizeof *b), *W = calloc(N * N, sizeof *W);
        /* stack((0, m) for m < N/2), flattened, first dropped: d_k = k/2 for even k, else 0 */
        for (size_t k = 0; k + 1 < N; k++) d[k] = k % 2 == 0 ? (double)(k / 2) : 0.0;
        for (size_t n = 0; n < N; n++) b[n] = n == 0 ? 1.0 : (n % 2 == 0 ? M_SQRT2 : 0.0);
        for (int decay = 0; decay < 2; decay++) {
            double sc = decay ? 2.0 : 1.0;
            for (size_t n = 0; n < N; n++)
                for (size_t k = 0; k < N; k++) {
                    double a = 0;
                    if (k == n + 1) a = -sc * M_PI * d[n];
                    if (n == k + 1) a = sc * M_PI * d[k];
                    a -= decay ? (n == k ? 0.5 : 0.0) : b[n] * b[k];
                    W[n + k * N] = a;
                }
            ptd_system *s = make_checked(decay ? "hippo-foud" : "hippo-fout", N, 0);
            ck_assert_double_le(maxdiff(s->A, W), 4 * U_ROUND * maxabs(W, N * N));
            for (size_t n = 0; n < N; n++) ck_assert_double_eq(creal(PTD_AT(s->B, n, 0)), b[n]);
            ptd_system_free(s);
        }
        free(d);
        free(b);
        free(W);
    }
    ptd_system *s = NULL;
    ck_assert_int_eq(ptd_zoo_make("hippo-fout", 7, 0, &s), PTD_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert(!ptd_zoo_valid_n("hippo-foud", 9));
    ck_assert(ptd_zoo_valid_n("hippo-foud", 8));
}
END_TEST

/* ||A A^* - A^* A||_F */
static double commutator(const ptd_matrix *A)
{
    size_t n = A->rows;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double complex c = 0;
            for (size_t k = 0; k < n; k++)
                c += PTD_AT(A, i, k) * conj(PTD_AT(A, j, k)) - conj(PTD_AT(A, k, i)) * PTD_AT(A, k, j);
            s += creal(c * conj(c));
        }
    return sqrt(s);
}

START_TEST(test_normal_parts)
{
    const char *names[] = {"hippo-legs-normal", "hippo-legt-normal", "hippo-lagt-normal",
                           "hippo-fout-normal", "hippo-foud"};
    const char *full[] = {"hippo-legs", "hippo-legt", "hippo-lagt", "hippo-fout", NULL};
    const size_t Ns[] = {2, 8, 32, 64};
    for (size_t m = 0; m < 5; m++)
        for (size_t t = 0; t < 4; t++) {
            size_t N = Ns[t];
            ptd_system *s = make_checked(names[m], N, 0);
            double f = ptd_matrix_norm_fro(s->A);
            double c = commutator(s->A);
            /* a normal matrix: the commutator is at rounding level, n u ||A||_F^2 */
            ck_assert_msg(c <= 4 * (double)N * U_ROUND * f * f, "%s n=%zu: ||AA*-A*A|| = %g, ||A||_F = %g",
                          names[m], N, c, f);
            ck_assert_ptr_null(s->P);
            if (full[m]) {
                /* the full matrix is not normal: the rank correction matters (FouT at n = 2
                 * has no rotation block and is the symmetric -b b^T) */
                ptd_system *a = make_checked(full[m], N, 0);
                double fa = ptd_matrix_norm_fro(a->A);
                if (!(m == 3 && N == 2))
                    ck_assert_msg(commutator(a->A) > 1e-3 * fa * fa, "%s n=%zu should not be normal", full[m], N);
                /* and A_N = A + P P^T, recomputed here */
                for (size_t i = 0; i < N; i++)
                    for (size_t j = 0; j < N; j++) {
                        double pp = 0;
                        for (size_t r = 0; r < a->P->cols; r++) pp += creal(PTD_AT(a->P, i, r) * PTD_AT(a->P, j, r));
                        assert_close(creal(PTD_AT(s->A, i, j)), creal(PTD_AT(a->A, i, j)) + pp, 4 * U_ROUND * fa, 0);
                    }
                ptd_system_free(a);
            }
            ptd_system_free(s);
        }
    /* LegS's normal part is exactly -I/2 + skew: A_N + A_N^T = -I to rounding */
    ptd_system *s = make_checked("hippo-legs-normal", 16, 0);
    for (size_t i = 0; i < 16; i++)
        for (size_t j = 0; j < 16; j++)
            assert_close(creal(PTD_AT(s->A, i, j) + PTD_AT(s->A, j, i)), i == j ? -1.0 : 0.0, 64 * U_ROUND, 0);
    ptd_system_free(s);
}
END_TEST

/* the largest frequency of A_N of LegS (docs/mathematics.md section 6: 19.857 at N = 8) */
START_TEST(test_legs_normal_frequency)
{
    ptd_system *s = make_checked("hippo-legs-normal", 8, 0);
    lapack_complex_double *H = malloc(64 * sizeof *H);
    double w[8];
    /* -i A_N is Hermitian up to the -1/2 shift: eigenvalues of -i (A_N + I/2) */
    for (size_t k = 0; k < 64; k++) H[k] = -I * (s->A->data[k] + ((k % 9) == 0 ? 0.5 : 0.0));
    ck_assert_int_eq(LAPACKE_zheev(LAPACK_COL_MAJOR, 'N', 'U', 8, H, 8, w), 0);
    assert_close(w[7], 19.857, 5e-4, 0);
    free(H);
    ptd_system_free(s);
}
END_TEST

START_TEST(test_legs_eigenvalues)
{
    for (size_t t = 0; t < NSIZES; t++) {
        size_t N = sizes[t];
        ptd_system *s = make_checked("hippo-legs", N, 0);
        /* lower triangular with diagonal -(n+1): eigenvalues exactly -1..-N */
        for (size_t n = 0; n < N; n++) ck_assert_double_eq(creal(PTD_AT(s->A, n, n)), -(double)(n + 1));
        ptd_pspec_plan *p;
        ck_assert_int_eq(ptd_pspec_plan_create(s->A, &p), PTD_OK);
        ck_assert(ptd_pspec_plan_exact(p));
        const double complex *ev = ptd_pspec_plan_eigenvalues(p);
        double sum = 0;
        for (size_t n = 0; n < N; n++) {
            ck_assert_double_eq(cimag(ev[n]), 0);
            double r = -creal(ev[n]);
            ck_assert_double_eq(r, floor(r));
            ck_assert(r >= 1 && r <= (double)N);
            sum += r;
        }
        ck_assert_double_eq(sum, (double)N * (N + 1) / 2);
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
}
END_TEST

START_TEST(test_classic_small)
{
    /* n = 4 written out by hand from the definitions */
    const double grcar[16] = {1, -1, 0, 0, 1, 1, -1, 0, 1, 1, 1, -1, 1, 1, 1, 1};
    const double frank[16] = {4, 3, 0, 0, 3, 3, 2, 0, 2, 2, 2, 1, 1, 1, 1, 1};
    const double jordan[16] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
    ptd_system *s = make_checked("grcar", 4, 0);
    ck_assert_double_eq(maxdiff(s->A, grcar), 0);
    ptd_system_free(s);
    s = make_checked("frank", 4, 0);
    ck_assert_double_eq(maxdiff(s->A, frank), 0);
    ptd_system_free(s);
    s = make_checked("jordan", 4, 0);
    ck_assert_double_eq(maxdiff(s->A, jordan), 0);
    ptd_system_free(s);
    /* Demmel: upper triangular Toeplitz, corner -10^4, diagonal -1 */
    s = make_checked("demmel", 5, 0);
    assert_close(creal(PTD_AT(s->A, 0, 4)), -1e4, 0, 8 * U_ROUND);
    assert_close(creal(PTD_AT(s->A, 1, 3)), -100, 0, 8 * U_ROUND);
    ck_assert_double_eq(creal(PTD_AT(s->A, 2, 2)), -1);
    ck_assert(ptd_matrix_is_upper(s->A));
    ptd_system_free(s);
    /* Kahan: diag s^i, A_ik = -c s^i above it */
    s = make_checked("kahan", 6, 0);
    for (size_t i = 0; i < 6; i++) {
        assert_close(creal(PTD_AT(s->A, i, i)), pow(sin(1.2), (double)i), 0, 8 * U_ROUND);
        for (size_t k = i + 1; k < 6; k++)
            assert_close(creal(PTD_AT(s->A, i, k)), -cos(1.2) * pow(sin(1.2), (double)i), 0, 8 * U_ROUND);
    }
    ck_assert(ptd_matrix_is_upper(s->A));
    ptd_system_free(s);
}
END_TEST

/* det(Frank) = 1 for every n (Golub and Wilkinson) */
START_TEST(test_frank_determinant)
{
    for (size_t N = 2; N <= 10; N++) {
        ptd_system *s = make_checked("frank", N, 0);
        lapack_int ipiv[16];
        ck_assert_int_eq(LAPACKE_zgetrf(LAPACK_COL_MAJOR, (lapack_int)N, (lapack_int)N, s->A->data, (lapack_int)N, ipiv), 0);
        double complex det = 1;
        for (size_t i = 0; i < N; i++) det *= (ipiv[i] != (lapack_int)(i + 1) ? -1.0 : 1.0) * PTD_AT(s->A, i, i);
        /* the Frank determinant is notoriously ill-conditioned: allow kappa-level error */
        assert_close(creal(det), 1.0, 1e-6, 0);
        ptd_system_free(s);
    }
}
END_TEST

START_TEST(test_random_matrices)
{
    size_t N = 200;
    ptd_system *a = make_checked("ginibre", N, 7), *b = make_checked("ginibre", N, 7), *c = make_checked("ginibre", N, 8);
    ck_assert(memcmp(a->A->data, b->A->data, N * N * sizeof(double complex)) == 0);
    ck_assert(memcmp(a->A->data, c->A->data, N * N * sizeof(double complex)) != 0);
    /* E |a_ij|^2 = 1/n: the mean over n^2 entries is within 5% (10 standard deviations) */
    double f = ptd_matrix_norm_fro(a->A);
    assert_close(f * f / (double)(N * N), 1.0 / (double)N, 0, 0.05);
    /* ||A||_2 -> 2 (quarter-circle law for singular values) */
    double n2;
    ck_assert_int_eq(ptd_matrix_norm2(a->A, &n2), PTD_OK);
    assert_close(n2, 2.0, 0.15, 0);
    ptd_system_free(a);
    ptd_system_free(b);
    ptd_system_free(c);
    ptd_system *r = make_checked("randtri", 50, 3);
    ck_assert(ptd_matrix_is_upper(r->A));
    ck_assert(!ptd_matrix_is_lower(r->A));
    ptd_system_free(r);
}
END_TEST

START_TEST(test_bad_names)
{
    ptd_system *s = (ptd_system *)1;
    ck_assert_int_eq(ptd_zoo_make("no-such-matrix", 8, 0, &s), PTD_ENOTFOUND);
    ck_assert_ptr_null(s);
    ck_assert(strstr(ptd_last_error(), "no-such-matrix") != NULL);
    ck_assert_int_eq(ptd_zoo_make("grcar", 0, 0, &s), PTD_EINVAL);
    ck_assert_int_eq(ptd_zoo_make("grcar", PTD_ZOO_MAX_N + 1, 0, &s), PTD_EINVAL);
    ck_assert_int_eq(ptd_zoo_make("file:", 8, 0, &s), PTD_EINVAL);
    ck_assert_int_eq(ptd_zoo_make("file:/nonexistent/a.mtx", 8, 0, &s), PTD_EIO);
    ck_assert_ptr_null(s);
    /* the catalogue lists each name once, with a definition */
    for (size_t i = 0; i < ptd_zoo_count(); i++) {
        ck_assert(strlen(ptd_zoo_describe(i)) > 10);
        for (size_t j = 0; j < i; j++) ck_assert_str_ne(ptd_zoo_name(i), ptd_zoo_name(j));
    }
    ck_assert_ptr_null(ptd_zoo_name(ptd_zoo_count()));
}
END_TEST

/* file:PATH gives back what ptd_mm_write wrote, bit for bit; non-square files are refused */
START_TEST(test_file_round_trip)
{
    char path[] = "/tmp/ptd-zoo-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ptd_system *g = make_checked("ginibre", 9, 5);
    ck_assert_int_eq(ptd_mm_write(f, g->A), PTD_OK);
    fclose(f);
    char spec[64];
    snprintf(spec, sizeof spec, "file:%s", path);
    ptd_system *s = NULL;
    ck_assert_msg(ptd_zoo_make(spec, 0, 0, &s) == PTD_OK, "%s", ptd_last_error());
    ck_assert_uint_eq(s->n, 9);
    ck_assert(memcmp(s->A->data, g->A->data, 81 * sizeof(double complex)) == 0);
    ck_assert_ptr_null(s->B);
    ptd_system_free(s);
    ptd_system_free(g);
    f = fopen(path, "w");
    fputs("%%MatrixMarket matrix array real general\n2 3\n1\n2\n3\n4\n5\n6\n", f);
    fclose(f);
    ck_assert_int_eq(ptd_zoo_make(spec, 0, 0, &s), PTD_EFORMAT);
    ck_assert(strstr(ptd_last_error(), "square") != NULL);
    unlink(path);
}
END_TEST

int main(void)
{
    ptd_init();
    Suite *s = suite_create("zoo");
    TCase *tc = tcase_create("hippo");
    tcase_add_test(tc, test_legs_formula);
    tcase_add_test(tc, test_legt_lmu_lagt_formula);
    tcase_add_test(tc, test_fourier_formula);
    tcase_add_test(tc, test_normal_parts);
    tcase_add_test(tc, test_legs_normal_frequency);
    tcase_add_test(tc, test_legs_eigenvalues);
    suite_add_tcase(s, tc);
    tc = tcase_create("classic");
    tcase_add_test(tc, test_classic_small);
    tcase_add_test(tc, test_frank_determinant);
    tcase_add_test(tc, test_random_matrices);
    tcase_add_test(tc, test_bad_names);
    tcase_add_test(tc, test_file_round_trip);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
