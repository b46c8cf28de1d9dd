/* test_condmp.c - extended precision kappa_2(V) and eigenvalue condition numbers of
 * triangular matrices (ptd_cond_mp) against: closed forms (2x2, diagonal), double precision
 * LAPACK where it is reliable, an independent MPFR computation in this file (V inverted by
 * substitution, norms by power iteration) where it is not, invariances (index reversal),
 * stability under a precision increase, the LegS growth rate, and published values. */
#include "testutil.h"

#include <gmp.h>
#include <gsl/gsl_randist.h>
#include <lapacke.h>
#include <gsl/gsl_rng.h>
#include <mpfr.h>
#include <stdlib.h>
#include <string.h>

static ptd_eig_mp *mp(const ptd_matrix *A, unsigned long bits, int digits)
{
    ptd_eig_mp *e = NULL;
    int st = ptd_cond_mp(A, bits, digits, &e);
    ck_assert_msg(st == PTD_OK, "ptd_cond_mp: %s (%s)", ptd_last_error(), ptd_strerror(st));
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->n, A->rows);
    return e;
}

static ptd_eig_mp *legs_mp(size_t n, unsigned long bits)
{
    ptd_system *s = make("hippo-legs", n);
    ptd_eig_mp *e = mp(s->A, bits, 10);
    ptd_system_free(s);
    return e;
}

/* J A J: the same matrix with the index order reversed */
static ptd_matrix *reversed(const ptd_matrix *A)
{
    size_t n = A->rows;
    ptd_matrix *R = ptd_matrix_alloc(n, n);
    ck_assert_ptr_nonnull(R);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) PTD_AT(R, i, j) = PTD_AT(A, n - 1 - i, n - 1 - j);
    return R;
}

/* ---- 2x2: closed form --------------------------------------------------------------------
 * T = [[a, b], [0, d]], a != d.  x_0 = e_0; x̂_1 = (b / (d - a), 1), so with t = |b| / |d - a|
 * the unit eigenvectors meet at |cos theta| = c = t / sqrt(1 + t^2).  V^* V = [[1, c'],
 * [conj c', 1]] with |c'| = c has eigenvalues 1 +- c, so
 *   kappa_2(V) = sqrt((1 + c) / (1 - c)) = (1 + c) / sqrt(1 - c^2) = t + sqrt(1 + t^2),
 * and both eigenvalue condition numbers are 1 / sin theta = sqrt(1 + t^2).
 * LegS 2x2 = [[-1, 0], [-sqrt3, -2]] reversed is [[-2, -sqrt3], [0, -1]]: t = sqrt3, so
 * kappa_2(V) = 2 + sqrt3 (docs/mathematics.md section 5) and eig_cond = (2, 2): the claim holds. */

START_TEST(test_legs2_closed_form)
{
    ptd_eig_mp *e = legs_mp(2, 0);
    /* A holds sqrt3 rounded to double; kappa and eig_cond move by a few u with it */
    assert_close(e->kappa_V, 2 + sqrt(3.0), 0, 8 * U_ROUND);
    assert_close(e->log10_kappa_V, log10(2 + sqrt(3.0)), 0, 8 * U_ROUND);
    assert_close(e->eig_cond[0], 2.0, 0, 8 * U_ROUND);
    assert_close(e->eig_cond[1], 2.0, 0, 8 * U_ROUND);
    ck_assert(creal(e->lambda[0]) == -1 && creal(e->lambda[1]) == -2);
    ck_assert_int_ge(e->digits, 10);
    ck_assert_int_le(e->digits, 15);
    ptd_eig_mp_free(e);
}
END_TEST

START_TEST(test_2x2_closed_form)
{
    /* real and complex, upper and lower, t from 1e-3 to 1e6 */
    const double complex a[] = {1, 0.5 + 2 * I, -3, 2 * I, 1e-3};
    const double complex d[] = {2, -1 + 0.25 * I, -3 + 1e-6 * I, -2 * I, 7};
    const double complex b[] = {1e-3, 4 - 3 * I, 1, 1e-3 * I, -5e3};
    for (int k = 0; k < 5; k++)
        for (int lower = 0; lower < 2; lower++) {
            ptd_matrix *A = ptd_matrix_alloc(2, 2);
            PTD_AT(A, 0, 0) = a[k];
            PTD_AT(A, 1, 1) = d[k];
            if (lower) PTD_AT(A, 1, 0) = b[k];
            else PTD_AT(A, 0, 1) = b[k];
            double t = cabs(b[k]) / cabs(d[k] - a[k]);
            ptd_eig_mp *e = mp(A, 0, 12);
            /* t itself carries a few roundings (cabs, division) */
            assert_close(e->kappa_V, t + sqrt(1 + t * t), 0, 16 * U_ROUND);
            assert_close(e->eig_cond[0], sqrt(1 + t * t), 0, 16 * U_ROUND);
            assert_close(e->eig_cond[1], sqrt(1 + t * t), 0, 16 * U_ROUND);
            ck_assert(e->lambda[0] == a[k] && e->lambda[1] == d[k]);
            ck_assert_int_ge(e->digits, 12);
            ptd_eig_mp_free(e);
            ptd_matrix_free(A);
        }
}
END_TEST

/* kappa beyond the double range: a = 1, d = 1 + 2^-52, b = 1e300, t = 1e300 2^52 (exact
 * difference), kappa = t + sqrt(1 + t^2) = 2t (1 + O(t^-2)) = 9.007e315. */
START_TEST(test_beyond_double_range)
{
    ptd_matrix *A = ptd_matrix_alloc(2, 2);
    PTD_AT(A, 0, 0) = 1;
    PTD_AT(A, 1, 1) = 1 + 0x1p-52;
    PTD_AT(A, 0, 1) = 1e300;
    ptd_eig_mp *e = mp(A, 0, 10);
    ck_assert(isinf(e->kappa_V) && e->kappa_V > 0);
    double want = log10(2.0) + 300 + 52 * log10(2.0);
    assert_close(e->log10_kappa_V, want, 0, 8 * U_ROUND);
    ck_assert(isinf(e->eig_cond[0]) && isinf(e->eig_cond[1]));
    /* beyond the double range, not defective: the eigenvalues are distinct */
    ck_assert(e->defective == 0 && e->repeated == 0 && !e->defective_at[0] && !e->defective_at[1]);
    ptd_eig_mp_free(e);
    ptd_matrix_free(A);
}
END_TEST

