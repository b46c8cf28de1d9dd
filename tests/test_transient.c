/* test_transient.c - e^{tA} and its norms against closed forms (normal matrices, Jordan
 * blocks, the LegS action e^{tA} B of docs/mathematics.md section 8), ||A^k||, and the bounds
 * e^{t alpha} <= ||e^{tA}|| <= e^{t omega}, sup ||e^{tA}|| >= the Kreiss-type bound.
 * (LegS itself is a contraction, omega = -1/2: the Demmel matrix, eigenvalue -1, grows.) */
#include "testutil.h"

#include <gsl/gsl_sf_legendre.h>
#include <stdlib.h>

static ptd_system *make(const char *name, size_t n)
{
    ptd_system *s = NULL;
    ck_assert_msg(ptd_zoo_make(name, n, 1, &s) == PTD_OK, "%s: %s", name, ptd_last_error());
    return s;
}

/* A normal matrix (the skew part of LegS minus I/2: hippo-legs-normal): ||e^{tA}|| = e^{t alpha}
 * with alpha = -1/2.  Scaling and squaring errs by about u ||tA|| per squaring, relative. */
START_TEST(test_normal)
{
    ptd_system *s = make("hippo-legs-normal", 16);
    double nrm;
    ck_assert_int_eq(ptd_matrix_norm2(s->A, &nrm), PTD_OK);
    const double t[] = {0, 0.1, 1, 3, 10};
    double out[5];
    ck_assert_int_eq(ptd_transient_norms(s->A, t, 5, out), PTD_OK);
    for (int k = 0; k < 5; k++) assert_close(out[k], exp(-0.5 * t[k]), 0, 100 * 16 * U_ROUND * fmax(1, nrm * t[k]));
    double pw[6];
    ck_assert_int_eq(ptd_transient_power_norms(s->A, 5, pw), PTD_OK);
    for (int k = 0; k <= 5; k++) assert_close(pw[k], pow(nrm, k), 0, 100 * 16 * U_ROUND * (k + 1));
    ptd_system_free(s);
}
END_TEST

/* A = J - I with J the n x n nilpotent Jordan block: e^{tA} = e^{-t} sum_k t^k J^k / k!, entry
 * (i, j) = e^{-t} t^{j-i} / (j-i)!.  Entrywise to 100 n u ||e^{tA}|| (1 + t). */
START_TEST(test_jordan)
{
    const size_t n = 6;
    ptd_system *s = make("jordan", n);
    for (size_t i = 0; i < n; i++) PTD_AT(s->A, i, i) = -1;
    ptd_matrix *E = ptd_matrix_alloc(n, n);
    const double ts[] = {0.5, 2, 7};
    for (int c = 0; c < 3; c++) {
        double t = ts[c], en;
        ck_assert_int_eq(ptd_transient_expm(s->A, t, E), PTD_OK);
        ck_assert_int_eq(ptd_matrix_norm2(E, &en), PTD_OK);
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) {
                double want = i <= j ? exp(-t) * pow(t, (double)(j - i)) / tgamma((double)(j - i) + 1) : 0;
                assert_close(creal(PTD_AT(E, i, j)), want, 100 * n * U_ROUND * en * (1 + t), 0);
                assert_close(cimag(PTD_AT(E, i, j)), 0, 100 * n * U_ROUND * en * (1 + t), 0);
            }
    }
    /* the nilpotent block: ||J^k|| = 1 for k < n, 0 from n on */
    ptd_system *j = make("jordan", n);
    double pw[9];
    ck_assert_int_eq(ptd_transient_power_norms(j->A, 8, pw), PTD_OK);
    for (size_t k = 0; k <= 8; k++) assert_close(pw[k], k < n ? 1.0 : 0.0, 0, 0);
    ptd_matrix_free(E);
    ptd_system_free(s);
    ptd_system_free(j);
}
END_TEST

/* LegS: [e^{tA} B]_n = p_n P_n(2 e^{-t} - 1) e^{-t}.  LegS is far from normal (||A|| ~ N^2/2,
 * kappa(V) ~ (3 + 2 sqrt 2)^N), so the bound is the backward one: 100 N u ||tA|| ||e^{tA}||
 * ||B|| absolute. */
