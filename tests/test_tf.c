/* test_tf.c - transfer functions and kernels: the LegS closed form against the Hessenberg
 * evaluation, Woodbury and diagonal forms against dense ones, the strong-error search on a
 * planted narrow peak, the weak error on closed forms, the exact LegS ZOH kernel, and the
 * bilinear kernel's generating function. */
#include "testutil.h"

#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_erf.h>
#include <lapacke.h>
#include <stdlib.h>
#include <string.h>

static ptd_matrix *row_ones(size_t n)
{
    ptd_matrix *C = ptd_matrix_alloc(1, n);
    for (size_t i = 0; i < n; i++) C->data[i] = 1;
    return C;
}

/* sigma_min(sI - A), by the pspec plan (exact for the triangular LegS). */
static double smin(const ptd_pspec_plan *p, double complex s)
{
    ptd_pspec_point r;
    ptd_pspec_work *w = ptd_pspec_work_alloc(p);
    ck_assert_int_eq(ptd_pspec_sigma_min(p, w, s, NULL, &r) <= PTD_ENOCONV, 1);
    ptd_pspec_work_free(w);
    return r.sigma;
}

/* The Hessenberg evaluation of LegS against the closed form, n up to 256, s on the imaginary
 * axis from 1e-2 to 1e5 and off it.  A backward-stable solve of (sI - A) x = B has
 * ||dx|| <= c n u ||sI - A|| ||(sI - A)^{-1}|| ||x||, and LegS's resolvent is exponentially
 * ill-conditioned near its spectrum (its pseudospectra reach far into the left half-plane),
 * so the tolerance is scaled by that condition number, measured at each s by sigma_min:
 * |G - G_exact| <= 10 n u (||A||_F + |s|) / sigma_min(sI - A) ||x_exact|| ||C||.  Where that
 * bound is above 1e-6 |G| the point is not informative; the test counts the informative
 * points and requires most of them. */
START_TEST(test_legs_closed_vs_dense)
{
    size_t sizes[] = {4, 16, 64, 256};
    for (int q = 0; q < 4; q++) {
        size_t n = sizes[q];
        ptd_system *s = make("hippo-legs", n);
        ptd_matrix *C = row_ones(n);
        ptd_tf *t;
        ck_assert_int_eq(ptd_tf_dense_create(s->A, s->B, C, &t), PTD_OK);
        ptd_pspec_plan *pl;
        ck_assert_int_eq(ptd_pspec_plan_create(s->A, &pl), PTD_OK);
        double nf = ptd_matrix_norm_fro(s->A);
        size_t m = 40, informative = 0;
        double complex sv[80];
        for (size_t k = 0; k < m; k++) {
            double w = pow(10, -2 + 7.0 * (double)k / (double)(m - 1));
            sv[k] = CMPLX(0, w);
            sv[m + k] = CMPLX(k % 2 ? 1.0 : 0.25 * (double)n, w * (k % 3 ? 1 : -1));
        }
        double complex G[80];
        ck_assert_int_eq(ptd_tf_eval(t, sv, 2 * m, G), PTD_OK);
        for (size_t k = 0; k < 2 * m; k++) {
            double complex ge = ptd_tf_legs_closed(n, NULL, sv[k]);
            /* ||x_exact||: the closed-form state */
            double complex x = 1 / (sv[k] + 1);
            double xn = creal(x * conj(x));
            for (size_t j = 1; j < n; j++) {
                x *= sqrt((2.0 * j + 1) / (2.0 * j - 1)) * (sv[k] - (double)(j - 1)) / (sv[k] + (double)(j + 1));
                xn += creal(x * conj(x));
            }
            double tol = 10 * n * U_ROUND * (nf + cabs(sv[k])) / smin(pl, sv[k]) * sqrt(xn) * sqrt((double)n);
            ck_assert_msg(cabs(G[k] - ge) <= tol, "n = %zu, s = %g%+gi: dense %.17g%+.17gi closed %.17g%+.17gi (tol %g)",
                          n, creal(sv[k]), cimag(sv[k]), creal(G[k]), cimag(G[k]), creal(ge), cimag(ge), tol);
            if (tol <= 1e-6 * cabs(ge)) informative++;
        }
        ck_assert_msg(informative >= m, "n = %zu: only %zu of %zu points had an informative tolerance", n,
                      informative, 2 * m);
        /* G(0) = C_0 = 1: -A e_0 = B */
        assert_close(creal(ptd_tf_legs_closed(n, NULL, 0)), 1.0, 0, 10 * n * U_ROUND);
        ptd_pspec_plan_free(pl);
        ptd_tf_free(t);
        ptd_matrix_free(C);
        ptd_system_free(s);
    }
}
END_TEST

