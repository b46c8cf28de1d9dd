/* test_crisscross.c - the pseudospectral abscissa and radius (criss-cross) against an
 * independent search with dense SVDs refined to 1e-10, exact values for normal matrices,
 * monotonicity in eps, the level-set crossings of one line; the numerical range. */
#include "testutil.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <lapacke.h>
#include <stdlib.h>
#include <string.h>

static ptd_system *make(const char *name, size_t n)
{
    ptd_system *s = NULL;
    ck_assert_msg(ptd_zoo_make(name, n, 1, &s) == PTD_OK, "%s: %s", name, ptd_last_error());
    return s;
}

static ptd_pspec_plan *plan_of(const ptd_matrix *A)
{
    ptd_pspec_plan *p = NULL;
    ck_assert_msg(ptd_pspec_plan_create(A, &p) == PTD_OK, "%s", ptd_last_error());
    return p;
}

static ptd_pspec_extreme extreme(const ptd_pspec_plan *p, double eps, int radius, int pure)
{
    ptd_pspec_extreme_opts o = {.pure = pure};
    ptd_pspec_extreme r;
    int st = radius ? ptd_pspec_radius(p, eps, &o, &r) : ptd_pspec_abscissa(p, eps, &o, &r);
    ck_assert_msg(st == PTD_OK, "%s eps=%g pure=%d: %s", radius ? "radius" : "abscissa", eps, pure, ptd_last_error());
    return r;
}

/* --- the independent search: dense SVD, a grid, then golden section and bisection ------ */

typedef struct {
    const ptd_pspec_plan *p;
    ptd_pspec_work *w;
    double eps;
    int polar;
} indep;

static double svd_at(indep *s, double a, double b)
{
    ptd_pspec_opts o = {.method = PTD_PSPEC_SVD};
    ptd_pspec_point r;
    double complex z = s->polar ? CMPLX(a * cos(b), a * sin(b)) : CMPLX(a, b);
    ck_assert_int_eq(ptd_pspec_sigma_min(s->p, s->w, z, &o, &r), PTD_OK);
    return r.sigma;
}

/* the largest a <= amax with sigma <= eps on the line b: scan down from amax in steps h,
 * then bisect to 1e-12 relative */
static double g_of(indep *s, double b, double amax, double h, double a_in)
{
    double hi = amax, lo = amax;
    int found = 0;
    for (int k = 0; k < 4000; k++) {
        lo = hi - h;
        if (lo <= a_in) {
            lo = a_in; /* known inside (an eigenvalue) */
            found = 1;
            break;
        }
        if (svd_at(s, lo, b) <= s->eps) {
            found = 1;
            break;
        }
        hi = lo;
    }
    if (!found) return -INFINITY;
    for (int k = 0; k < 200 && hi - lo > 1e-12 * (fabs(hi) + s->eps); k++) {
        double m = 0.5 * (lo + hi);
        if (svd_at(s, m, s->polar ? b : b) <= s->eps) lo = m;
        else hi = m;
    }
    return lo;
}

/* max of a over the eps-pseudospectrum: the best of a grid of lines b, then golden section
 * on g(b) around it to 1e-10 in b, so g to about 1e-20 relative near a smooth maximum */