/* ---- normal (diagonal) matrices: V = I exactly --------------------------------------------- */

START_TEST(test_diagonal_exactly_one)
{
    for (int cx = 0; cx < 2; cx++) {
        size_t n = 9;
        ptd_matrix *A = ptd_matrix_alloc(n, n);
        for (size_t i = 0; i < n; i++) PTD_AT(A, i, i) = (double)i - 4.5 + (cx ? (double)(i * i) * I : 0);
        ptd_eig_mp *e = mp(A, 0, 15);
        ck_assert_msg(e->kappa_V == 1.0, "kappa_V = %.17g", e->kappa_V);
        ck_assert(e->log10_kappa_V == 0.0);
        for (size_t i = 0; i < n; i++) ck_assert_msg(e->eig_cond[i] == 1.0, "eig_cond[%zu] = %.17g", i, e->eig_cond[i]);
        ck_assert_int_eq(e->digits, 15);
        ptd_eig_mp_free(e);
        ptd_matrix_free(A);
    }
}
END_TEST

/* ---- against double precision LAPACK, n <= 12 ----------------------------------------------
 * Measured with this code (LegS, Kahan, randtri, n = 2..12): |kappa_dbl - kappa_mp| / kappa_mp
 * <= 0.29 kappa u and |cond_dbl - cond_mp| / cond_mp <= 1.0 cond u.  First-order perturbation
 * theory bounds the double-precision errors by O(n kappa u) and O(n cond u); the tolerances
 * are 4 n kappa u and 4 n cond_i u, which leave a margin of at least 8 over the data. */

static void against_lapack(const ptd_matrix *A, const char *what)
{
    size_t n = A->rows;
    ptd_eig_mp *e = mp(A, 0, 10);
    ptd_eig *d = NULL;
    ck_assert_msg(ptd_cond_eig(A, &d) == PTD_OK, "%s", ptd_last_error());
    ck_assert_msg(d->kappa_V_resolved, "%s: double precision unresolved", what);
    double tol = 4.0 * (double)n * e->kappa_V * U_ROUND;
    ck_assert_msg(fabs(d->kappa_V - e->kappa_V) <= tol * e->kappa_V, "%s n=%zu: kappa mp %.17g, LAPACK %.17g", what,
                  n, e->kappa_V, d->kappa_V);
    /* LAPACK orders the eigenvalues its own way: match by eigenvalue (they are distinct) */
    for (size_t i = 0; i < n; i++) {
        size_t jb = 0;
        for (size_t j = 1; j < n; j++)
            if (cabs(d->lambda[j] - e->lambda[i]) < cabs(d->lambda[jb] - e->lambda[i])) jb = j;
        double c = e->eig_cond[i], tc = 4.0 * (double)n * c * U_ROUND;
        ck_assert_msg(fabs(d->eig_cond[jb] - c) <= tc * c, "%s n=%zu: eig_cond of %g%+gi: mp %.17g, LAPACK %.17g",
                      what, n, creal(e->lambda[i]), cimag(e->lambda[i]), c, d->eig_cond[jb]);
    }
    ptd_eig_free(d);
    ptd_eig_mp_free(e);
}

START_TEST(test_against_lapack_real)
{
    const char *names[] = {"hippo-legs", "kahan", "randtri"};
    for (int m = 0; m < 3; m++)
        for (size_t n = 2; n <= 12; n++) {
            ptd_system *s = make(names[m], n);
            against_lapack(s->A, names[m]);
            ptd_system_free(s);
        }
}
END_TEST

/* complex Gaussian upper (and lower) triangular matrices, distinct diagonal almost surely */
static ptd_matrix *random_complex_triangular(size_t n, gsl_rng *r, int lower)
{
    ptd_matrix *A = ptd_matrix_alloc(n, n);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i <= j; i++) {
            double complex z = gsl_ran_gaussian(r, 1.0) + I * gsl_ran_gaussian(r, 1.0);
            if (lower) PTD_AT(A, j, i) = z;
            else PTD_AT(A, i, j) = z;
        }
    return A;
}

START_TEST(test_against_lapack_complex)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 42);
    for (size_t n = 2; n <= 10; n++)
        for (int lower = 0; lower < 2; lower++) {
            ptd_matrix *A = random_complex_triangular(n, r, lower);
            against_lapack(A, lower ? "complex lower" : "complex upper");
            ptd_matrix_free(A);
        }
    gsl_rng_free(r);
}
END_TEST

/* ---- an independent MPFR computation, beyond double precision -------------------------------
 * For a real lower triangular A (reversed to upper T): V by the back substitution of the
 * definition, X = V^{-1} by solving V X = I column by column (the library instead builds
 * V^{-1} from left eigenvectors), eig_cond[i] = ||row i of X||, and both 2-norms by power
 * iteration on the Gram matrices until the estimate stops changing at 2^-100. */