/* Woodbury (normal part + low rank) against the closed form (LegS) and the dense form (LegT,
 * rank 2; LagT; FouT).  The normal part's resolvent has norm 1/dist(s, spec A_N) <= 2 on the
 * axis, so the Woodbury value is accurate to about n u times the size of its terms; the dense
 * side carries its own condition number as above. */
START_TEST(test_woodbury_vs_dense)
{
    const char *names[] = {"hippo-legs", "hippo-legt", "hippo-lagt", "hippo-fout"};
    for (int q = 0; q < 4; q++)
        for (size_t n = 8; n <= 64; n *= 2) {
            ptd_system *s = make(names[q], n);
            ck_assert_ptr_nonnull(s->P);
            ptd_matrix *C = row_ones(n);
            ptd_tf *td, *tw;
            ck_assert_int_eq(ptd_tf_dense_create(s->A, s->B, C, &td), PTD_OK);
            ck_assert_msg(ptd_tf_nplr_create(s->A, s->P, s->B, C, &tw) == PTD_OK, "%s", ptd_last_error());
            ptd_pspec_plan *pl;
            ck_assert_int_eq(ptd_pspec_plan_create(s->A, &pl), PTD_OK);
            double nf = ptd_matrix_norm_fro(s->A), nb = ptd_matrix_norm_fro(s->B), np = ptd_matrix_norm_fro(s->P);
            size_t good = 0;
            for (int k = 0; k < 30; k++) {
                double complex z = CMPLX(k % 4 == 0 ? 0.5 : 0, (k % 2 ? -1 : 1) * pow(10, -1 + 5.0 * k / 29));
                double complex gd = ptd_tf_eval1(td, z), gw = ptd_tf_eval1(tw, z);
                double dense_tol = 10 * n * U_ROUND * (nf + cabs(z)) / smin(pl, z) * nb * sqrt((double)n) * 10;
                /* Woodbury: terms of size ||C|| ||B|| ||P||^2 / dist^2 with dist >= 1/2 */
                double wood_tol = 100 * n * U_ROUND * sqrt((double)n) * nb * (1 + np * np) * 4 * (1 + cabs(gw));
                if (strcmp(names[q], "hippo-legs") == 0) {
                    double complex ge = ptd_tf_legs_closed(n, NULL, z);
                    ck_assert_msg(cabs(gw - ge) <= wood_tol, "legs n=%zu s=%g%+gi: woodbury %.17g%+.17gi closed %.17g%+.17gi",
                                  n, creal(z), cimag(z), creal(gw), cimag(gw), creal(ge), cimag(ge));
                }
                ck_assert_msg(cabs(gw - gd) <= wood_tol + dense_tol,
                              "%s n=%zu s=%g%+gi: woodbury %.17g%+.17gi dense %.17g%+.17gi (tol %g + %g)", names[q], n,
                              creal(z), cimag(z), creal(gw), cimag(gw), creal(gd), cimag(gd), wood_tol, dense_tol);
                good += dense_tol < 1e-6 * cabs(gd);
            }
            ck_assert_msg(good >= 10, "%s n = %zu: %zu informative points", names[q], n, good);
            /* the S4D model is the normal part: C (sI - A_N)^{-1} B, checked densely */
            ptd_tf *ts, *tn;
            ck_assert_int_eq(ptd_tf_s4d_create(tw, &ts), PTD_OK);
            ptd_matrix *AN = ptd_matrix_copy(s->A);
            for (size_t j = 0; j < n; j++)
                for (size_t i = 0; i < n; i++)
                    for (size_t r = 0; r < s->P->cols; r++) PTD_AT(AN, i, j) += PTD_AT(s->P, i, r) * PTD_AT(s->P, j, r);
            ck_assert_int_eq(ptd_tf_dense_create(AN, s->B, C, &tn), PTD_OK);
            for (int k = 0; k < 10; k++) {
                /* off the axis by 1/2: the skew normal parts of LagT and FouT have their
                 * eigenvalues on it; then ||(sI - A_N)^{-1}|| <= 2 */
                double complex z = CMPLX(0.5, pow(10, -1 + 0.5 * k));
                assert_close(cabs(ptd_tf_eval1(ts, z) - ptd_tf_eval1(tn, z)), 0,
                             100 * n * U_ROUND * nb * sqrt((double)n) * 2 * (1 + 2 * ptd_matrix_norm_fro(AN)), 0);
            }
            ptd_tf_free(ts);
            ptd_tf_free(tn);
            ptd_matrix_free(AN);
            ptd_pspec_plan_free(pl);
            ptd_tf_free(td);
            ptd_tf_free(tw);
            ptd_matrix_free(C);
            ptd_system_free(s);
        }
    /* a matrix that is not normal-plus-low-rank is refused */
    ptd_system *g = make("grcar", 8);
    ptd_matrix *P = ptd_matrix_alloc(8, 1), *C = row_ones(8);
    ptd_tf *t = NULL;
    ck_assert_int_eq(ptd_tf_nplr_create(g->A, P, C, C, &t), PTD_EINVAL); /* C is 1 x 8, not B-shaped */
    ptd_matrix *B = ptd_matrix_alloc(8, 1);
    ck_assert_int_eq(ptd_tf_nplr_create(g->A, P, B, C, &t), PTD_EINVAL);
    ck_assert_ptr_null(t);
    ptd_matrix_free(B);
    ptd_matrix_free(P);
    ptd_matrix_free(C);
    ptd_system_free(g);
}
END_TEST

