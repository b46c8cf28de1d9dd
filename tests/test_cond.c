/* test_cond.c - double-precision conditioning against exact values and independent
 * computations. */
#include "testutil.h"

#include <lapacke.h>
#include <stdlib.h>

static ptd_eig *eig_of(const ptd_matrix *A)
{
    ptd_eig *e = NULL;
    ck_assert_msg(ptd_cond_eig(A, &e) == PTD_OK, "%s", ptd_last_error());
    return e;
}

/* A normal matrix has a unitary eigenvector matrix: kappa_2(V) = 1, every eigenvalue
 * condition number 1, no departure from normality. */
START_TEST(test_normal_is_perfectly_conditioned)
{
    const char *names[] = {"hippo-legs-normal", "hippo-lagt-normal", "hippo-foud"};
    for (int m = 0; m < 3; m++) {
        size_t n = 16;
        ptd_system *s = make(names[m], n);
        ptd_eig *e = eig_of(s->A);
        /* distinct eigenvalues: V is unitary to about n u times the eigenvector condition
         * (1/gap with gaps >= 0.1 here) */
        assert_close(e->kappa_V, 1.0, 0, 100 * n * U_ROUND * e->norm2);
        ck_assert(e->kappa_V_resolved);
        for (size_t i = 0; i < n; i++) assert_close(e->eig_cond[i], 1.0, 0, 100 * n * U_ROUND);
        ck_assert_double_le(e->henrici, 100 * n * U_ROUND * e->norm_fro);
        ptd_eig_free(e);
        ptd_system_free(s);
    }
}
END_TEST

/* LegS n = 2: A = [[-1, 0], [-sqrt3, -2]].  Eigenvectors (0, 1) for -2 and
 * (1, sqrt3)/2 for -1; V^*V = [[1, sqrt3/2], [sqrt3/2, 1]] has eigenvalues 1 +- sqrt3/2, so
 * kappa_2(V) = sqrt((1 + sqrt3/2)/(1 - sqrt3/2)) = (2 + sqrt3) ... exactly 2 + sqrt3. */
START_TEST(test_legs2)
{
    ptd_system *s = make("hippo-legs", 2);
    ptd_eig *e = eig_of(s->A);
    assert_close(e->kappa_V, 2 + sqrt(3.0), 0, 64 * U_ROUND);
    /* both eigenvalue condition numbers: 1/|y^* x| = 1/sin(angle) = 2 */
    for (int i = 0; i < 2; i++) assert_close(e->eig_cond[i], 2.0, 0, 64 * U_ROUND);
    /* Henrici: sqrt(||A||_F^2 - 1 - 4) = sqrt(3) */
    assert_close(e->henrici, sqrt(3.0), 0, 64 * U_ROUND);
    /* numerical abscissa: the largest eigenvalue of [[-1, -sqrt3/2], [-sqrt3/2, -2]] */
    assert_close(e->numerical_abscissa, -1.5 + 1.0, 0, 64 * U_ROUND);
    assert_close(e->spectral_abscissa, -1.0, 0, 8 * U_ROUND);
    ptd_eig_free(e);
    ptd_system_free(s);
}
END_TEST

/* eigenvalue condition numbers against ||y|| ||x|| / |y^* x| with the left eigenvectors
 * taken independently from the rows of V^{-1} (zgetrf/zgetri) */