START_TEST(test_legs_action)
{
    const size_t N = 24;
    ptd_system *s = make("hippo-legs", N);
    ptd_matrix *E = ptd_matrix_alloc(N, N);
    double nrm, bn = 0;
    ck_assert_int_eq(ptd_matrix_norm2(s->A, &nrm), PTD_OK);
    for (size_t i = 0; i < N; i++) bn = hypot(bn, cabs(PTD_AT(s->B, i, 0)));
    const double ts[] = {0.01, 0.3, 1, 4};
    for (int c = 0; c < 4; c++) {
        double t = ts[c], en;
        ck_assert_int_eq(ptd_transient_expm(s->A, t, E), PTD_OK);
        ck_assert_int_eq(ptd_matrix_norm2(E, &en), PTD_OK);
        for (size_t i = 0; i < N; i++) {
            double complex acc = 0;
            for (size_t k = 0; k < N; k++) acc += PTD_AT(E, i, k) * PTD_AT(s->B, k, 0);
            double want = sqrt(2.0 * (double)i + 1) * gsl_sf_legendre_Pl((int)i, 2 * exp(-t) - 1) * exp(-t);
            assert_close(creal(acc), want, 100 * (double)N * U_ROUND * fmax(1, t * nrm) * en * bn, 0);
        }
    }
    ptd_matrix_free(E);
    ptd_system_free(s);
}
END_TEST

/* e^{t alpha} <= ||e^{tA}|| <= e^{t omega}; the Kreiss-type bound is below the largest
 * ||e^{tA}|| sampled (finely enough to catch the peak within 1%). */
START_TEST(test_bounds)
{
    ptd_system *s = make("demmel", 8);
    ptd_pspec_plan *p = NULL;
    ck_assert_int_eq(ptd_pspec_plan_create(s->A, &p), PTD_OK);
    double omega;
    ck_assert_int_eq(ptd_fov_abscissa(s->A, &omega), PTD_OK);
    double t[200], out[200], mx = 0;
    for (int k = 0; k < 200; k++) t[k] = 0.05 * k;
    ck_assert_int_eq(ptd_transient_norms(s->A, t, 200, out), PTD_OK);
    for (int k = 0; k < 200; k++) {
        ck_assert(out[k] >= exp(-t[k]) * (1 - 1e-10));
        ck_assert(out[k] <= exp(t[k] * omega) * (1 + 1e-10));
        mx = fmax(mx, out[k]);
    }
    double eps[9], K, at;
    for (int k = 0; k < 9; k++) eps[k] = pow(10.0, 2 - k);
    ck_assert_int_eq(ptd_transient_kreiss(p, eps, 9, 0, &K, &at), PTD_OK);
    ck_assert_msg(K > 1 && K <= mx * 1.01, "Kreiss bound %g, max sampled %g", K, mx);
    double Kd;
    ck_assert_int_eq(ptd_transient_kreiss(p, eps, 9, 1, &Kd, &at), PTD_OK);
    ck_assert(Kd >= 1);
    ptd_pspec_plan_free(p);
    ptd_system_free(s);
}
END_TEST

START_TEST(test_errors)
{
    ptd_system *s = make("grcar", 4);
    ptd_matrix *E = ptd_matrix_alloc(3, 3);
    ck_assert_int_eq(ptd_transient_expm(s->A, 1, E), PTD_EINVAL);
    ptd_matrix_free(E);
    E = ptd_matrix_alloc(4, 4);
    ck_assert_int_eq(ptd_transient_expm(s->A, NAN, E), PTD_EINVAL);
    ck_assert_int_eq(ptd_transient_expm(s->A, 1e300, E), PTD_ERANGE);
    ptd_matrix_free(E);
    ptd_system_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("transient");
    TCase *tc = tcase_create("exponential");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_normal);
    tcase_add_test(tc, test_jordan);
    tcase_add_test(tc, test_legs_action);
    tcase_add_test(tc, test_bounds);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