static void power_norm(mpfr_t *M, size_t n, mpfr_prec_t prec, mpfr_t out)
{
    mpfr_t *v = malloc(n * sizeof *v), *t = malloc(n * sizeof *t);
    mpfr_t lam, old, diff, a;
    mpfr_inits2(prec, lam, old, diff, a, (mpfr_ptr)0);
    for (size_t i = 0; i < n; i++) {
        mpfr_init2(v[i], prec);
        mpfr_init2(t[i], prec);
        mpfr_set_d(v[i], 1.0 + 0.01 * (double)i, MPFR_RNDN);
    }
    mpfr_set_ui(old, 0, MPFR_RNDN);
    int it;
    for (it = 0; it < 20000; it++) {
        for (size_t i = 0; i < n; i++) { /* t = M v */
            mpfr_set_ui(t[i], 0, MPFR_RNDN);
            for (size_t k = 0; k < n; k++) mpfr_fma(t[i], M[i + k * n], v[k], t[i], MPFR_RNDN);
        }
        mpfr_set_ui(lam, 0, MPFR_RNDN);
        for (size_t i = 0; i < n; i++) { /* v = M^T t */
            mpfr_set_ui(v[i], 0, MPFR_RNDN);
            for (size_t k = 0; k < n; k++) mpfr_fma(v[i], M[k + i * n], t[k], v[i], MPFR_RNDN);
            mpfr_fma(lam, v[i], v[i], lam, MPFR_RNDN);
        }
        mpfr_sqrt(lam, lam, MPFR_RNDN); /* ||M^T M v||, -> sigma_max^2 */
        for (size_t i = 0; i < n; i++) mpfr_div(v[i], v[i], lam, MPFR_RNDN);
        mpfr_sub(diff, lam, old, MPFR_RNDN);
        mpfr_abs(diff, diff, MPFR_RNDN);
        mpfr_mul_2si(a, lam, -100, MPFR_RNDN);
        mpfr_set(old, lam, MPFR_RNDN);
        if (it > 0 && mpfr_cmp(diff, a) <= 0) break;
    }
    ck_assert_msg(it < 20000, "power iteration did not settle");
    mpfr_sqrt(out, lam, MPFR_RNDN);
    for (size_t i = 0; i < n; i++) {
        mpfr_clear(v[i]);
        mpfr_clear(t[i]);
    }
    mpfr_clears(lam, old, diff, a, (mpfr_ptr)0);
    free(v);
    free(t);
}

static void oracle_lower(const ptd_matrix *A, mpfr_prec_t prec, double *kappa, double *cond)
{
    size_t n = A->rows;
    mpfr_t *V = malloc(n * n * sizeof *V), *X = malloc(n * n * sizeof *X);
    mpfr_t s, a, nv, nx;
    mpfr_inits2(prec, s, a, nv, nx, (mpfr_ptr)0);
    for (size_t k = 0; k < n * n; k++) {
        mpfr_init2(V[k], prec);
        mpfr_init2(X[k], prec);
        mpfr_set_ui(V[k], 0, MPFR_RNDN);
        mpfr_set_ui(X[k], 0, MPFR_RNDN);
    }
#define T(i, j) creal(PTD_AT(A, n - 1 - (i), n - 1 - (j)))
    for (size_t k = 0; k < n; k++) {
        mpfr_set_ui(V[k + k * n], 1, MPFR_RNDN);
        for (size_t i = k; i-- > 0;) {
            mpfr_set_ui(s, 0, MPFR_RNDN);
            for (size_t j = i + 1; j <= k; j++) {
                mpfr_mul_d(a, V[j + k * n], T(i, j), MPFR_RNDN);
                mpfr_add(s, s, a, MPFR_RNDN);
            }
            mpfr_set_d(a, T(i, i), MPFR_RNDN);
            mpfr_sub_d(a, a, T(k, k), MPFR_RNDN);
            mpfr_div(V[i + k * n], s, a, MPFR_RNDN);
            mpfr_neg(V[i + k * n], V[i + k * n], MPFR_RNDN);
        }
        mpfr_set_ui(s, 0, MPFR_RNDN);
        for (size_t i = 0; i <= k; i++) mpfr_fma(s, V[i + k * n], V[i + k * n], s, MPFR_RNDN);
        mpfr_sqrt(s, s, MPFR_RNDN);
        for (size_t i = 0; i <= k; i++) mpfr_div(V[i + k * n], V[i + k * n], s, MPFR_RNDN);
    }
#undef T
    for (size_t c = 0; c < n; c++) /* V X = I, V upper triangular: back substitution */
        for (size_t i = c + 1; i-- > 0;) {
            mpfr_set_ui(s, i == c ? 1 : 0, MPFR_RNDN);
            for (size_t j = i + 1; j <= c; j++) {
                mpfr_mul(a, V[i + j * n], X[j + c * n], MPFR_RNDN);
                mpfr_sub(s, s, a, MPFR_RNDN);
            }
            mpfr_div(X[i + c * n], s, V[i + i * n], MPFR_RNDN);
        }
    for (size_t i = 0; i < n; i++) { /* row i of X belongs to T's eigenvalue i = A's n-1-i */
        mpfr_set_ui(s, 0, MPFR_RNDN);
        for (size_t j = 0; j < n; j++) mpfr_fma(s, X[i + j * n], X[i + j * n], s, MPFR_RNDN);
        mpfr_sqrt(s, s, MPFR_RNDN);
        cond[n - 1 - i] = mpfr_get_d(s, MPFR_RNDN);
    }
    power_norm(V, n, prec, nv);
    power_norm(X, n, prec, nx);
    mpfr_mul(s, nv, nx, MPFR_RNDN);
    *kappa = mpfr_get_d(s, MPFR_RNDN);
    for (size_t k = 0; k < n * n; k++) {
        mpfr_clear(V[k]);
        mpfr_clear(X[k]);
    }
    mpfr_clears(s, a, nv, nx, (mpfr_ptr)0);
    free(V);
    free(X);
}

START_TEST(test_against_mpfr_oracle)
{
    /* double precision saturates here: LegS n = 24 has kappa 1.5e17, n = 40 about 2e29 */
    const size_t ns[] = {24, 40};
    for (int t = 0; t < 2; t++) {
        size_t n = ns[t];
        ptd_system *s = make("hippo-legs", n);
        double kappa, *cond = malloc(n * sizeof *cond);
        oracle_lower(s->A, 512, &kappa, cond);
        ptd_eig_mp *e = mp(s->A, 0, 12);
        /* both sides resolve far more than 12 digits; 1e-12 leaves the oracle's stopping
         * rule (relative change 2^-100 per step) a wide margin */
        assert_close(e->kappa_V, kappa, 0, 1e-12);
        for (size_t i = 0; i < n; i++) assert_close(e->eig_cond[i], cond[i], 0, 1e-12);
        free(cond);
        ptd_eig_mp_free(e);
        ptd_system_free(s);
    }
}
END_TEST