START_TEST(test_eig_cond_independent)
{
    const char *names[] = {"grcar", "ginibre", "frank", "hippo-legt", "kahan"};
    for (int m = 0; m < 5; m++) {
        size_t n = 10;
        ptd_system *s = make(names[m], n);
        ptd_eig *e = eig_of(s->A);
        ptd_matrix *W = ptd_matrix_copy(e->V);
        lapack_int ipiv[10];
        ck_assert_int_eq(LAPACKE_zgetrf(LAPACK_COL_MAJOR, 10, 10, W->data, 10, ipiv), 0);
        ck_assert_int_eq(LAPACKE_zgetri(LAPACK_COL_MAJOR, 10, W->data, 10, ipiv), 0);
        for (size_t i = 0; i < n; i++) {
            /* row i of V^{-1} is y_i^* scaled so that y_i^* x_i = 1; x_i has unit norm */
            double ny = 0;
            for (size_t k = 0; k < n; k++) ny += creal(PTD_AT(W, i, k) * conj(PTD_AT(W, i, k)));
            double want = sqrt(ny);
            /* both are computed from V; they agree to kappa(lambda) kappa(V) u */
            assert_close(e->eig_cond[i], want, 0, 1000 * n * U_ROUND * e->kappa_V);
            ck_assert(e->eig_cond[i] >= 1.0 - 100 * n * U_ROUND);
        }
        /* left eigenvectors: y_i^* A = lambda_i y_i^* to rounding */
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < n; k++) {
                double complex r = -e->lambda[i] * conj(PTD_AT(e->Y, k, i));
                for (size_t j = 0; j < n; j++) r += conj(PTD_AT(e->Y, j, i)) * PTD_AT(s->A, j, k);
                ck_assert_double_le(cabs(r), 1000 * n * U_ROUND * e->norm2 * e->eig_cond[i]);
            }
        ptd_matrix_free(W);
        ptd_eig_free(e);
        ptd_system_free(s);
    }
}
END_TEST

/* LegS: permutation balancing finds -1..-n; kappa_V grows like (3 + 2 sqrt2)^n until it
 * passes 1/u, where double precision can only say "at least 1/u" */
START_TEST(test_legs_breakdown)
{
    ptd_system *s = make("hippo-legs", 64);
    ptd_eig *e = eig_of(s->A);
    double *re = malloc(64 * sizeof *re);
    for (size_t i = 0; i < 64; i++) re[i] = creal(e->lambda[i]);
    for (size_t i = 0; i < 64; i++) {
        int found = 0;
        for (size_t k = 1; k <= 64; k++) found |= fabs(re[i] + (double)k) <= 1e-6 * k;
        ck_assert_msg(found, "eigenvalue %g is not one of -1..-64", re[i]);
    }
    ck_assert(!e->kappa_V_resolved);
    ck_assert(e->eig_cond_unresolved > 0);
    ptd_eig_free(e);
    ptd_system_free(s);
    free(re);
    /* resolved at n = 8: about 7.7e4 (docs/mathematics.md section 5) */
    s = make("hippo-legs", 8);
    e = eig_of(s->A);
    ck_assert(e->kappa_V_resolved);
    ck_assert_msg(e->kappa_V > 5e4 && e->kappa_V < 1e5, "kappa_V(LegS 8) = %g", e->kappa_V);
    ptd_eig_free(e);
    ptd_system_free(s);
}
END_TEST

START_TEST(test_errors)
{
    ptd_eig *e = (ptd_eig *)1;
    ptd_matrix *A = ptd_matrix_alloc(2, 3);
    ck_assert_int_eq(ptd_cond_eig(A, &e), PTD_EINVAL);
    ck_assert_ptr_null(e);
    ptd_matrix_free(A);
    A = ptd_matrix_alloc(2, 2);
    A->data[1] = INFINITY;
    ck_assert_int_eq(ptd_cond_eig(A, &e), PTD_EINVAL);
    double k;
    ck_assert_int_eq(ptd_cond_kappa(A, &k), PTD_EINVAL);
    A->data[1] = 0;
    /* the zero matrix: singular V is impossible (V = I), kappa 1 */
    ck_assert_int_eq(ptd_cond_eig(A, &e), PTD_OK);
    assert_close(e->kappa_V, 1.0, 0, 8 * U_ROUND);
    ptd_eig_free(e);
    ptd_matrix_free(A);
}
END_TEST

int main(void)
{
    ptd_init();
    Suite *s = suite_create("cond");
    TCase *tc = tcase_create("double");
    tcase_add_test(tc, test_normal_is_perfectly_conditioned);
    tcase_add_test(tc, test_legs2);
    tcase_add_test(tc, test_eig_cond_independent);
    tcase_add_test(tc, test_legs_breakdown);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
