/* test_transient.c - e^{tA} and its norms against closed forms (normal matrices, Jordan
 * blocks, the LegS action e^{tA} B of docs/mathematics.md section 8), ||A^k||, and the bounds
 * e^{t alpha} <= ||e^{tA}|| <= e^{t omega}, sup ||e^{tA}|| >= the Kreiss-type bound.
 * (LegS itself is a contraction, omega = -1/2: the Demmel matrix, eigenvalue -1, grows.) */
#include "testutil.h"

#include <gsl/gsl_sf_legendre.h>
#include <limits.h>
#include <mpfr.h>
#include <stdlib.h>

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

/* ||A^k||_2 from the exact powers: grcar's entries are integers, so A^k is computed exactly
 * in MPFR (PREC bits hold 5^k for k <= KMAX), scaled by the power of two of its largest
 * entry, rounded to double (a relative perturbation u per entry, so u sqrt(n) ||A^k|| in
 * norm) and its 2-norm taken by zgesvd.  *log2n = log2 ||A^k||, which may be far beyond the
 * double range, and want[k] = ||A^k|| rounded to double (+inf beyond the range). */
enum { ORACLE_KMAX = 1000, ORACLE_PREC = 2400 };
static void exact_power_norms(const ptd_matrix *A, size_t kmax, double *log2n, double *want)
{
    size_t n = A->rows, nn = n * n;
    mpfr_t *P = malloc(nn * sizeof *P), *Q = malloc(nn * sizeof *Q), *a = malloc(nn * sizeof *a);
    ck_assert(P && Q && a);
    for (size_t k = 0; k < nn; k++) {
        mpfr_inits2(ORACLE_PREC, P[k], Q[k], a[k], (mpfr_ptr)0);
        ck_assert(cimag(A->data[k]) == 0 && creal(A->data[k]) == round(creal(A->data[k])));
        mpfr_set_d(a[k], creal(A->data[k]), MPFR_RNDN);
        mpfr_set_ui(P[k], k % (n + 1) == 0, MPFR_RNDN);
    }
    ptd_matrix *D = ptd_matrix_alloc(n, n);
    log2n[0] = 0;
    want[0] = 1;
    for (size_t p = 1; p <= kmax; p++) {
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) {
                mpfr_set_ui(Q[i + j * n], 0, MPFR_RNDN);
                for (size_t l = 0; l < n; l++) mpfr_fma(Q[i + j * n], a[i + l * n], P[l + j * n], Q[i + j * n], MPFR_RNDN);
            }
        mpfr_t *tmp = P;
        P = Q;
        Q = tmp;
        long emax = LONG_MIN;
        for (size_t k = 0; k < nn; k++)
            if (!mpfr_zero_p(P[k])) emax = emax > mpfr_get_exp(P[k]) ? emax : mpfr_get_exp(P[k]);
        ck_assert_msg(emax != LONG_MIN, "grcar^%zu is zero", p);
        for (size_t k = 0; k < nn; k++) {
            long ex;
            double m = mpfr_get_d_2exp(&ex, P[k], MPFR_RNDN);
            D->data[k] = ldexp(m, (int)(ex - emax));
        }
        double v;
        ck_assert_int_eq(ptd_matrix_norm2(D, &v), PTD_OK);
        log2n[p] = log2(v) + (double)emax;
        want[p] = ldexp(v, emax > INT_MAX ? INT_MAX : (int)emax);
    }
    for (size_t k = 0; k < nn; k++) mpfr_clears(P[k], Q[k], a[k], (mpfr_ptr)0);
    free(P);
    free(Q);
    free(a);
    ptd_matrix_free(D);
}

/* grcar n = 8 to k = 1000: ||A^k|| passes the double range near k = 967.  Every value within
 * the range is computed (none is lost to an overflow of A^k itself), every value beyond it is
 * +inf, and the finite ones agree with the exact powers within the first-order bound of
 * sequential multiplication: A^k - fl(A^k) = sum_j A^{k-j} F_j with |F_j| <= gamma_n |A|
 * |A^{j-1}|, so relative to ||A^k|| the error is at most
 * gamma_n ||A||_F sqrt(n) sum_j ||A^{k-j}|| ||A^{j-1}|| / ||A^k||, plus the SVD's and the
 * oracle's own n u. */