/* ---- invariance: lower triangular A and its reversed upper form ---------------------------- */

START_TEST(test_lower_equals_reversed_upper)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    ptd_system *s = make("hippo-legs", 20);
    ptd_matrix *C = random_complex_triangular(12, r, 1);
    const ptd_matrix *lows[] = {s->A, C};
    for (int m = 0; m < 2; m++) {
        const ptd_matrix *A = lows[m];
        size_t n = A->rows;
        ck_assert(ptd_matrix_is_lower(A) && !ptd_matrix_is_upper(A));
        ptd_matrix *U = reversed(A);
        ptd_eig_mp *el = mp(A, 0, 10), *eu = mp(U, 0, 10);
        ck_assert(el->kappa_V == eu->kappa_V);
        ck_assert(el->log10_kappa_V == eu->log10_kappa_V);
        ck_assert_uint_eq(el->bits, eu->bits);
        for (size_t i = 0; i < n; i++) {
            /* reported in the order of each matrix's own diagonal */
            ck_assert(el->lambda[i] == PTD_AT(A, i, i));
            ck_assert(eu->lambda[n - 1 - i] == el->lambda[i]);
            ck_assert(el->eig_cond[i] == eu->eig_cond[n - 1 - i]);
        }
        ptd_eig_mp_free(el);
        ptd_eig_mp_free(eu);
        ptd_matrix_free(U);
    }
    ptd_matrix_free(C);
    ptd_system_free(s);
    gsl_rng_free(r);
}
END_TEST

/* Eigenvectors depend on the diagonal only through differences, so A = diag(L, L - c I)
 * (L = LegS of order 10, c = 1/2 keeps the eigenvalues distinct) has V = diag(V_L, V_L):
 * kappa_2(V) = kappa_2(V_L), every eig_cond repeats, and the top singular value of V (and of
 * V^{-1}) is exactly double, a case where Lanczos meets a multiple eigenvalue. */
START_TEST(test_block_diagonal_double_singular_value)
{
    size_t m = 10, n = 2 * m;
    ptd_system *s = make("hippo-legs", m);
    ptd_matrix *A = ptd_matrix_alloc(n, n);
    for (size_t j = 0; j < m; j++)
        for (size_t i = 0; i < m; i++) {
            PTD_AT(A, i, j) = PTD_AT(s->A, i, j);
            PTD_AT(A, m + i, m + j) = PTD_AT(s->A, i, j) - (i == j ? 0.5 : 0.0);
        }
    ptd_eig_mp *eb = mp(A, 0, 12), *el = mp(s->A, 0, 12);
    /* the shift rounds nothing (-(k+1) - 1/2 is exact); both runs see the same blocks */
    assert_close(eb->kappa_V, el->kappa_V, 0, 1e-14);
    for (size_t i = 0; i < m; i++) {
        assert_close(eb->eig_cond[i], el->eig_cond[i], 0, 1e-14);
        assert_close(eb->eig_cond[m + i], el->eig_cond[i], 0, 1e-14);
    }
    ptd_eig_mp_free(eb);
    ptd_eig_mp_free(el);
    ptd_matrix_free(A);
    ptd_system_free(s);
}
END_TEST

/* ---- precision ------------------------------------------------------------------------------ */

START_TEST(test_stable_under_precision_increase)
{
    ptd_eig_mp *a = legs_mp(24, 200), *b = legs_mp(24, 400);
    ck_assert_uint_eq(a->bits, 200);
    ck_assert_uint_eq(b->bits, 400);
    assert_close(a->kappa_V, b->kappa_V, 0, 1e-10);
    for (size_t i = 0; i < 24; i++) assert_close(a->eig_cond[i], b->eig_cond[i], 0, 1e-10);
    ck_assert_int_ge(a->digits, 10);
    ck_assert_int_ge(b->digits, 10);
    ptd_eig_mp_free(a);
    ptd_eig_mp_free(b);
}
END_TEST

/* bits = 0 starts from 64 + log2 kappa bits or more (the size of the answer) */
START_TEST(test_automatic_precision)
{
    const size_t ns[] = {8, 32, 64};
    for (int k = 0; k < 3; k++) {
        ptd_eig_mp *e = legs_mp(ns[k], 0);
        ck_assert_msg((double)e->bits >= 64 + e->log10_kappa_V * log2(10.0), "n=%zu: %lu bits for kappa 1e%.1f", ns[k],
                      e->bits, e->log10_kappa_V);
        ck_assert_int_ge(e->digits, 10);
        ck_assert(e->seconds >= 0 && e->seconds < 60);
        ptd_eig_mp_free(e);
    }
}
END_TEST

/* A working precision too low for the answer is raised until two runs agree.
 * T = [[1 + 2^-50, 1, -fl(x)], [0, 1/4, fl(0.1)], [0, 0, 1]], x = fl(0.1) / (3/4):
 * x̂_2 = (s 2^50, x, 1) with s = x - fl(x), a cancellation of 53 bits, so at 53 bits
 * x̂_2[0] = 0 while its true value is about 0.01: a run at 53 bits alone gives kappa
 * 3.03459 instead of 3.03334 and eig_cond[0] 1.67718 instead of 1.67505 (measured). */
