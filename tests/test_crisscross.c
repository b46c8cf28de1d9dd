/* test_crisscross.c - the pseudospectral abscissa and radius (criss-cross) against an
 * independent search with dense SVDs (bisection to the last bits along each line, golden
 * section across lines to 1e-7), with a tolerance derived from the rounding of sigma_min and
 * its slope measured at both points; exact values for normal matrices, monotonicity in eps,
 * the level-set crossings of one line; the numerical range. */
#include "testutil.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <lapacke.h>
#include <stdlib.h>
#include <string.h>

static ptd_pspec_extreme extreme(const ptd_pspec_plan *p, double eps, int radius, int pure)
{
    ptd_pspec_extreme_opts o = {.pure = pure};
    ptd_pspec_extreme r;
    int st = radius ? ptd_pspec_radius(p, eps, &o, &r) : ptd_pspec_abscissa(p, eps, &o, &r);
    ck_assert_msg(st == PTD_OK, "%s eps=%g pure=%d: %s", radius ? "radius" : "abscissa", eps, pure, ptd_last_error());
    return r;
}

/* --- the independent search: dense SVDs only ----------------------------------------------
 *
 * Coordinates (a, b): z = a + ib for the abscissa, z = a e^{ib} for the radius; the value is
 * max a over Lambda_eps.  Nothing here uses the Schur form, inverse Lanczos or the 2n
 * eigenproblems of the criss-cross code: every sigma_min is a dense SVD of zI - A. */

typedef struct {
    const ptd_pspec_plan *p;
    ptd_pspec_work *w;
    double eps;
    int polar;
    unsigned svds;
    double amin;     /* below this no point of Lambda_eps lies (W(A) + eps; 0 for the radius) */
} indep;

/* sigma_min(zI - A) by a dense SVD, and its rounding bound n u (||A|| + |z|) in *err */
static double svd_at(indep *s, double a, double b, double *err)
{
    ptd_pspec_opts o = {.method = PTD_PSPEC_SVD};
    ptd_pspec_point r;
    double complex z = s->polar ? CMPLX(a * cos(b), a * sin(b)) : CMPLX(a, b);
    ck_assert_int_eq(ptd_pspec_sigma_min(s->p, s->w, z, &o, &r), PTD_OK);
    s->svds++;
    if (err) *err = r.err;
    return r.sigma;
}

/* g(b): the largest a <= amax on the line b with sigma_min <= eps, bracketed to width
 * `width` (sigma(lo) <= eps < sigma(hi)); -INFINITY when the scan finds none above a_in.
 * The scan steps down by max(sigma - eps, h): sigma_min is 1-Lipschitz in z (and
 * |dz/da| = 1 in both coordinate systems), so a step of sigma - eps skips no point of
 * Lambda_eps, and h is the resolution below which a thin sliver could be missed. */
static double g_of(indep *s, double b, double amax, double h, double a_in, double width, double *hi_out)
{
    double hi = amax, lo = amax, sg = svd_at(s, amax, b, NULL);
    int found = 0;
    for (;;) {
        lo = hi - fmax(sg - s->eps, h);
        if (lo < s->amin && a_in == -INFINITY) break; /* the line misses Lambda_eps */
        if (lo <= a_in) {
            lo = a_in; /* an eigenvalue: inside */
            found = 1;
            break;
        }
        sg = svd_at(s, lo, b, NULL);
        if (sg <= s->eps) {
            found = 1;
            break;
        }
        hi = lo;
    }
    if (!found) return -INFINITY;
    while (hi - lo > width) {
        double m = 0.5 * (lo + hi);
        if (m <= lo || m >= hi) break; /* adjacent doubles */
        if (svd_at(s, m, b, NULL) <= s->eps) lo = m;
        else hi = m;
    }
    if (hi_out) *hi_out = hi;
    return lo;
}

typedef struct {
    double lo, hi;   /* the bracket on the best line: sigma(lo) <= eps < sigma(hi) */
    double b;        /* the best line */
    double db;       /* the golden-section bracket width in b at the end */
    double kappa;    /* |g''(b)| estimated by a second difference */
} indep_result;

/* max a over Lambda_eps: the best of lines on a grid and through every eigenvalue (each
 * component of Lambda_eps holds one), then golden section on g(b) around it */