static double independent(const ptd_pspec_plan *p, double eps, int polar)
{
    indep s = {p, ptd_pspec_work_alloc(p), eps, polar};
    ptd_box box;
    ck_assert_int_eq(ptd_fov_box(ptd_pspec_plan_matrix(p), &box), PTD_OK);
    double amax, b0, b1;
    if (polar) {
        amax = hypot(fmax(fabs(box.xmin), fabs(box.xmax)), fmax(fabs(box.ymin), fabs(box.ymax))) + eps;
        b0 = -M_PI;
        b1 = M_PI;
    } else {
        amax = box.xmax + eps;
        b0 = box.ymin - eps;
        b1 = box.ymax + eps;
    }
    double h = (amax - (polar ? 0 : box.xmin - eps)) / 150;
    /* lines on a grid, and through every eigenvalue (each component holds one) */
    const int nb = 24;
    size_t n = ptd_pspec_plan_order(p);
    const double complex *ev = ptd_pspec_plan_eigenvalues(p);
    double best = -INFINITY, bb = 0, db = (b1 - b0) / nb;
    for (size_t k = 0; k <= nb + n; k++) {
        double b = k <= (size_t)nb ? b0 + db * (double)k : (polar ? carg(ev[k - nb - 1]) : cimag(ev[k - nb - 1]));
        double g = g_of(&s, b, amax, h, k <= (size_t)nb ? -INFINITY : (polar ? cabs(ev[k - nb - 1]) : creal(ev[k - nb - 1])));
        if (g > best) {
            best = g;
            bb = b;
        }
    }
    /* refine near the best line: scan from a little beyond it */
    db = fmin(db, 0.05 * (polar ? 1.0 : fabs(best) + eps + 1));
    amax = fmin(amax, best + 0.05 * (amax - best) + 4 * h);
    h /= 8;
    double lo = bb - db, hi = bb + db, gr = 0.5 * (sqrt(5.0) - 1);
    double x1 = hi - gr * (hi - lo), x2 = lo + gr * (hi - lo);
    double f1 = g_of(&s, x1, amax, h, -INFINITY), f2 = g_of(&s, x2, amax, h, -INFINITY);
    while (hi - lo > 1e-10 * (1 + fabs(bb))) {
        if (f1 < f2) {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + gr * (hi - lo);
            f2 = g_of(&s, x2, amax, h, -INFINITY);
        } else {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - gr * (hi - lo);
            f1 = g_of(&s, x1, amax, h, -INFINITY);
        }
    }
    best = fmax(best, fmax(f1, f2));
    ptd_pspec_work_free(s.w);
    return best;
}

/* Criss-cross (both the published method and the accelerated one) against the independent
 * search.  The value is fixed by sigma_min = eps to within the rounding of sigma_min,
 * about n u ||A||, divided by the slope of sigma_min along the outward direction there,
 * which is at least... nothing useful; for these matrices it is above 1e-3, so the
 * tolerance is 1e3 * 100 n u ||A|| plus the search's own 1e-10 relative. */