/* The diagonal form of a diagonalizable system, A = V L V^{-1}, (L, V^{-1} B, C V), equals the
 * dense form; V is a Ginibre matrix plus 4 I (kappa of order 10), the tolerance
 * 100 n u kappa(V)^2 ||B|| ||C|| / dist(s, spec). */
START_TEST(test_diag_vs_dense)
{
    size_t n = 40;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    ptd_matrix *V = ptd_matrix_alloc(n, n), *A = ptd_matrix_alloc(n, n), *B = ptd_matrix_alloc(n, 1),
               *C = ptd_matrix_alloc(1, n), *Vi = ptd_matrix_alloc(n, n);
    double complex *lam = malloc(n * sizeof *lam), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    for (size_t k = 0; k < n * n; k++)
        V->data[k] = CMPLX(gsl_ran_gaussian(r, 1), gsl_ran_gaussian(r, 1)) / sqrt(2.0 * n);
    for (size_t k = 0; k < n; k++) {
        PTD_AT(V, k, k) += 4;
        lam[k] = CMPLX(-0.1 - gsl_rng_uniform(r), 50 * gsl_ran_gaussian(r, 1));
        B->data[k] = gsl_ran_gaussian(r, 1);
        C->data[k] = gsl_ran_gaussian(r, 1);
        PTD_AT(Vi, k, k) = 1;
    }
    ptd_matrix *Vc = ptd_matrix_copy(V);
    lapack_int *ipiv = malloc(n * sizeof *ipiv);
    ck_assert_int_eq(LAPACKE_zgesv(LAPACK_COL_MAJOR, (int)n, (int)n, Vc->data, (int)n, ipiv, Vi->data, (int)n), 0);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) {
            double complex a = 0;
            for (size_t k = 0; k < n; k++) a += PTD_AT(V, i, k) * lam[k] * PTD_AT(Vi, k, j);
            PTD_AT(A, i, j) = a;
        }
    for (size_t i = 0; i < n; i++) {
        b[i] = c[i] = 0;
        for (size_t k = 0; k < n; k++) {
            b[i] += PTD_AT(Vi, i, k) * B->data[k];
            c[i] += C->data[k] * PTD_AT(V, k, i);
        }
    }
    double kap;
    ck_assert_int_eq(ptd_cond_kappa(V, &kap), PTD_OK);
    ptd_tf *td, *tg;
    ck_assert_int_eq(ptd_tf_dense_create(A, B, C, &td), PTD_OK);
    ck_assert_int_eq(ptd_tf_diag_create(n, lam, b, c, &tg), PTD_OK);
    double complex sv[200], G1[200], G2[200], G3[200];
    for (int k = 0; k < 200; k++) sv[k] = CMPLX(k % 5 == 0 ? 1 : 0, -150 + 1.5 * k);
    ck_assert_int_eq(ptd_tf_eval(td, sv, 200, G1), PTD_OK);
    ck_assert_int_eq(ptd_tf_eval(tg, sv, 200, G2), PTD_OK);
    ck_assert_int_eq(ptd_tf_eval_lu(A, B, C, sv, 200, G3), PTD_OK);
    double nb = ptd_matrix_norm_fro(B), nc = ptd_matrix_norm_fro(C);
    for (int k = 0; k < 200; k++) {
        double dist = INFINITY;
        for (size_t i = 0; i < n; i++) dist = fmin(dist, cabs(sv[k] - lam[i]));
        double tol = 100 * n * U_ROUND * kap * kap * nb * nc / dist * (1 + ptd_matrix_norm_fro(A) / dist);
        ck_assert_msg(cabs(G1[k] - G2[k]) <= tol, "s = %gi: hessenberg %g%+gi diag %g%+gi (tol %g)", cimag(sv[k]),
                      creal(G1[k]), cimag(G1[k]), creal(G2[k]), cimag(G2[k]), tol);
        ck_assert_msg(cabs(G1[k] - G3[k]) <= tol, "s = %gi: hessenberg against LU", cimag(sv[k]));
    }
    /* ptd_tf_eval1 is the same arithmetic as the batch */
    ck_assert(ptd_tf_eval1(td, sv[3]) == G1[3]);
    free(ipiv);
    free(lam);
    free(b);
    free(c);
    ptd_matrix_free(V);
    ptd_matrix_free(Vc);
    ptd_matrix_free(Vi);
    ptd_matrix_free(A);
    ptd_matrix_free(B);
    ptd_matrix_free(C);
    ptd_tf_free(td);
    ptd_tf_free(tg);
    gsl_rng_free(r);
}
END_TEST