START_TEST(test_precision_raised_when_needed)
{
    ptd_matrix *A = ptd_matrix_alloc(3, 3);
    double tenth = 0.1, x = tenth / 0.75;
    PTD_AT(A, 0, 0) = 1 + 0x1p-50;
    PTD_AT(A, 1, 1) = 0.25;
    PTD_AT(A, 2, 2) = 1;
    PTD_AT(A, 0, 1) = 1;
    PTD_AT(A, 1, 2) = tenth;
    PTD_AT(A, 0, 2) = -x;
    mpfr_t q; /* fl(x) != x: the cancellation is real */
    mpfr_init2(q, 200);
    mpfr_set_d(q, tenth, MPFR_RNDN);
    mpfr_div_d(q, q, 0.75, MPFR_RNDN);
    ck_assert(mpfr_cmp_d(q, x) != 0);
    mpfr_clear(q);
    ptd_eig_mp *lo = mp(A, 53, 12), *au = mp(A, 0, 12), *hi = mp(A, 1000, 12);
    ck_assert_msg(lo->bits > 53, "53 bits accepted");
    assert_close(lo->kappa_V, hi->kappa_V, 0, 1e-12);
    assert_close(au->kappa_V, hi->kappa_V, 0, 1e-12);
    for (int i = 0; i < 3; i++) {
        assert_close(lo->eig_cond[i], hi->eig_cond[i], 0, 1e-12);
        assert_close(au->eig_cond[i], hi->eig_cond[i], 0, 1e-12);
    }
    ptd_eig_mp_free(lo);
    ptd_eig_mp_free(au);
    ptd_eig_mp_free(hi);
    ptd_matrix_free(A);
}
END_TEST

START_TEST(test_digits_argument)
{
    ptd_system *s = make("hippo-legs", 10);
    ptd_eig_mp *e0 = mp(s->A, 0, 0), *e15 = mp(s->A, 0, 15), *e99 = mp(s->A, 0, 99);
    ck_assert_int_ge(e0->digits, 10); /* digits <= 0 means 10 */
    ck_assert_int_eq(e15->digits, 15);
    ck_assert_int_eq(e99->digits, 15); /* capped at 15 */
    ck_assert(e0->kappa_V == e15->kappa_V || fabs(e0->kappa_V / e15->kappa_V - 1) < 1e-10);
    ptd_eig_mp_free(e0);
    ptd_eig_mp_free(e15);
    ptd_eig_mp_free(e99);
    ptd_system_free(s);
}
END_TEST

/* ---- LegS: published values, growth rate, a closed form ------------------------------------- */

/* docs/mathematics.md section 5: "about 7.7e4 at N=8, 8.3e10 at N=16" with unit-norm columns.
 * Measured here: 77032.418... and 8.3198591299956e10, so both published figures are right
 * to the two digits given. */
START_TEST(test_legs_published_values)
{
    ptd_eig_mp *e8 = legs_mp(8, 0), *e16 = legs_mp(16, 0);
    ck_assert_msg(e8->kappa_V >= 7.65e4 && e8->kappa_V < 7.75e4, "kappa(8) = %.6g", e8->kappa_V);
    ck_assert_msg(e16->kappa_V >= 8.25e10 && e16->kappa_V < 8.35e10, "kappa(16) = %.6g", e16->kappa_V);
    ptd_eig_mp_free(e8);
    ptd_eig_mp_free(e16);
}
END_TEST

/* kappa(n+1)/kappa(n) -> rho = 3 + 2 sqrt2.  Measured (n: n (1 - ratio/rho)): 8: 0.296,
 * 16: 0.273, 32: 0.261, 64: 0.255, 100: 0.254, 127: 0.253, i.e. ratio = rho (1 - a/n)
 * with a near 1/4 (kappa ~ C rho^n n^(-1/4) empirically).  Asserted: the ratio lies below rho
 * and n (1 - ratio/rho) in [0.2, 0.3] at n = 32, 64, 127, so the ratio at 127 is within
 * 0.24 % of rho and the deviation falls like 1/n. */
START_TEST(test_legs_growth_rate)
{
    const double rho = 3 + 2 * sqrt(2.0);
    const size_t ns[] = {32, 64, 127};
    for (int k = 0; k < 3; k++) {
        size_t n = ns[k];
        ptd_eig_mp *a = legs_mp(n, 0), *b = legs_mp(n + 1, 0);
        double ratio = pow(10, b->log10_kappa_V - a->log10_kappa_V);
        double dev = (double)n * (1 - ratio / rho);
        ck_assert_msg(ratio < rho && dev >= 0.2 && dev <= 0.3, "n=%zu: ratio %.8f, n (1 - ratio/rho) = %.4f", n,
                      ratio, dev);
        ptd_eig_mp_free(a);
        ptd_eig_mp_free(b);
    }
}
END_TEST

/* Observed (not derived): for LegS the condition number of the eigenvalue -(k+1) is
 * C(n+k, 2k+1) C(2k, k) (n for -1, C(2n-2, n-1) for -n).  It agrees with LAPACK for n <= 12
 * (test_against_lapack_real checks LAPACK against this code) and with this code to 1.2e-15
 * up to n = 128; A holds p_n p_k rounded to double, which the measured 1e-15 reflects.
 * Checked at n = 64, where double precision gives nothing (kappa 3.2e47): tolerance 1e-13. */
START_TEST(test_legs_eig_cond_closed_form)
{
    size_t n = 64;
    ptd_eig_mp *e = legs_mp(n, 0);
    mpz_t b1, b2;
    mpz_inits(b1, b2, NULL);
    for (size_t k = 0; k < n; k++) {
        mpz_bin_uiui(b1, n + k, 2 * k + 1);
        mpz_bin_uiui(b2, 2 * k, k);
        mpz_mul(b1, b1, b2);
        assert_close(e->eig_cond[k], mpz_get_d(b1), 0, 1e-13);
    }
    mpz_clears(b1, b2, NULL);
    ptd_eig_mp_free(e);
}
END_TEST


/* ---- repeated eigenvalues: defective or semisimple, decided exactly --------------------------
 * A Jordan block J = lambda I + N (N nilpotent, N != 0) has one eigenvector for an eigenvalue
 * of multiplicity n: no eigenvector matrix exists, kappa_2(V) = inf, and every eigenvalue
 * condition number is inf (a perturbation eps moves lambda by eps^(1/n)).  Jordan (upper, 0 on
 * the diagonal, ones above) and LagT (lower, -1/2 on the diagonal, -1 below: A + I/2 is
 * strictly lower triangular of rank n - 1) are such blocks; so are [[1, 1], [0, 1]] and, for an
 * exact decision, [[l, t], [0, l]] with t the least positive double, 2^-1074, which no test
 * with a rounding tolerance could tell from a diagonal matrix. */