START_TEST(test_against_independent_search)
{
    struct {
        const char *name;
        size_t n;
        double eps;
    } cases[] = {{"grcar", 24, 1e-1}, {"grcar", 32, 1e-3}, {"kahan", 16, 1e-3}, {"ginibre", 30, 1e-2},
                 {"randtri", 20, 1e-2}, {"hippo-legs", 12, 1e-3}, {"hippo-legt", 12, 1e-2},
                 {"hippo-fout", 12, 1e-2}, {"jordan", 6, 1e-3}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ptd_system *s = make(cases[c].name, cases[c].n);
        ptd_pspec_plan *p = plan_of(s->A);
        double nrm = ptd_pspec_plan_norm2(p), n = (double)cases[c].n, eps = cases[c].eps;
        for (int polar = 0; polar < 2; polar++) {
            double want = independent(p, eps, polar);
            ptd_pspec_extreme fast = extreme(p, eps, polar, 0), pure = extreme(p, eps, polar, 1);
            double tol = 1e5 * n * U_ROUND * nrm + 1e-10 * (fabs(want) + nrm);
            ck_assert_msg(fabs(fast.value - want) <= tol && fabs(pure.value - want) <= tol,
                          "%s n=%zu eps=%g %s: criss-cross %.17g, published %.17g, independent %.17g (tol %.2g)",
                          cases[c].name, cases[c].n, eps, polar ? "radius" : "abscissa", fast.value, pure.value,
                          want, tol);
            /* the point found is on the level set, and gives the value */
            ck_assert_msg(fabs(fast.sigma - eps) <= 1e-8 * eps + 4 * fast.sigma_err, "sigma %.17g", fast.sigma);
            double v = polar ? cabs(fast.z) : creal(fast.z);
            assert_close(v, fast.value, 0, 4 * U_ROUND);
            /* the verification grid ran, and its estimate is below the exact value */
            ck_assert(fast.grid_points > 0);
            if (!isnan(fast.grid_value)) ck_assert(fast.grid_value <= fast.value + tol);
        }
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
}
END_TEST

/* Q D Q^* for a random unitary Q: normal, not triangular, so the plan takes zgees */
static ptd_matrix *normal_matrix(const double complex *d, size_t n, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    ptd_matrix *Q = ptd_matrix_alloc(n, n), *M = ptd_matrix_alloc(n, n);
    for (size_t k = 0; k < n * n; k++) {
        double re = gsl_ran_gaussian(r, 1), im = gsl_ran_gaussian(r, 1);
        Q->data[k] = CMPLX(re, im);
    }
    double complex *tau = malloc(n * sizeof *tau);
    LAPACKE_zgeqrf(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)n, Q->data, (lapack_int)n, tau);
    LAPACKE_zungqr(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)n, (lapack_int)n, Q->data, (lapack_int)n, tau);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double complex acc = 0;
            for (size_t k = 0; k < n; k++) acc += PTD_AT(Q, i, k) * d[k] * conj(PTD_AT(Q, j, k));
            PTD_AT(M, i, j) = acc;
        }
    free(tau);
    gsl_rng_free(r);
    ptd_matrix_free(Q);
    return M;
}

/* For a normal matrix Lambda_eps is the union of eps-discs about the eigenvalues:
 * alpha_eps = alpha + eps and rho_eps = rho + eps.  Rounding: the Schur form of Q D Q^* is
 * exact to about n u ||A||, and sigma_min is 1-Lipschitz, so 100 n u ||A||. */
START_TEST(test_normal_exact)
{
    const size_t n = 20;
    double complex d[20];
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    for (size_t i = 0; i < n; i++) d[i] = CMPLX(gsl_ran_gaussian(r, 1), gsl_ran_gaussian(r, 1));
    gsl_rng_free(r);
    ptd_matrix *A = normal_matrix(d, n, 7);
    ptd_pspec_plan *p = plan_of(A);
    double alpha = -INFINITY, rho = 0, nrm = ptd_pspec_plan_norm2(p);
    for (size_t i = 0; i < n; i++) {
        alpha = fmax(alpha, creal(d[i]));
        rho = fmax(rho, cabs(d[i]));
    }
    const double eps[] = {1e-6, 1e-3, 0.1, 0.7};
    for (size_t k = 0; k < 4; k++)
        for (int pure = 0; pure < 2; pure++) {
            double tol = 100 * (double)n * U_ROUND * nrm;
            assert_close(extreme(p, eps[k], 0, pure).value, alpha + eps[k], tol, 0);
            assert_close(extreme(p, eps[k], 1, pure).value, rho + eps[k], tol, 0);
        }
    ptd_pspec_plan_free(p);
    ptd_matrix_free(A);
    /* and the normal part of LegS, skew-symmetric minus I/2: alpha_eps = -1/2 + eps */
    ptd_system *s = make("hippo-legs-normal", 16);
    p = plan_of(s->A);
    nrm = ptd_pspec_plan_norm2(p);
    assert_close(extreme(p, 0.25, 0, 0).value, -0.25, 100 * 16 * U_ROUND * nrm, 0);
    ptd_pspec_plan_free(p);
    ptd_system_free(s);
}
END_TEST