/* A planted peak of height 1 and half-width 1e-4 at w = 1234.5 (one mode 1e-4/(s - l),
 * l = -1e-4 + 1234.5 i) beside a broad one of height 1/2 at w = 0 (1/(s + 2)): the 2000-point
 * log grid over [1e-2, 1e4] misses the narrow peak by four orders of magnitude, the search
 * with the poles as seeds finds it to 1e-10. */
START_TEST(test_strong_planted_peak)
{
    double complex lam[2] = {CMPLX(-1e-4, 1234.5), -2}, c[2] = {1e-4, 1}, zl = -1, zc = 0;
    ptd_tf *t, *z;
    ck_assert_int_eq(ptd_tf_diag_create(2, lam, NULL, c, &t), PTD_OK);
    ck_assert_int_eq(ptd_tf_diag_create(1, &zl, NULL, &zc, &z), PTD_OK);
    ptd_tf_sup res;
    ck_assert_int_eq(ptd_tf_strong_error(t, z, 1e-2, 1e4, 2000, &res), PTD_OK);
    ck_assert_msg(res.grid_value < 0.51, "the grid alone found %g at %g", res.grid_value, res.grid_w);
    /* at w = 1234.5 the broad mode adds 1/(2 + 1234.5 i): |G| = 1 + O(1e-3) */
    double complex exact = ptd_tf_eval1(t, CMPLX(0, 1234.5));
    assert_close(res.value, cabs(exact), 0, 1e-6);
    assert_close(res.w, 1234.5, 1e-6, 0);
    /* a smooth peak with no seed: the grid and Brent alone, to 1e-12 */
    double complex l1 = CMPLX(-3, 40), c1 = 3;
    ptd_tf *t1;
    ck_assert_int_eq(ptd_tf_diag_create(1, &l1, NULL, &c1, &t1), PTD_OK);
    ck_assert_int_eq(ptd_tf_strong_error(t1, z, 1e-2, 1e4, 500, &res), PTD_OK);
    assert_close(res.value, 1.0, 0, 1e-12);
    assert_close(res.w, 40, 1e-4, 0);
    /* bad windows */
    ck_assert_int_eq(ptd_tf_strong_error(t1, z, 0, 1e4, 500, &res), PTD_EINVAL);
    ck_assert_int_eq(ptd_tf_strong_error(t1, z, 10, 1, 500, &res), PTD_EINVAL);
    ptd_tf_free(t);
    ptd_tf_free(t1);
    ptd_tf_free(z);
}
END_TEST