static void check_all_defective(const ptd_matrix *A, const char *what)
{
    size_t n = A->rows;
    ptd_eig_mp *e = mp(A, 0, 10);
    ck_assert_msg(isinf(e->kappa_V) && e->kappa_V > 0 && isinf(e->log10_kappa_V), "%s: kappa_V = %g", what, e->kappa_V);
    ck_assert_msg(e->defective == n && e->repeated == n, "%s: defective %zu, repeated %zu of %zu", what, e->defective,
                  e->repeated, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(isinf(e->eig_cond[i]) && e->defective_at[i], "%s: eig_cond[%zu] = %g", what, i, e->eig_cond[i]);
    ck_assert_uint_eq(e->bits, 0); /* exact: no run was needed */
    ptd_eig_mp_free(e);
}

START_TEST(test_defective_is_infinite)
{
    ptd_system *s = make("jordan", 8);
    check_all_defective(s->A, "jordan 8");
    ptd_system_free(s);
    s = make("hippo-lagt", 64);
    check_all_defective(s->A, "hippo-lagt 64");
    ptd_system_free(s);
    ptd_matrix *A = ptd_matrix_alloc(2, 2);
    PTD_AT(A, 0, 0) = PTD_AT(A, 1, 1) = PTD_AT(A, 0, 1) = 1;
    check_all_defective(A, "[[1, 1], [0, 1]]");
    PTD_AT(A, 0, 0) = PTD_AT(A, 1, 1) = 1 + I;
    PTD_AT(A, 0, 1) = 0x1p-1074;
    check_all_defective(A, "[[1+i, 2^-1074], [0, 1+i]]");
    PTD_AT(A, 0, 1) = 0; /* now (1 + i) I: every basis is one of eigenvectors, V = I */
    ptd_eig_mp *e = mp(A, 0, 15);
    ck_assert(e->kappa_V == 1 && e->eig_cond[0] == 1 && e->eig_cond[1] == 1);
    ck_assert(e->repeated == 2 && e->defective == 0);
    ptd_eig_mp_free(e);
    ptd_matrix_free(A);
}
END_TEST

/* A diagonal matrix with a repeated entry is diagonalizable and normal: with an orthonormal
 * basis of each eigenspace V is unitary, kappa_2(V) = 1, and every spectral projector is
 * orthogonal, of norm 1. */
START_TEST(test_diagonal_repeated)
{
    const double complex d[] = {2, -1 + I, 2, 5, -1 + I, 2};
    ptd_matrix *A = ptd_matrix_alloc(6, 6);
    for (size_t i = 0; i < 6; i++) PTD_AT(A, i, i) = d[i];
    ptd_eig_mp *e = mp(A, 0, 15);
    ck_assert_msg(e->kappa_V == 1.0, "kappa_V = %.17g", e->kappa_V);
    for (size_t i = 0; i < 6; i++) ck_assert_msg(e->eig_cond[i] == 1.0, "eig_cond[%zu] = %.17g", i, e->eig_cond[i]);
    ck_assert(e->repeated == 5 && e->defective == 0);
    ptd_eig_mp_free(e);
    ptd_matrix_free(A);
}
END_TEST

/* kappa_2 of an n x n matrix by zgesvd (double) */
static double kappa_svd(const ptd_matrix *V)
{
    double k;
    ck_assert_int_eq(ptd_cond_kappa(V, &k), PTD_OK);
    return k;
}

/* T = [[1, 11, 15], [0, 12, 15], [0, 0, 1]]: T - I has the rows (0, 11, 15) twice and 0, rank
 * 1, so 1 is a semisimple double eigenvalue; its eigenspace is span(e_0, (0, 15, -11)/sqrt346),
 * orthonormal already, and 12 has x = (1, 1, 0)/sqrt2, y = (0, 1, 15/11).  With exactly two
 * eigenvalues P_1 = I - P_12, and ||I - P|| = ||P|| for a projector P != 0, I: both condition
 * numbers are ||x|| ||y|| / |y^T x| = sqrt2 sqrt(346)/11 = sqrt(692)/11.  In double precision
 * the substitution's consistency sum is 11 fl(-15/11) + 15 = 1.8e-15, not 0: only exact
 * arithmetic calls this matrix diagonalizable.  One ulp more in T_02 makes it defective. */
START_TEST(test_semisimple_exact)
{
    ptd_matrix *T = ptd_matrix_alloc(3, 3);
    PTD_AT(T, 0, 0) = 1, PTD_AT(T, 0, 1) = 11, PTD_AT(T, 0, 2) = 15;
    PTD_AT(T, 1, 1) = 12, PTD_AT(T, 1, 2) = 15, PTD_AT(T, 2, 2) = 1;
    volatile double x1 = -15.0 / 11.0;
    ck_assert(11 * x1 + 15 != 0); /* what rounding would say */
    ptd_eig_mp *e = mp(T, 0, 15);
    ck_assert(e->repeated == 2 && e->defective == 0);
    for (size_t i = 0; i < 3; i++) assert_close(e->eig_cond[i], sqrt(692.0) / 11, 0, 1e-14);
    ptd_matrix *V = ptd_matrix_alloc(3, 3);
    PTD_AT(V, 0, 0) = 1;
    PTD_AT(V, 0, 1) = PTD_AT(V, 1, 1) = M_SQRT1_2;
    PTD_AT(V, 1, 2) = 15 / sqrt(346.0), PTD_AT(V, 2, 2) = -11 / sqrt(346.0);
    double k = kappa_svd(V); /* well conditioned: accurate to about 3 n u kappa */
    assert_close(e->kappa_V, k, 0, 30 * 3 * U_ROUND * k);
    ptd_eig_mp_free(e);
    /* the lower triangular J T J: the same numbers, in reversed order */
    ptd_matrix *R = reversed(T);
    e = mp(R, 0, 15);
    assert_close(e->kappa_V, k, 0, 30 * 3 * U_ROUND * k);
    for (size_t i = 0; i < 3; i++) assert_close(e->eig_cond[i], sqrt(692.0) / 11, 0, 1e-14);
    ptd_eig_mp_free(e);
    ptd_matrix_free(R);
    PTD_AT(T, 0, 2) = nextafter(15.0, 16.0);
    e = mp(T, 0, 15);
    ck_assert(e->repeated == 2 && e->defective == 2 && isinf(e->kappa_V));
    ck_assert(e->defective_at[0] && !e->defective_at[1] && e->defective_at[2]);
    ck_assert(isinf(e->eig_cond[0]) && isinf(e->eig_cond[2]));
    assert_close(e->eig_cond[1], sqrt(692.0) / 11, 0, 1e-14); /* 12's vectors do not read T_02 */
    ptd_eig_mp_free(e);
    ptd_matrix_free(V);
    ptd_matrix_free(T);
}
END_TEST

/* T = D + N D - D N with D = diag(1, 4, 1, 4, ...) and N supported on (even row, odd column),
 * so N^2 = 0 and T = (I + N) D (I + N)^{-1}: upper triangular, diagonalizable, the two
 * eigenvalues interleaved (every substitution meets zero pivots and nonzero ones), entries
 * 3 N_ij, exact.  Oracles: (a) both condition numbers are equal, ||P_1|| = ||I - P_1||;
 * (b) kappa_2(V) with V an orthonormal basis of each eigenspace found independently, by the
 * SVD of T - lambda I in double precision (its null space; the basis errors are at most
 * about u ||T|| / sigma, sigma the smallest nonzero singular value, which moves kappa by a
 * relative 2 n kappa of that); (c) the spectral projector norms from that V and its inverse. */
START_TEST(test_semisimple_against_svd)
{
    size_t n = 12;
    ptd_matrix *T = ptd_matrix_alloc(n, n);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    for (size_t i = 0; i < n; i++) PTD_AT(T, i, i) = i % 2 ? 4 : 1;
    for (size_t i = 0; i < n; i += 2)
        for (size_t j = i + 1; j < n; j += 2) PTD_AT(T, i, j) = 3.0 * (double)((long)gsl_rng_uniform_int(r, 5) - 2);
    gsl_rng_free(r);
    ptd_eig_mp *e = mp(T, 0, 12);
    ck_assert(e->repeated == n && e->defective == 0);
    for (size_t i = 1; i < n; i++) assert_close(e->eig_cond[i], e->eig_cond[0], 0, 1e-11);
    /* the independent basis */
    ptd_matrix *V = ptd_matrix_alloc(n, n), *M = ptd_matrix_alloc(n, n), *Vt = ptd_matrix_alloc(n, n);
    double *sv = malloc(n * sizeof *sv), *sb = malloc(n * sizeof *sb), worst = 0, nT;
    ck_assert_int_eq(ptd_matrix_norm2(T, &nT), PTD_OK);
    const double lam[2] = {1, 4};
    size_t col = 0;
    for (int c = 0; c < 2; c++) {
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) PTD_AT(M, i, j) = PTD_AT(T, i, j) - (i == j ? lam[c] : 0);
        ck_assert_int_eq(LAPACKE_zgesvd(LAPACK_COL_MAJOR, 'N', 'A', (lapack_int)n, (lapack_int)n, M->data, (lapack_int)n,
                                        sv, NULL, 1, Vt->data, (lapack_int)n, sb), 0);
        /* n/2 zero singular values: the null space, rows n/2 .. n-1 of V^H, conjugated */
        ck_assert_double_le(sv[n / 2], 100 * n * U_ROUND * nT);
        ck_assert_double_gt(sv[n / 2 - 1], 1e3 * n * U_ROUND * nT);
        worst = fmax(worst, U_ROUND * nT / sv[n / 2 - 1]);
        for (size_t k = n / 2; k < n; k++, col++)
            for (size_t i = 0; i < n; i++) PTD_AT(V, i, col) = conj(PTD_AT(Vt, k, i));
    }
    double k = kappa_svd(V);
    assert_close(e->kappa_V, k, 0, 2 * n * k * worst * 10);
    /* projector norms: P_1 = V[:, :n/2] W[:n/2, :], W = V^{-1} */
    ptd_matrix *W = ptd_matrix_copy(V);
    lapack_int *ipiv = malloc(n * sizeof *ipiv);
    ck_assert_int_eq(LAPACKE_zgetrf(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)n, W->data, (lapack_int)n, ipiv), 0);
    ck_assert_int_eq(LAPACKE_zgetri(LAPACK_COL_MAJOR, (lapack_int)n, W->data, (lapack_int)n, ipiv), 0);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) {
            double complex sum = 0;
            for (size_t q = 0; q < n / 2; q++) sum += PTD_AT(V, i, q) * PTD_AT(W, q, j);
            PTD_AT(M, i, j) = sum;
        }
    double pn;
    ck_assert_int_eq(ptd_matrix_norm2(M, &pn), PTD_OK);
    assert_close(e->eig_cond[0], pn, 0, 2 * n * k * worst * 10);
    free(ipiv);
    free(sv);
    free(sb);
    ptd_matrix_free(W);
    ptd_matrix_free(V);
    ptd_matrix_free(M);
    ptd_matrix_free(Vt);
    ptd_matrix_free(T);
    ptd_eig_mp_free(e);
}
END_TEST