/* alpha_eps and rho_eps increase with eps (strictly, the sets being nested and bounded) */
START_TEST(test_monotone)
{
    const char *names[] = {"grcar", "hippo-legs", "ginibre"};
    for (size_t c = 0; c < 3; c++) {
        ptd_system *s = make(names[c], 32);
        ptd_pspec_plan *p = plan_of(s->A);
        double last_a = -INFINITY, last_r = -INFINITY;
        for (int k = 8; k >= 1; k--) {
            double eps = pow(10.0, -k);
            if (eps <= 4 * ptd_pspec_plan_floor(p)) continue;
            double a = extreme(p, eps, 0, 0).value, r = extreme(p, eps, 1, 0).value;
            ck_assert_msg(a > last_a && r > last_r, "%s eps=%g: %g after %g, %g after %g", names[c], eps, a, last_a, r, last_r);
            last_a = a;
            last_r = r;
        }
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
}
END_TEST

/* The crossings of one vertical line and one circle with the level set: every change of
 * sign of sigma_min - eps found by scanning the line is within the scan step of a
 * crossing, and at every crossing some singular value equals eps, so sigma_min <= eps. */
START_TEST(test_level_crossings)
{
    ptd_system *s = make("grcar", 24);
    ptd_pspec_plan *p = plan_of(s->A);
    ptd_pspec_work *w = ptd_pspec_work_alloc(p);
    double eps = 1e-2, out[48];
    for (int which = 0; which < 2; which++) {
        double x = which ? 2.2 : 1.5;
        size_t m = 0;
        ck_assert_int_eq(ptd_pspec_level_crossings(p, eps, which, x, out, &m), PTD_OK);
        ck_assert_uint_gt(m, 1);
        for (size_t k = 0; k < m; k++) {
            ptd_pspec_point r;
            double complex z = which ? x * cexp(I * out[k]) : CMPLX(x, out[k]);
            ck_assert_int_eq(ptd_pspec_sigma_min(p, w, z, NULL, &r), PTD_OK);
            ck_assert_msg(r.sigma <= eps * (1 + 1e-6), "crossing %g: sigma %.17g", out[k], r.sigma);
        }
        double lo = which ? -M_PI : -4, hi = which ? M_PI : 4, step = (hi - lo) / 4000, prev = NAN;
        for (int k = 0; k <= 4000; k++) {
            double t = lo + k * step;
            ptd_pspec_point r;
            double complex z = which ? x * cexp(I * t) : CMPLX(x, t);
            ck_assert_int_eq(ptd_pspec_sigma_min(p, w, z, NULL, &r), PTD_OK);
            double f = r.sigma - eps;
            if (k > 0 && (f > 0) != (prev > 0)) {
                int near = 0;
                for (size_t j = 0; j < m; j++) near |= fabs(out[j] - (t - step / 2)) <= step;
                ck_assert_msg(near, "sign change at %g not among the crossings", t);
            }
            prev = f;
        }
    }
    ptd_pspec_work_free(w);
    ptd_pspec_plan_free(p);
    ptd_system_free(s);
}
END_TEST

START_TEST(test_errors)
{
    ptd_system *s = make("grcar", 10);
    ptd_pspec_plan *p = plan_of(s->A);
    ptd_pspec_extreme r;
    ck_assert_int_eq(ptd_pspec_abscissa(p, 0, NULL, &r), PTD_EINVAL);
    ck_assert_int_eq(ptd_pspec_abscissa(p, NAN, NULL, &r), PTD_EINVAL);
    ck_assert_int_eq(ptd_pspec_radius(p, 1e-17, NULL, &r), PTD_EINVAL); /* below the floor */
    ck_assert(strstr(ptd_last_error(), "rounding floor") != NULL);
    ck_assert_int_eq(ptd_pspec_radius(NULL, 1, NULL, &r), PTD_EINVAL);
    double out[20];
    size_t m;
    ck_assert_int_eq(ptd_pspec_level_crossings(p, 1e-2, 1, -1, out, &m), PTD_EINVAL);
    ck_assert_int_eq(ptd_pspec_level_crossings(p, 1e-2, 2, 1, out, &m), PTD_EINVAL);
    ptd_pspec_plan_free(p);
    ptd_system_free(s);
}
END_TEST

/* --- numerical range ------------------------------------------------------------------- */

/* A normal matrix: W(A) is the convex hull of the eigenvalues, so the boundary point at
 * angle t attains the hull's support function max_j Re(e^{-it} l_j).  Rounding of the
 * Hermitian eigenproblem: 10 n u ||A||. */
START_TEST(test_fov_normal)
{
    const size_t n = 12, m = 64;
    double complex d[12], pts[64];
    for (size_t i = 0; i < n; i++) d[i] = CMPLX(cos(2.0 * (double)i) * (double)(i + 1), sin(3.0 * (double)i));
    ptd_matrix *A = normal_matrix(d, n, 3);
    double nrm;
    ck_assert_int_eq(ptd_matrix_norm2(A, &nrm), PTD_OK);
    ck_assert_int_eq(ptd_fov_boundary(A, m, pts), PTD_OK);
    for (size_t k = 0; k < m; k++) {
        double t = 2 * M_PI * (double)k / (double)m, h = -INFINITY;
        double complex ph = CMPLX(cos(t), -sin(t));
        for (size_t i = 0; i < n; i++) h = fmax(h, creal(ph * d[i]));
        assert_close(creal(ph * pts[k]), h, 10 * (double)n * U_ROUND * nrm, 0);
        /* inside the hull: below every support line */
        for (int j = 0; j < 16; j++) {
            double tj = 2 * M_PI * j / 16, hj = -INFINITY;
            double complex pj = CMPLX(cos(tj), -sin(tj));
            for (size_t i = 0; i < n; i++) hj = fmax(hj, creal(pj * d[i]));
            ck_assert(creal(pj * pts[k]) <= hj + 10 * (double)n * U_ROUND * nrm);
        }
    }
    double omega, alpha = -INFINITY;
    for (size_t i = 0; i < n; i++) alpha = fmax(alpha, creal(d[i]));
    ck_assert_int_eq(ptd_fov_abscissa(A, &omega), PTD_OK);
    assert_close(omega, alpha, 10 * (double)n * U_ROUND * nrm, 0);
    ptd_matrix_free(A);
}
END_TEST

/* The 2 x 2 Jordan block: W is the disc of radius 1/2 about 0. */
START_TEST(test_fov_jordan)
{
    ptd_system *s = make("jordan", 2);
    double complex pts[50];
    ck_assert_int_eq(ptd_fov_boundary(s->A, 50, pts), PTD_OK);
    for (size_t k = 0; k < 50; k++) {
        assert_close(cabs(pts[k]), 0.5, 10 * U_ROUND, 0);
        double t = 2 * M_PI * (double)k / 50;
        assert_close(carg(pts[k] * CMPLX(cos(t), -sin(t))), 0.0, 1e-7, 0); /* at its own angle */
    }
    ptd_box b;
    ck_assert_int_eq(ptd_fov_box(s->A, &b), PTD_OK);
    assert_close(b.xmax, 0.5, 4 * U_ROUND, 0);
    assert_close(b.xmin, -0.5, 4 * U_ROUND, 0);
    assert_close(b.ymax, 0.5, 4 * U_ROUND, 0);
    assert_close(b.ymin, -0.5, 4 * U_ROUND, 0);
    ck_assert_int_eq(ptd_fov_boundary(s->A, 2, pts), PTD_EINVAL);
    ptd_system_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("crisscross");
    TCase *tc = tcase_create("abscissa and radius");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_against_independent_search);
    tcase_add_test(tc, test_normal_exact);
    tcase_add_test(tc, test_monotone);
    tcase_add_test(tc, test_level_crossings);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    TCase *tf = tcase_create("numerical range");
    tcase_add_test(tf, test_fov_normal);
    tcase_add_test(tf, test_fov_jordan);
    suite_add_tcase(s, tf);
    return run_suite(s);
}