START_TEST(test_power_norms_beyond_range)
{
    const size_t n = 8, kmax = ORACLE_KMAX;
    ptd_system *s = make("grcar", n);
    double *got = malloc((kmax + 1) * sizeof *got), *l2 = malloc((kmax + 1) * sizeof *l2),
           *want = malloc((kmax + 1) * sizeof *want);
    ck_assert(got && l2 && want);
    ck_assert_msg(ptd_transient_power_norms(s->A, kmax, got) == PTD_OK, "%s", ptd_last_error());
    exact_power_norms(s->A, kmax, l2, want);
    const double gamma = (double)n * U_ROUND / (1 - (double)n * U_ROUND), fro = ptd_matrix_norm_fro(s->A);
    size_t nfinite = 0, ninf = 0;
    double worst = 0;
    for (size_t k = 1; k <= kmax; k++) {
        ck_assert_msg(!isnan(got[k]) && got[k] > 0, "||A^%zu|| = %g", k, got[k]);
        double sum = 0; /* sum_j ||A^{k-j}|| ||A^{j-1}|| / ||A^k||, in log2 to stay in range */
        for (size_t j = 1; j <= k; j++) sum += exp2(l2[k - j] + l2[j - 1] - l2[k]);
        double tol = gamma * fro * sqrt((double)n) * sum + 4 * (double)n * U_ROUND;
        double lg = log2(DBL_MAX);
        if (l2[k] + log2(1 + tol) < lg) {
            ck_assert_msg(isfinite(got[k]), "||A^%zu|| = 2^%.6g is in range, got %g", k, l2[k], got[k]);
            double rel = fabs(got[k] - want[k]) / want[k];
            ck_assert_msg(rel <= tol, "||A^%zu||: relative error %.3g > bound %.3g", k, rel, tol);
            worst = fmax(worst, rel / tol);
            nfinite++;
        } else if (l2[k] - log2(1 + tol) > lg) {
            ck_assert_msg(got[k] == INFINITY, "||A^%zu|| = 2^%.6g is beyond the range, got %g", k, l2[k], got[k]);
            ninf++;
        }
    }
    ck_assert_msg(nfinite > 900 && ninf > 20, "%zu finite, %zu beyond the range", nfinite, ninf);
    fprintf(stderr, "grcar powers: %zu in range (the worst error %.3g of its bound), %zu beyond\n", nfinite, worst, ninf);
    free(got);
    free(l2);
    free(want);
    ptd_system_free(s);
}
END_TEST

/* Scaling by a power of two is exact: ||(2^s A)^k|| = 2^{sk} ||A^k|| bit for bit, and 0 or
 * +inf where 2^{sk} ||A^k|| is below or beyond the double range (the powers themselves leave
 * it at k = 2, long before their norms are unrepresentable for s = 300). */
START_TEST(test_power_norms_scaling)
{
    ptd_system *s = make("grcar", 6);
    double ref[9], got[9];
    ck_assert_int_eq(ptd_transient_power_norms(s->A, 8, ref), PTD_OK);
    const int shifts[] = {300, 600, -300, -600};
    for (int c = 0; c < 4; c++) {
        ptd_matrix *B = ptd_matrix_copy(s->A);
        for (size_t k = 0; k < 36; k++) B->data[k] = ldexp(creal(B->data[k]), shifts[c]);
        ck_assert_msg(ptd_transient_power_norms(B, 8, got) == PTD_OK, "%s", ptd_last_error());
        for (int k = 0; k <= 8; k++)
            ck_assert_msg(got[k] == ldexp(ref[k], k * shifts[c]), "shift %d, k = %d: %.17g, want %.17g", shifts[c], k,
                          got[k], ldexp(ref[k], k * shifts[c]));
        ptd_matrix_free(B);
    }
    ptd_system_free(s);
}
END_TEST

/* A normal matrix with alpha = c - 1/2 (hippo-legs-normal + cI): ||e^{tA}|| = e^{t alpha}
 * to 100 n u ||tA|| relative wherever that is a double, 0 below the range and +inf beyond
 * it, however far: the exponential itself is not representable long before. */
START_TEST(test_norms_beyond_range)
{
    const size_t n = 16;
    ptd_system *s = make("hippo-legs-normal", n);
    for (size_t i = 0; i < n; i++) PTD_AT(s->A, i, i) += 1.5; /* alpha = 1 */
    double nrm;
    ck_assert_int_eq(ptd_matrix_norm2(s->A, &nrm), PTD_OK);
    const double t[] = {700, 709, 710, 1e4, 1e308, -700, -740, -1e4, -1e308}; /* 1e308: tA overflows */
    double out[9];
    ck_assert_msg(ptd_transient_norms(s->A, t, 9, out) == PTD_OK, "%s", ptd_last_error());
    for (int k = 0; k < 9; k++) {
        /* below DBL_MIN the result is rounded to the subnormal grid: half its spacing more */
        double want = exp(t[k]);
        if (isfinite(want) && want > 0) assert_close(out[k], want, DBL_TRUE_MIN / 2, 100 * n * U_ROUND * nrm * fabs(t[k]));
        else ck_assert_msg(out[k] == want, "t = %g: got %g, want %g", t[k], out[k], want);
    }
    /* the matrix itself is an error beyond the range, as documented */
    ptd_matrix *E = ptd_matrix_alloc(n, n);
    ck_assert_int_eq(ptd_transient_expm(s->A, 720, E), PTD_ERANGE);
    ck_assert_int_eq(ptd_transient_expm(s->A, 700, E), PTD_OK);
    ck_assert(ptd_matrix_is_finite(E));
    ptd_matrix_free(E);
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
    double out[3], t = 1;
    PTD_AT(s->A, 1, 2) = NAN;
    ck_assert_int_eq(ptd_transient_power_norms(s->A, 2, out), PTD_EINVAL);
    ck_assert_int_eq(ptd_transient_norms(s->A, &t, 1, out), PTD_EINVAL);
    PTD_AT(s->A, 1, 2) = 1;
    t = INFINITY;
    ck_assert_int_eq(ptd_transient_norms(s->A, &t, 1, out), PTD_EINVAL);
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
    tcase_add_test(tc, test_power_norms_beyond_range);
    tcase_add_test(tc, test_power_norms_scaling);
    tcase_add_test(tc, test_norms_beyond_range);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