/* S4D against LegS (unit B and C): the strong error does not decay with n, and sits at the
 * largest frequency of A_N (docs/mathematics.md, section 10). */
START_TEST(test_s4d_spike)
{
    for (size_t n = 16; n <= 64; n *= 2) {
        ptd_system *s = make("hippo-legs", n);
        ptd_matrix *C = ptd_matrix_alloc(1, n), *B = ptd_matrix_copy(s->B);
        double nb = ptd_matrix_norm_fro(B);
        for (size_t i = 0; i < n; i++) B->data[i] /= nb, C->data[i] = B->data[i];
        ptd_tf *tw, *ts;
        ck_assert_int_eq(ptd_tf_nplr_create(s->A, s->P, B, C, &tw), PTD_OK);
        ck_assert_int_eq(ptd_tf_s4d_create(tw, &ts), PTD_OK);
        const double complex *lam;
        ptd_tf_modes(ts, &lam, NULL, NULL);
        double wmax = 0;
        for (size_t k = 0; k < n; k++) wmax = fmax(wmax, fabs(cimag(lam[k])));
        ptd_tf_sup res;
        ck_assert_int_eq(ptd_tf_strong_error(tw, ts, 1e-2, 10 * wmax, 0, &res), PTD_OK);
        ck_assert_msg(res.value > 0.5 && res.value < 1.2, "n = %zu: strong error %g", n, res.value);
        ck_assert_msg(fabs(fabs(res.w) - wmax) < 2, "n = %zu: sup at %g, largest frequency %g", n, res.w, wmax);
        ptd_tf_free(tw);
        ptd_tf_free(ts);
        ptd_matrix_free(B);
        ptd_matrix_free(C);
        ptd_system_free(s);
    }
}
END_TEST

/* Weak error of G = 1/(s + 1) against 0, in closed form: impulse ||e^{-t}|| = 1/sqrt2; exp
 * ||t e^{-t}|| = 1/2; step (box [0,1)) ||y||^2 = 1 - 2(1 - 1/e) + (1 - e^{-2})/2 + (1 - 1/e)^2/2;
 * gauss: int e^{-w^2}/(1 + w^2) dw = pi e erfc(1). */