static indep_result independent(const ptd_pspec_plan *p, double eps, int polar, unsigned *svds)
{
    indep s = {p, ptd_pspec_work_alloc(p), eps, polar, 0, 0};
    ptd_box box;
    ck_assert_int_eq(ptd_fov_box(ptd_pspec_plan_matrix(p), &box), PTD_OK);
    double amax, amin, b0, b1;
    if (polar) {
        amax = hypot(fmax(fabs(box.xmin), fabs(box.xmax)), fmax(fabs(box.ymin), fabs(box.ymax))) + eps;
        amin = 0;
        b0 = -M_PI;
        b1 = M_PI;
    } else {
        amax = box.xmax + eps;
        amin = box.xmin - eps;
        b0 = box.ymin - eps;
        b1 = box.ymax + eps;
    }
    s.amin = amin;
    double h = (amax - amin) / 150, fine = 1e-13 * (fabs(amax) + eps);
    const int nb = 24;
    size_t n = ptd_pspec_plan_order(p);
    const double complex *ev = ptd_pspec_plan_eigenvalues(p);
    double best = -INFINITY, bb = 0, db = (b1 - b0) / nb;
    for (size_t k = 0; k <= nb + n; k++) {
        int on_eig = k > (size_t)nb;
        double complex l = on_eig ? ev[k - nb - 1] : 0;
        double b = on_eig ? (polar ? carg(l) : cimag(l)) : b0 + db * (double)k;
        double a_in = on_eig ? (polar ? cabs(l) : creal(l)) : -INFINITY;
        double g = g_of(&s, b, amax, h, a_in, 1e-3 * h, NULL); /* coarse: only to pick a line */
        if (g > best) {
            best = g;
            bb = b;
        }
    }
    /* golden section on [bb - d, bb + d], scanning from a little beyond the best value.  g
     * jumps where a line leaves a component, so on a wide bracket the section can settle on
     * a lower local maximum than the best line: then the bracket is narrowed about bb until
     * the section keeps at least the coarse best (a lower bound on g(bb)). */
    amax = fmin(amax, best + 0.05 * (amax - best) + 4 * h);
    double coarse_best = best;
    h /= 8;
    double lo = bb, hi = bb, x1 = bb, x2 = bb, f1 = -INFINITY, f2 = -INFINITY, gr = 0.5 * (sqrt(5.0) - 1);
    for (double d = db; d > 1e-6 * (1 + fabs(bb)); d /= 16) {
        lo = bb - d;
        hi = bb + d;
        x1 = hi - gr * (hi - lo);
        x2 = lo + gr * (hi - lo);
        f1 = g_of(&s, x1, amax, h, -INFINITY, fine, NULL);
        f2 = g_of(&s, x2, amax, h, -INFINITY, fine, NULL);
        while (hi - lo > 1e-7 * (1 + fabs(bb))) {
            if (f1 < f2) {
                lo = x1;
                x1 = x2;
                f1 = f2;
                x2 = lo + gr * (hi - lo);
                f2 = g_of(&s, x2, amax, h, -INFINITY, fine, NULL);
            } else {
                hi = x2;
                x2 = x1;
                f2 = f1;
                x1 = hi - gr * (hi - lo);
                f1 = g_of(&s, x1, amax, h, -INFINITY, fine, NULL);
            }
        }
        if (fmax(f1, f2) >= coarse_best) break;
    }
    ck_assert_msg(fmax(f1, f2) >= coarse_best, "independent search: golden section below the best line (%.17g < %.17g)",
                  fmax(f1, f2), coarse_best);
    indep_result r;
    r.b = f1 >= f2 ? x1 : x2;
    r.db = hi - lo;
    r.lo = g_of(&s, r.b, amax, h, -INFINITY, fine, &r.hi);
    /* the curvature of g at the maximum, for the golden section's own error: within a
     * bracket of width db about a smooth maximum, g falls short by at most kappa db^2 / 8 */
    double d = 1e-3 * (1 + fabs(r.b));
    double gp = g_of(&s, r.b + d, amax, h, -INFINITY, fine, NULL), gm = g_of(&s, r.b - d, amax, h, -INFINITY, fine, NULL);
    r.kappa = isfinite(gp) && isfinite(gm) ? fabs(2 * r.lo - gp - gm) / (d * d) : 1 / (d * d);
    ptd_pspec_work_free(s.w);
    *svds = s.svds;
    return r;
}