/* Defective, semisimple and simple eigenvalues in one matrix: T = diag(1, 2, 1, 3, 2) with
 * T_14 = 1 and T_03 = 1/2.  2 is defective ((T - 2I) e_4 = e_1, (T - 2I) e_1 = 0), 1 is not
 * (nothing couples e_0 and e_2), 3 is simple.  Only the defective ones are inf.  The right and
 * left eigenvectors of 1 and 3 lie on the coordinates 0, 2, 3 (span(e_0, e_2, e_3) is
 * invariant, and the left substitutions meet zero sums at 1 and 4), where T is
 * [[1, 0, 1/2], [0, 1, 0], [0, 0, 3]]: 3 has x = (1/4, 0, 1), y = e_3, so its condition number
 * is |x| |y| / |y^T x| = sqrt(17)/4, and so is 1's, ||P_1|| = ||I - P_3|| = ||P_3||. */
START_TEST(test_mixed_classes)
{
    size_t n = 5;
    ptd_matrix *T = ptd_matrix_alloc(n, n);
    const double d[] = {1, 2, 1, 3, 2};
    for (size_t i = 0; i < n; i++) PTD_AT(T, i, i) = d[i];
    PTD_AT(T, 1, 4) = 1;
    PTD_AT(T, 0, 3) = 0.5;
    ptd_eig_mp *e = mp(T, 0, 12);
    ck_assert(e->repeated == 4 && e->defective == 2 && isinf(e->kappa_V));
    const int def[] = {0, 1, 0, 0, 1};
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(e->defective_at[i], def[i]);
        ck_assert(def[i] ? isinf(e->eig_cond[i]) : isfinite(e->eig_cond[i]));
    }
    const size_t at[] = {0, 2, 3};
    for (size_t k = 0; k < 3; k++) assert_close(e->eig_cond[at[k]], sqrt(17.0) / 4, 0, 1e-11);
    ptd_eig_mp_free(e);
    ptd_matrix_free(T);
}
END_TEST