START_TEST(test_weak_closed_forms)
{
    double complex l = -1, zc = 0;
    ptd_tf *t, *z;
    ck_assert_int_eq(ptd_tf_diag_create(1, &l, NULL, NULL, &t), PTD_OK);
    ck_assert_int_eq(ptd_tf_diag_create(1, &l, NULL, &zc, &z), PTD_OK);
    double e1 = exp(-1);
    double want[4] = {sqrt(0.5), 0.5, sqrt(M_PI * exp(1) * gsl_sf_erfc(1.0) / (2 * M_PI) * 2 * M_PI / (2 * M_PI)),
                      sqrt(1 - 2 * (1 - e1) + (1 - exp(-2)) / 2 + (1 - e1) * (1 - e1) / 2)};
    /* gauss: (1/2pi) int 2 pi e^{-w^2} / (1 + w^2) dw = pi e erfc(1) */
    want[2] = sqrt(M_PI * exp(1) * gsl_sf_erfc(1.0));
    for (int u = 0; u < 4; u++) {
        double e, ae;
        ck_assert_int_eq(ptd_tf_weak_error(t, z, (ptd_tf_input)u, &e, &ae), PTD_OK);
        assert_close(e, want[u], 0, 1e-7);
        ck_assert(ae < 1e-6);
    }
    ck_assert_int_eq(ptd_tf_input_parse("gauss"), PTD_INPUT_GAUSS);
    ck_assert_int_eq(ptd_tf_input_parse("nope"), -1);
    ptd_tf_free(t);
    ptd_tf_free(z);
}
END_TEST

/* Parseval against the time domain, exactly: for diagonal systems the output difference is a
 * sum of exponentials, y(t) = sum_k a_k e^{mu_k t}, and ||y||^2 = sum_{j,k} a_j conj(a_k) *
 * (-1/(mu_j + conj(mu_k))).  Impulse: mu = the poles of both systems, a = their residues (the
 * second's negated); exp: y = sum r_k (e^{l_k t} - e^{-t})/(l_k + 1), one more exponential.
 * Poles down to Re = -0.01, close to the axis, over 0 < |w| < 300: the pieces between poles
 * must catch the narrow peaks.  Tolerance 1e-6 relative (the quadrature's is 1e-7 on the
 * square). */
static double exp_norm(size_t m, const double complex *a, const double complex *mu)
{
    double complex s = 0;
    for (size_t j = 0; j < m; j++)
        for (size_t k = 0; k < m; k++) s += a[j] * conj(a[k]) * (-1 / (mu[j] + conj(mu[k])));
    return sqrt(creal(s));
}

START_TEST(test_weak_time_domain)
{
    size_t n = 12;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    double complex l1[12], l2[12], c1[12], c2[12], mu[25], a[25];
    for (size_t k = 0; k < n; k++) {
        l1[k] = CMPLX(-0.01 - 2 * gsl_rng_uniform(r), 300 * (gsl_rng_uniform(r) - 0.5));
        l2[k] = CMPLX(-0.01 - 2 * gsl_rng_uniform(r), 300 * (gsl_rng_uniform(r) - 0.5));
        c1[k] = CMPLX(gsl_ran_gaussian(r, 1), gsl_ran_gaussian(r, 1));
        c2[k] = CMPLX(gsl_ran_gaussian(r, 1), gsl_ran_gaussian(r, 1));
    }
    ptd_tf *t1, *t2;
    ck_assert_int_eq(ptd_tf_diag_create(n, l1, NULL, c1, &t1), PTD_OK);
    ck_assert_int_eq(ptd_tf_diag_create(n, l2, NULL, c2, &t2), PTD_OK);
    for (size_t k = 0; k < n; k++) mu[k] = l1[k], a[k] = c1[k], mu[n + k] = l2[k], a[n + k] = -c2[k];
    double e;
    ck_assert_int_eq(ptd_tf_weak_error(t1, t2, PTD_INPUT_IMPULSE, &e, NULL), PTD_OK);
    assert_close(e, exp_norm(2 * n, a, mu), 0, 1e-6);
    /* exp input */
    double complex a0 = 0;
    for (size_t k = 0; k < 2 * n; k++) {
        a[k] /= mu[k] + 1;
        a0 -= a[k];
    }
    mu[2 * n] = -1;
    a[2 * n] = a0;
    ck_assert_int_eq(ptd_tf_weak_error(t1, t2, PTD_INPUT_EXP, &e, NULL), PTD_OK);
    assert_close(e, exp_norm(2 * n + 1, a, mu), 0, 1e-6);
    ptd_tf_free(t1);
    ptd_tf_free(t2);
    gsl_rng_free(r);
}
END_TEST