/* |d sigma_min / da| at (a, b) by central differences with SVDs, made a lower bound: the
 * rounding of the two values (err each) is taken off, and of two step sizes the smaller
 * slope is kept (a curvature error shows as a difference between them). */
static double slope_at(const ptd_pspec_plan *p, double eps, int polar, double a, double b)
{
    indep s = {p, ptd_pspec_work_alloc(p), eps, polar, 0, 0};
    double slope = INFINITY;
    for (double d = 1e-3 * eps; d >= 1e-4 * eps; d /= 4) {
        double e1, e2, sp = svd_at(&s, a + d, b, &e1), sm = svd_at(&s, a - d, b, &e2);
        slope = fmin(slope, (fabs(sp - sm) - e1 - e2) / (2 * d));
    }
    ptd_pspec_work_free(s.w);
    return slope;
}

/* Criss-cross (the published method and the accelerated one) against the independent
 * search, with a tolerance derived from the two computations rather than guessed.
 *
 * Let R(z) = n u (||A|| + |z|) bound the rounding of a dense SVD value of sigma_min(zI - A),
 * and s(z) = |d sigma / da| at z, measured (slope_at).  Near the level set, a point whose
 * computed sigma is within r of eps lies within r / s of the boundary along a.
 *  - The independent point: sigma(lo) <= eps < sigma(hi) as computed, so the boundary on
 *    that line is in [lo - R/s, hi + R/s]; the golden section leaves at most
 *    kappa db^2 / 8 of g on the table.
 *  - The criss-cross point z_cc: its SVD value is within d_cc = |sigma(z_cc) - eps| + R of
 *    eps, so it lies within d_cc / s_cc of the boundary on its own line, and that boundary
 *    is at most the true maximum.
 * Hence |a_cc - a_indep| <= (hi - lo) + R/s_ind + d_cc/s_cc + kappa db^2 / 8.  Separately,
 * the criss-cross point is on the level set to rounding, by SVD: |sigma(z_cc) - eps| <=
 * 4 R(z_cc), and the independent point too: |sigma(lo) - eps| <= (hi - lo) + 2 R (sigma is
 * 1-Lipschitz) -- no slope involved. */
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
        double eps = cases[c].eps;
        for (int polar = 0; polar < 2; polar++) {
            const char *what = polar ? "radius" : "abscissa";
            unsigned svds = 0;
            indep_result ir = independent(p, eps, polar, &svds);
            indep chk = {p, ptd_pspec_work_alloc(p), eps, polar, 0, 0};
            double R_ind, sig_ind = svd_at(&chk, ir.lo, ir.b, &R_ind);
            ck_assert_msg(fabs(sig_ind - eps) <= (ir.hi - ir.lo) + 2 * R_ind,
                          "%s n=%zu eps=%g %s: sigma at the independent point %.17g", cases[c].name, cases[c].n, eps,
                          what, sig_ind);
            double s_ind = slope_at(p, eps, polar, ir.lo, ir.b);
            ck_assert_msg(s_ind > 0, "%s n=%zu %s: no measurable slope at the independent point", cases[c].name,
                          cases[c].n, what);
            for (int pure = 0; pure < 2; pure++) {
                ptd_pspec_extreme r = extreme(p, eps, polar, pure);
                double a_cc = polar ? cabs(r.z) : creal(r.z), b_cc = polar ? carg(r.z) : cimag(r.z);
                assert_close(a_cc, r.value, 0, 4 * U_ROUND);
                double R_cc, sig_cc = svd_at(&chk, a_cc, b_cc, &R_cc);
                /* on the level set to rounding, by an SVD (not the Lanczos value it returned) */
                ck_assert_msg(fabs(sig_cc - eps) <= 4 * R_cc,
                              "%s n=%zu eps=%g %s pure=%d: SVD sigma %.17g at the point found, |sigma - eps| %.3g > 4 R %.3g",
                              cases[c].name, cases[c].n, eps, what, pure, sig_cc, fabs(sig_cc - eps), 4 * R_cc);
                double s_cc = slope_at(p, eps, polar, a_cc, b_cc);
                ck_assert_msg(s_cc > 0, "%s n=%zu %s: no measurable slope at the criss-cross point", cases[c].name,
                              cases[c].n, what);
                double tol = (ir.hi - ir.lo) + R_ind / s_ind + (fabs(sig_cc - eps) + R_cc) / s_cc +
                             ir.kappa * ir.db * ir.db / 8;
                ck_assert_msg(fabs(r.value - ir.lo) <= tol,
                              "%s n=%zu eps=%g %s pure=%d: criss-cross %.17g, independent %.17g (bracket %.2g, "
                              "slopes %.3g / %.3g, tol %.3g)",
                              cases[c].name, cases[c].n, eps, what, pure, r.value, ir.lo, ir.hi - ir.lo, s_ind, s_cc,
                              tol);
                /* the verification grid ran, and its estimate is below the exact value */
                ck_assert(r.grid_points > 0);
                if (!isnan(r.grid_value)) ck_assert(r.grid_value <= r.value + tol);
                if (getenv("PTD_TEST_VERBOSE"))
                    fprintf(stderr, "%-10s n=%2zu eps=%-6g %-8s pure=%d: |diff| %.2g tol %.2g (bracket %.1g, R/s %.1g + "
                                    "%.1g, golden %.1g) slopes %.3g %.3g, %u SVDs\n",
                            cases[c].name, cases[c].n, eps, what, pure, fabs(r.value - ir.lo), tol, ir.hi - ir.lo,
                            R_ind / s_ind, (fabs(sig_cc - eps) + R_cc) / s_cc, ir.kappa * ir.db * ir.db / 8, s_ind,
                            s_cc, svds);
            }
            ptd_pspec_work_free(chk.w);
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

/* Matrices whose pseudospectra are discs about 0 (D A D^* = e^{it} A for a diagonal unitary D,
 * so sigma_min(zI - A) depends on |z| only): the circle |z| = rho_eps is the eps-level curve
 * itself, every point of it is a crossing, and the 2n pencil of the circle search is singular
 * at the answer.  The radius must still come out, equal to the root of sigma_min(r) = eps on
 * the positive axis found by bisection with dense SVDs (sigma_min increases with r here), to
 * the bisection's rounding: sigma_min is 1-Lipschitz and its SVD error is n u (||A|| + r),
 * divided by the slope measured there.  This failed on some OpenBLAS kernels ("dgesv:
 * info = 8"): which shift the circle search took depended on rounding-level differences of
 * sigma_min around a circle where it is constant. */
static ptd_matrix *weighted_shift(size_t n, const double *wts, double complex phase)
{
    ptd_matrix *A = ptd_matrix_alloc(n, n);
    for (size_t i = 0; i + 1 < n; i++) PTD_AT(A, i, i + 1) = wts ? wts[i] * phase : phase;
    return A;
}

START_TEST(test_radius_level_circle)
{
    const double w3[] = {1, 2, 3, 0.5, 4};
    struct {
        size_t n;
        const double *w;
        double complex phase;
    } cases[] = {{2, NULL, 1}, {3, NULL, 1}, {4, NULL, 1}, {5, NULL, 1}, {6, NULL, 1},
                 {4, NULL, 0}, {6, w3, 1}, {4, NULL, CMPLX(0.6, 0.8)}, {1, NULL, 0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ptd_matrix *A = weighted_shift(cases[c].n, cases[c].w, cases[c].phase);
        ptd_pspec_plan *p = plan_of(A);
        ptd_pspec_work *w = ptd_pspec_work_alloc(p);
        indep s = {.p = p, .w = w, .polar = 0};
        size_t n = cases[c].n;
        double nrm = ptd_pspec_plan_norm2(p);
        for (int k = 1; k <= 8; k++) {
            double eps = pow(10.0, -k);
            ptd_pspec_extreme r;
            int st = ptd_pspec_radius(p, eps, NULL, &r);
            ck_assert_msg(st == PTD_OK, "case %zu (n = %zu) eps %g: %s", c, n, eps, ptd_last_error());
            /* bisection on the positive axis: sigma(lo) <= eps < sigma(hi) */
            double lo = 0, hi = 1, e = 0;
            while (svd_at(&s, hi, 0, &e) <= eps) hi *= 2;
            for (int it = 0; it < 200 && hi - lo > 4 * U_ROUND * hi; it++) {
                double mid = 0.5 * (lo + hi);
                if (svd_at(&s, mid, 0, &e) <= eps) lo = mid;
                else hi = mid;
            }
            double h = 1e-6 * hi, slope = (svd_at(&s, hi + h, 0, NULL) - svd_at(&s, hi - h, 0, NULL)) / (2 * h);
            double tol = 4 * U_ROUND * hi + 8 * (double)n * U_ROUND * (nrm + hi) / fmax(slope, 1e-300);
            assert_close(r.value, hi, tol, 0);
            /* the circle through the answer is the level curve: its search must not fail */
            double out[12];
            size_t m = 0;
            ck_assert_msg(ptd_pspec_level_crossings(p, eps, 1, r.value, out, &m) == PTD_OK, "case %zu eps %g: %s", c,
                          eps, ptd_last_error());
        }
        ptd_pspec_work_free(w);
        ptd_pspec_plan_free(p);
        ptd_matrix_free(A);
    }
}
END_TEST

/* Below the floor of the 2n eigenproblems (4 n u ||A||) only local searches are possible;
 * on an exact plan they are accurate.  LegS n = 64 at eps = 1e-14: the component about the
 * rightmost eigenvalue -1 is the disc of radius eps kappa(-1) + O(eps^2), kappa(-1) the
 * eigenvalue's condition number, taken here from extended precision (ptd_cond_mp): an
 * independent route.  The result says it is not certified, and the pure method refuses. */
START_TEST(test_below_extreme_floor)
{
    ptd_system *s = make("hippo-legs", 64);
    ptd_pspec_plan *p = plan_of(s->A);
    double fl = ptd_pspec_extreme_floor(p), eps = 1e-14;
    ck_assert(eps < fl && ptd_pspec_plan_floor(p) == 0);
    ptd_eig_mp *mp = NULL;
    ck_assert_int_eq(ptd_cond_mp(s->A, 0, 6, &mp), PTD_OK);
    double kappa1 = NAN;
    for (size_t i = 0; i < 64; i++)
        if (mp->lambda[i] == -1) kappa1 = mp->eig_cond[i];
    ck_assert(isfinite(kappa1));
    ptd_pspec_extreme r;
    ck_assert_msg(ptd_pspec_abscissa(p, eps, NULL, &r) == PTD_OK, "%s", ptd_last_error());
    ck_assert_int_eq(r.certified, 0);
    /* the disc's radius to 1e-3 (the first-order term's neighbour is eps kappa^2 / gap smaller
     * by eps kappa = 1e-12; the value's own resolution is an ulp of 1 against 6e-13) */
    assert_close((r.value + 1) / eps, kappa1, r.value_err / eps, 1e-3);
    ck_assert(r.value >= -1 + eps);
    /* above the floor the same call is certified */
    ptd_pspec_extreme rc;
    ck_assert_int_eq(ptd_pspec_abscissa(p, 1e-8, NULL, &rc), PTD_OK);
    ck_assert_int_eq(rc.certified, 1);
    ck_assert(rc.value > r.value);
    ck_assert_msg(ptd_pspec_radius(p, eps, NULL, &r) == PTD_OK, "%s", ptd_last_error());
    ck_assert(r.certified == 0 && r.value >= 64);
    ptd_pspec_extreme_opts pure = {.pure = 1};
    ck_assert_int_eq(ptd_pspec_abscissa(p, eps, &pure, &r), PTD_EINVAL);
    ptd_eig_mp_free(mp);
    ptd_pspec_plan_free(p);
    ptd_system_free(s);
}
END_TEST

/* Grid bounds hold: for matrices with and without components finer than the grid, the
 * criss-cross value lies in [lo, hi] (hi only when the box provably holds the set), lo is at
 * least alpha + eps, and the eigenvalues no contour can enclose are counted.  The grid's raw
 * maximum (ptd_pspec_grid_estimates) breaks alpha_eps >= alpha + eps for Kahan at 1e-4: the
 * defect the bounds replace. */
START_TEST(test_grid_bounds)
{
    const char *names[] = {"kahan", "grcar", "hippo-legs", "ginibre"};
    for (size_t c = 0; c < 4; c++) {
        ptd_system *s = make(names[c], c == 0 ? 40 : 32);
        ptd_pspec_plan *p = plan_of(s->A);
        size_t n = ptd_pspec_plan_order(p);
        const double complex *ev = ptd_pspec_plan_eigenvalues(p);
        double alpha = -INFINITY, rho = 0, nrm = ptd_pspec_plan_norm2(p);
        for (size_t i = 0; i < n; i++) {
            alpha = fmax(alpha, creal(ev[i]));
            rho = fmax(rho, cabs(ev[i]));
        }
        for (int k = 2; k <= 8; k += 2) {
            double eps = pow(10.0, -k);
            if (eps <= ptd_pspec_extreme_floor(p)) continue;
            ptd_box box;
            ck_assert_int_eq(ptd_pspec_auto_box(p, &eps, 1, 60, 60, NULL, &box), PTD_OK);
            ptd_pspec_grid *g = NULL;
            ck_assert_int_eq(ptd_pspec_grid_compute(p, &box, 60, 60, NULL, &g), PTD_OK);
            ptd_pspec_grid_bounds b;
            ck_assert_int_eq(ptd_pspec_grid_bound(g, eps, ev, n, &b), PTD_OK);
            ptd_pspec_extreme xa = extreme(p, eps, 0, 0), xr = extreme(p, eps, 1, 0);
            double tol = 8 * (double)n * U_ROUND * nrm; /* eigenvalues of a computed Schur form */
            ck_assert(b.abscissa_lo >= alpha + eps && b.radius_lo >= rho + eps);
            ck_assert_msg(b.abscissa_lo <= xa.value + tol, "%s eps %g: lo %.17g > alpha_eps %.17g", names[c], eps,
                          b.abscissa_lo, xa.value);
            ck_assert_msg(b.radius_lo <= xr.value + tol, "%s eps %g: lo %.17g > rho_eps %.17g", names[c], eps,
                          b.radius_lo, xr.value);
            if (b.contained) {
                ck_assert_msg(b.abscissa_hi >= xa.value - tol, "%s eps %g: hi %.17g < alpha_eps %.17g", names[c], eps,
                              b.abscissa_hi, xa.value);
                ck_assert(b.radius_hi >= xr.value - tol);
            } else {
                ck_assert(isinf(b.abscissa_hi) && isinf(b.radius_hi));
            }
            ck_assert(b.missed <= n && b.outside <= b.missed);
            if (c == 0 && k == 4) {
                double a, r;
                ck_assert(ptd_pspec_grid_estimates(g, eps, &a, &r));
                ck_assert_msg(a < alpha + eps, "the raw grid maximum %g was expected below alpha + eps", a);
                ck_assert_uint_gt(b.missed, 0);
            }
            ptd_pspec_grid_free(g);
        }
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
    /* a diagonal matrix with eigenvalues at cell centres: every disc of radius eps far below
     * the spacing is missed, every one far above it drawn */
    ptd_matrix *D = ptd_matrix_alloc(3, 3);
    const double complex d[3] = {CMPLX(0.05, 0.05), CMPLX(0.55, 0.25), CMPLX(0.95, 0.85)};
    for (size_t i = 0; i < 3; i++) PTD_AT(D, i, i) = d[i];
    ptd_pspec_plan *p = plan_of(D);
    ptd_box box = {0, 1, 0, 1};
    ptd_pspec_grid *g = NULL;
    ck_assert_int_eq(ptd_pspec_grid_compute(p, &box, 11, 11, NULL, &g), PTD_OK);
    ptd_pspec_grid_bounds b;
    ck_assert_int_eq(ptd_pspec_grid_bound(g, 1e-3, d, 3, &b), PTD_OK);
    ck_assert_uint_eq(b.missed, 3);
    ck_assert_int_eq(ptd_pspec_grid_bound(g, 0.2, d, 3, &b), PTD_OK);
    ck_assert_uint_eq(b.missed, 0);
    ck_assert_int_eq(b.contained, 0); /* the 0.2-discs reach the border */
    const double complex out[1] = {CMPLX(2, 0)};
    ck_assert_int_eq(ptd_pspec_grid_bound(g, 0.2, out, 1, &b), PTD_OK);
    ck_assert(b.missed == 1 && b.outside == 1 && !b.contained);
    ptd_pspec_grid_free(g);
    ptd_pspec_plan_free(p);
    ptd_matrix_free(D);
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


/* --- the distance to instability ----------------------------------------------------------- */

static ptd_pspec_instability stab(const ptd_matrix *A, int discrete)
{
    ptd_pspec_plan *p = NULL;
    ck_assert_int_eq(ptd_pspec_plan_create(A, &p), PTD_OK);
    ptd_pspec_instability r;
    ck_assert_msg(ptd_pspec_stability_radius(p, discrete, &r) == PTD_OK, "%s", ptd_last_error());
    ptd_pspec_plan_free(p);
    return r;
}

/* 2 x 2 closed forms.  A = [[l, c], [0, l]]: with p = |z - l|, the singular values of zI - A
 * satisfy s^2 = (2p^2 + c^2 -+ c sqrt(c^2 + 4p^2)) / 2, so sigma_min = (sqrt(c^2 + 4p^2) - c)/2
 * = 2p^2 / (sqrt(c^2 + 4p^2) + c), increasing in p: the minimum is where p is, at the point
 * of the axis (circle) nearest l: p = -l (continuous, l < 0), p = 1 - l (discrete, 0 < l < 1).
 * A full-rank non-normal c and a normal c = 0 (the distance is then |alpha(A)|, 1 - rho(A)). */
START_TEST(test_stability_closed_forms)
{
    const double cs[] = {0, 0.1, 1, 10, 100, 1e4};
    for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++)
        for (int d = 0; d < 2; d++) {
            double l = d ? 0.5 : -1.0, c = cs[k], pm = d ? 1 - l : -l;
            ptd_matrix *A = ptd_matrix_alloc(2, 2);
            A->data[0] = A->data[3] = l;
            A->data[2] = c; /* A(0, 1) */
            double want = 2 * pm * pm / (sqrt(c * c + 4 * pm * pm) + c);
            ptd_pspec_instability r = stab(A, d);
            double na = fabs(l) + c; /* ||A||_2 <= |l| + c */
            ck_assert(r.stable && r.certified && !r.below_floor);
            /* sigma_min of a 2 x 2 exact (triangular) plan: a few u relative, plus the
             * bracket's 64 u; the true value lies in [lower, value + err] */
            assert_close(r.value, want, 0, 16 * U_ROUND + 4 * r.sigma_err / want);
            ck_assert_msg(r.lower <= want * (1 + 4 * U_ROUND) && want <= r.value + r.sigma_err + 4 * U_ROUND * want,
                          "c = %g discrete %d: %.17g not in [%.17g, %.17g + %.3g]", c, d, want, r.lower, r.value, r.sigma_err);
            ck_assert_msg(fabs(remainder(r.w, 2 * M_PI)) <= 1e-6 * (1 + na), "attained at w = %g, not 0", r.w);
            ptd_matrix_free(A);
        }
}
END_TEST

/* Normal matrices (a unitary similarity of a diagonal one): the distance is the distance
 * of the spectrum to the axis, |alpha(A)|, or to the circle, 1 - rho(A).  The Schur form is
 * computed (zgees): the values carry n u ||A||. */
START_TEST(test_stability_normal)
{
    size_t n = 24;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 5);
    double complex d[24];
    for (int disc = 0; disc < 2; disc++) {
        double want = INFINITY;
        for (size_t i = 0; i < n; i++) {
            d[i] = disc ? 0.9 * gsl_rng_uniform(rng) * cexp(I * 2 * M_PI * gsl_rng_uniform(rng))
                        : -0.05 - 2 * gsl_rng_uniform(rng) + I * (4 * gsl_rng_uniform(rng) - 2);
            want = fmin(want, disc ? 1 - cabs(d[i]) : -creal(d[i]));
        }
        ptd_matrix *A = normal_matrix(d, n, 5 + (unsigned long)disc);
        ptd_pspec_instability r = stab(A, disc);
        ck_assert(r.stable && r.certified);
        assert_close(r.value, want, 64 * (double)n * U_ROUND * 3, 0);
        ck_assert(r.lower <= want + 64 * (double)n * U_ROUND * 3);
        ptd_matrix_free(A);
    }
    gsl_rng_free(rng);
}
END_TEST

/* HiPPO-LegS and a shifted Grcar matrix against two independent methods: a dense-SVD scan of
 * the axis (no value of the scan lies below the distance beyond the errors, and the scan's
 * minimum is within its spacing's reach of it, sigma_min being 1-Lipschitz), and the
 * criss-cross abscissa, which crosses 0 at eps = the distance. */
START_TEST(test_stability_independent)
{
    const char *specs[] = {"hippo-legs", "grcar"};
    for (int k = 0; k < 2; k++) {
        ptd_system *s = NULL;
        ck_assert_int_eq(ptd_zoo_make(specs[k], 24, 1, &s), PTD_OK);
        size_t n = s->n;
        if (k == 1)
            for (size_t i = 0; i < n; i++) s->A->data[i + i * n] -= 3.0; /* Grcar's spectrum has Re < 2 */
        ptd_pspec_plan *p = NULL;
        ck_assert_int_eq(ptd_pspec_plan_create(s->A, &p), PTD_OK);
        ptd_pspec_instability r;
        ck_assert_int_eq(ptd_pspec_stability_radius(p, 0, &r), PTD_OK);
        ck_assert(r.stable && r.certified);
        indep in = {.p = p, .w = ptd_pspec_work_alloc(p)};
        double nrm = ptd_pspec_plan_norm2(p), wmax = nrm + r.value + 1, h = wmax / 1000, smin = INFINITY;
        for (int j = -1000; j <= 1000; j++) {
            double e = 0, sv = svd_at(&in, 0, j * h, &e);
            ck_assert_msg(sv + e >= r.lower, "%s: scan value %.17g at w = %g below the lower bound %.17g", specs[k], sv,
                          j * h, r.lower);
            smin = fmin(smin, sv);
        }
        ck_assert_msg(r.value <= smin + 8 * (double)n * U_ROUND * nrm, "%s: %.17g above the scan's %.17g", specs[k], r.value, smin);
        ck_assert(smin - r.value <= 0.5 * h + r.sigma_err);
        double tol = fmax(1e-7, 4 * (r.value - r.lower) / r.value);
        ptd_pspec_extreme lo = extreme(p, r.value * (1 - tol), 0, 0), hi = extreme(p, r.value * (1 + tol), 0, 0);
        ck_assert_msg(lo.value < 0 && hi.value > 0, "%s: alpha_eps %.3g, %.3g at eps = d (1 -+ %.0e): not through 0",
                      specs[k], lo.value, hi.value, tol);
        ptd_pspec_work_free(in.w);
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
}
END_TEST

/* Unstable: the distance is 0.  Below the 2n eigenproblems' floor on an exact plan (diag(-d,
 * -1) with d = 1e-20): the axis scan, uncertified, still gives d to the exact plan's accuracy. */
START_TEST(test_stability_unstable_and_tiny)
{
    ptd_system *s = NULL;
    ck_assert_int_eq(ptd_zoo_make("grcar", 16, 1, &s), PTD_OK);
    ptd_pspec_instability r = stab(s->A, 0);
    ck_assert(!r.stable && r.value == 0);
    ptd_system_free(s);
    ptd_matrix *A = ptd_matrix_alloc(2, 2);
    A->data[0] = -1e-20;
    A->data[3] = -1;
    A->data[2] = 0.5;
    /* sigma_min(iwI - A) = |det(iwI - A)| / sigma_max(iwI - A) = |iw + d| |iw + 1| / sigma_max,
     * smallest at w = 0: d / ||A||_2 (to a relative d) */
    r = stab(A, 0);
    ck_assert(r.stable && !r.certified && !r.below_floor);
    ck_assert_msg(strstr(r.method, "scan") != NULL, "%s", r.method);
    double smax = sqrt(1.25); /* ||A||_2 to 1e-20: [[0, 0.5], [0, -1]] has rank one */
    double want = 1e-20 / smax;
    assert_close(r.value, want, 0, 1e-12);
    ck_assert(r.lower >= 0 && r.lower <= want);
    ptd_matrix_free(A);
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
    tcase_add_test(tc, test_radius_level_circle);
    tcase_add_test(tc, test_below_extreme_floor);
    tcase_add_test(tc, test_grid_bounds);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_stability_closed_forms);
    tcase_add_test(tc, test_stability_normal);
    tcase_add_test(tc, test_stability_independent);
    tcase_add_test(tc, test_stability_unstable_and_tiny);
    suite_add_tcase(s, tc);
    TCase *tf = tcase_create("numerical range");
    tcase_add_test(tf, test_fov_normal);
    tcase_add_test(tf, test_fov_jordan);
    suite_add_tcase(s, tf);
    return run_suite(s);
}