/* ---- errors --------------------------------------------------------------------------------- */

START_TEST(test_errors)
{
    ptd_eig_mp *e = (ptd_eig_mp *)&e; /* must be reset to NULL */
    ptd_system *s = make("hippo-legt", 4);
    ck_assert_int_eq(ptd_cond_mp(s->A, 0, 10, &e), PTD_EINVAL);
    ck_assert_ptr_null(e);
    ck_assert_str_eq(ptd_last_error(), "extended precision needs a triangular matrix");
    ptd_system_free(s);

    ptd_matrix *A = ptd_matrix_alloc(3, 3); /* a repeated eigenvalue is no error */
    PTD_AT(A, 0, 0) = 1;
    PTD_AT(A, 1, 1) = 2;
    PTD_AT(A, 2, 2) = 1;
    PTD_AT(A, 0, 2) = 5;
    e = mp(A, 0, 10); /* (A - I) e_2 = 5 e_0, (A - I) e_0 = 0: a Jordan block for 1 */
    ck_assert(isinf(e->kappa_V) && isinf(e->eig_cond[0]) && isinf(e->eig_cond[2]));
    ck_assert_double_eq(e->eig_cond[1], 1); /* 2: x = y = e_1 */
    ptd_eig_mp_free(e);
    PTD_AT(A, 2, 2) = 1 + 2 * I; /* distinct now */
    ck_assert_int_eq(ptd_cond_mp(A, 0, 10, &e), PTD_OK);
    ptd_eig_mp_free(e);

    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++)
        for (int where = 0; where < 3; where++) { /* diagonal, above, below */
            ptd_matrix *B = ptd_matrix_copy(A);
            size_t i = where == 2 ? 2 : 0, j = where == 1 ? 1 : 0;
            PTD_AT(B, i, j) = bad[k];
            e = (ptd_eig_mp *)&e;
            ck_assert_int_eq(ptd_cond_mp(B, 0, 10, &e), PTD_EINVAL);
            ck_assert_ptr_null(e);
            ck_assert_ptr_nonnull(strstr(ptd_last_error(), "NaN or infinite"));
            ptd_matrix_free(B);
        }

    ck_assert_int_eq(ptd_cond_mp(A, 10, 10, &e), PTD_EINVAL); /* below double's 53 bits */
    ck_assert_ptr_null(e);
    ck_assert_int_eq(ptd_cond_mp(NULL, 0, 10, &e), PTD_EINVAL);
    ptd_matrix *R = ptd_matrix_alloc(2, 3);
    ck_assert_int_eq(ptd_cond_mp(R, 0, 10, &e), PTD_EINVAL);
    ck_assert_int_eq(ptd_cond_mp(A, 0, 10, NULL), PTD_EINVAL);
    ptd_matrix_free(R);
    ptd_matrix_free(A);
    ptd_eig_mp_free(NULL);

    /* a 1x1 matrix: V = (1) */
    ptd_matrix *one = ptd_matrix_alloc(1, 1);
    PTD_AT(one, 0, 0) = -3 + I;
    e = mp(one, 0, 10);
    ck_assert(e->kappa_V == 1 && e->eig_cond[0] == 1 && e->lambda[0] == -3 + I);
    ptd_eig_mp_free(e);
    ptd_matrix_free(one);
}
END_TEST

int main(void)
{
    ptd_init();
    Suite *s = suite_create("condmp");
    TCase *tc = tcase_create("closed forms");
    tcase_add_test(tc, test_legs2_closed_form);
    tcase_add_test(tc, test_2x2_closed_form);
    tcase_add_test(tc, test_beyond_double_range);
    tcase_add_test(tc, test_diagonal_exactly_one);
    suite_add_tcase(s, tc);
    tc = tcase_create("independent methods");
    tcase_add_test(tc, test_against_lapack_real);
    tcase_add_test(tc, test_against_lapack_complex);
    tcase_add_test(tc, test_against_mpfr_oracle);
    tcase_add_test(tc, test_lower_equals_reversed_upper);
    tcase_add_test(tc, test_block_diagonal_double_singular_value);
    suite_add_tcase(s, tc);
    tc = tcase_create("precision");
    tcase_add_test(tc, test_stable_under_precision_increase);
    tcase_add_test(tc, test_automatic_precision);
    tcase_add_test(tc, test_precision_raised_when_needed);
    tcase_add_test(tc, test_digits_argument);
    suite_add_tcase(s, tc);
    tc = tcase_create("legs");
    tcase_add_test(tc, test_legs_published_values);
    tcase_add_test(tc, test_legs_growth_rate);
    tcase_add_test(tc, test_legs_eig_cond_closed_form);
    suite_add_tcase(s, tc);
    tc = tcase_create("repeated eigenvalues");
    tcase_add_test(tc, test_defective_is_infinite);
    tcase_add_test(tc, test_diagonal_repeated);
    tcase_add_test(tc, test_semisimple_exact);
    tcase_add_test(tc, test_semisimple_against_svd);
    tcase_add_test(tc, test_mixed_classes);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