/* The ZOH kernel of LegS against the exact Legendre expression, for C = e_j (the state
 * itself) and C = ones.  ZOH comes from one expm of a matrix of norm dt ||A||; the states are
 * then carried by products with Abar, whose norm stays near 1 for LegS, so the error is
 * about (l + 1) times the expm's, itself a modest multiple of n u: tolerance 100 n u (l + 1)
 * relative to the largest state entry. */
START_TEST(test_zoh_legs_exact)
{
    size_t n = 24, L = 300;
    double dt = 0.02;
    ptd_system *s = make("hippo-legs", n);
    ptd_matrix *Ab = ptd_matrix_alloc(n, n), *Bb = ptd_matrix_alloc(n, 1), *C = ptd_matrix_alloc(1, n);
    ck_assert_int_eq(ptd_ssm_discretize(s->A, s->B, dt, PTD_SSM_ZOH, Ab, Bb), PTD_OK);
    double complex *K = malloc(L * sizeof *K);
    double *x = malloc(n * sizeof *x);
    for (size_t j = 0; j <= n; j++) {
        for (size_t i = 0; i < n; i++) C->data[i] = j == n ? 1 : i == j;
        ck_assert_int_eq(ptd_ssm_kernel(Ab, Bb, C, L, K), PTD_OK);
        for (size_t l = 0; l < L; l++) {
            ck_assert_int_eq(ptd_ssm_legs_zoh_state(n, dt, l, x), PTD_OK);
            double want = 0, scale = 0;
            for (size_t i = 0; i < n; i++) want += creal(C->data[i]) * x[i], scale = fmax(scale, fabs(x[i]));
            ck_assert_msg(cabs(K[l] - want) <= 100 * n * U_ROUND * (double)(l + 1) * scale * (j == n ? n : 1),
                          "C = %s%zu, l = %zu: kernel %.17g exact %.17g", j == n ? "ones" : "e_", j, l, creal(K[l]), want);
        }
    }
    free(K);
    free(x);
    ptd_matrix_free(Ab);
    ptd_matrix_free(Bb);
    ptd_matrix_free(C);
    ptd_system_free(s);
}
END_TEST

/* The bilinear kernel against its generating function: sum_l K_l z^l = C (I - z Abar)^{-1} Bbar
 * for |z| = 0.6 (the tail beyond L = 400 is below 0.6^400 ||Abar^l||), the right side by
 * an independent LU.  And the diagonal kernel of the normal part's eigen-system against the
 * dense kernel of A_N, both discretisations. */
START_TEST(test_bilinear_generating)
{
    size_t n = 16, L = 400;
    double dt = 0.05;
    ptd_system *s = make("hippo-legs", n);
    ptd_matrix *Ab = ptd_matrix_alloc(n, n), *Bb = ptd_matrix_alloc(n, 1), *C = row_ones(n);
    ck_assert_int_eq(ptd_ssm_discretize(s->A, s->B, dt, PTD_SSM_BILINEAR, Ab, Bb), PTD_OK);
    double complex *K = malloc(L * sizeof *K);
    ck_assert_int_eq(ptd_ssm_kernel(Ab, Bb, C, L, K), PTD_OK);
    double complex zs[3] = {0.6, 0.6 * cexp(0.3 * I), -0.6 * I};
    for (int q = 0; q < 3; q++) {
        double complex z = zs[q], sum = 0, zp = 1;
        for (size_t l = 0; l < L; l++) sum += K[l] * zp, zp *= z;
        ptd_matrix *M = ptd_matrix_alloc(n, n);
        double complex *x = malloc(n * sizeof *x);
        lapack_int *ipiv = malloc(n * sizeof *ipiv);
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) PTD_AT(M, i, j) = (i == j) - z * PTD_AT(Ab, i, j);
        memcpy(x, Bb->data, n * sizeof *x);
        ck_assert_int_eq(LAPACKE_zgesv(LAPACK_COL_MAJOR, (int)n, 1, M->data, (int)n, ipiv, x, (int)n), 0);
        double complex want = 0;
        for (size_t i = 0; i < n; i++) want += x[i];
        double scale = 0;
        for (size_t l = 0; l < L; l++) scale += cabs(K[l]) * pow(0.6, (double)l);
        ck_assert_msg(cabs(sum - want) <= 1e3 * n * U_ROUND * scale, "z = %g%+gi: sum %.17g%+.17gi, want %.17g%+.17gi",
                      creal(z), cimag(z), creal(sum), cimag(sum), creal(want), cimag(want));
        free(x);
        free(ipiv);
        ptd_matrix_free(M);
    }
    /* diagonal against dense on A_N (normal: eigenvectors orthonormal, no amplification) */
    ptd_tf *tw, *ts;
    ck_assert_int_eq(ptd_tf_nplr_create(s->A, s->P, s->B, C, &tw), PTD_OK);
    ck_assert_int_eq(ptd_tf_s4d_create(tw, &ts), PTD_OK);
    const double complex *lam, *b, *c;
    ptd_tf_modes(ts, &lam, &b, &c);
    ptd_matrix *AN = ptd_matrix_copy(s->A);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) PTD_AT(AN, i, j) += PTD_AT(s->P, i, 0) * PTD_AT(s->P, j, 0);
    double complex *ab = malloc(n * sizeof *ab), *bb = malloc(n * sizeof *bb), *K2 = malloc(L * sizeof *K2);
    for (int m = 0; m < 2; m++) {
        ck_assert_int_eq(ptd_ssm_discretize(AN, s->B, dt, (ptd_ssm_method)m, Ab, Bb), PTD_OK);
        ck_assert_int_eq(ptd_ssm_kernel(Ab, Bb, C, L, K), PTD_OK);
        ck_assert_int_eq(ptd_ssm_discretize_diag(n, lam, b, dt, (ptd_ssm_method)m, ab, bb), PTD_OK);
        ck_assert_int_eq(ptd_ssm_kernel_diag(n, ab, bb, c, L, K2), PTD_OK);
        double kmax = 0;
        for (size_t l = 0; l < L; l++) kmax = fmax(kmax, cabs(K[l]));
        for (size_t l = 0; l < L; l++)
            ck_assert_msg(cabs(K[l] - K2[l]) <= 100 * n * U_ROUND * (double)(l + 1) * kmax,
                          "method %d, l = %zu: dense %g%+gi diag %g%+gi", m, l, creal(K[l]), cimag(K[l]), creal(K2[l]),
                          cimag(K2[l]));
    }
    ck_assert_int_eq(ptd_ssm_discretize(AN, s->B, -1, PTD_SSM_ZOH, Ab, Bb), PTD_EINVAL);
    free(ab);
    free(bb);
    free(K2);
    ptd_matrix_free(AN);
    ptd_tf_free(tw);
    ptd_tf_free(ts);
    free(K);
    ptd_matrix_free(Ab);
    ptd_matrix_free(Bb);
    ptd_matrix_free(C);
    ptd_system_free(s);
}
END_TEST

int main(void)
{
    ptd_init();
    Suite *s = suite_create("tf");
    TCase *tc = tcase_create("transfer functions");
    tcase_add_test(tc, test_legs_closed_vs_dense);
    tcase_add_test(tc, test_woodbury_vs_dense);
    tcase_add_test(tc, test_diag_vs_dense);
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("errors");
    tcase_add_test(te, test_strong_planted_peak);
    tcase_add_test(te, test_s4d_spike);
    tcase_add_test(te, test_weak_closed_forms);
    tcase_add_test(te, test_weak_time_domain);
    suite_add_tcase(s, te);
    TCase *tk = tcase_create("kernels");
    tcase_add_test(tk, test_zoh_legs_exact);
    tcase_add_test(tk, test_bilinear_generating);
    suite_add_tcase(s, tk);
    return run_suite(s);
}
