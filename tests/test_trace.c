/* test_trace.c - level-curve tracing (ptd_pspec_trace) against oracles that do not use it:
 * the gradient of sigma_min against central differences; circles of radius eps about the
 * eigenvalues of a normal matrix; every vertex's sigma_min by an independent dense SVD
 * (LAPACKE zgesvd on zI - A, no Schur form); closed, simple, disjoint curves; the disc of
 * radius eps about every eigenvalue inside its component; enclosed areas against a fine grid;
 * every eigenvalue of Kahan's matrix in a component at eps = 1e-8, where a grid sees none. */
#include "testutil.h"

#include <lapacke.h>

static ptd_pspec_trace_result *trace(const ptd_pspec_plan *p, double eps)
{
    ptd_pspec_trace_result *r = NULL;
    int st = ptd_pspec_trace(p, eps, NULL, &r);
    ck_assert_msg(st == PTD_OK, "trace eps %g: %s", eps, ptd_last_error());
    return r;
}

/* sigma_min(zI - A) by a dense SVD of zI - A itself */
static double svd_sigma(const ptd_matrix *A, double complex z)
{
    size_t n = A->rows;
    double complex *M = malloc(n * n * sizeof *M), *u = NULL, *vt = NULL;
    double *s = malloc(n * sizeof *s), *sup = malloc(n * sizeof *sup);
    ck_assert(M && s && sup);
    for (size_t k = 0; k < n * n; k++) M[k] = -A->data[k];
    for (size_t i = 0; i < n; i++) M[i + i * n] += z;
    lapack_int info = LAPACKE_zgesvd(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)n, (lapack_int)n, M, (lapack_int)n, s,
                                     u, 1, vt, 1, sup);
    ck_assert_int_eq(info, 0);
    double r = s[n - 1];
    free(M);
    free(s);
    free(sup);
    return r;
}

/* proper crossing of segments [a, b] and [c, d] */
static double cross(double complex a, double complex b) { return creal(a) * cimag(b) - cimag(a) * creal(b); }
static int segs_cross(double complex a, double complex b, double complex c, double complex d)
{
    double d1 = cross(b - a, c - a), d2 = cross(b - a, d - a), d3 = cross(d - c, a - c), d4 = cross(d - c, b - c);
    return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

/* The properties every result must have: every curve closed (first vertex repeated), no
 * curve crossing itself or another, every vertex within the stated tolerance of eps (by the
 * trace's own value and by a dense SVD, whose rounding n u ||zI - A|| is added), outside the
 * open disc of radius eps about every eigenvalue, every eigenvalue in exactly one component
 * (winding number by the curve's own vertices: the result's eig lists). */
static void check_result(const ptd_pspec_plan *p, const ptd_pspec_trace_result *r, int svd_every)
{
    const ptd_matrix *A = ptd_pspec_plan_matrix(p);
    size_t n = A->rows;
    const double complex *ev = ptd_pspec_plan_eigenvalues(p);
    double eps = r->eps, nrm = ptd_pspec_plan_norm2(p);
    ck_assert_msg(r->unclosed == 0, "eps %g: %zu curves did not close", eps, r->unclosed);
    ck_assert_msg(r->missed == 0, "eps %g: %zu eigenvalues in no component", eps, r->missed);
    size_t *count = calloc(n, sizeof *count);
    ptd_pspec_work *w = ptd_pspec_work_alloc(p);
    ck_assert(count && w);
    for (size_t c = 0; c < r->ncurves; c++) {
        const ptd_pspec_curve *cv = &r->curves[c];
        ck_assert(cv->closed);
        ck_assert_msg(cv->nv >= 8, "curve %zu: %zu vertices", c, cv->nv);
        ck_assert(cv->z[0] == cv->z[cv->nv - 1]);
        for (size_t j = 0; j < cv->neig; j++) count[cv->eig[j]]++;
        for (size_t k = 0; k < cv->nv; k++) {
            /* the stated tolerance: max(tol eps, 4 err, 4 u |z| |grad sigma|) */
            ptd_pspec_point pt;
            double complex g;
            if (ptd_pspec_sigma_grad(p, w, cv->z[k], NULL, &pt, &g)) ck_abort_msg("%s", ptd_last_error());
            double tolv = fmax(fmax(r->tol * eps, 4 * cv->err[k]), 4 * U_ROUND * cabs(cv->z[k]) * cabs(g));
            if (!(fabs(cv->sigma[k] - eps) <= tolv))
                ck_abort_msg("curve %zu vertex %zu: sigma %.17g, eps %g, tol %.3g", c, k, cv->sigma[k], eps, tolv);
            if (svd_every && k % (size_t)svd_every == 0) {
                double s = svd_sigma(A, cv->z[k]);
                double rnd = 4 * (double)n * U_ROUND * (nrm + cabs(cv->z[k]));
                ck_assert_msg(fabs(s - eps) <= tolv + rnd, "curve %zu vertex %zu: SVD sigma %.17g, eps %g, bound %.3g",
                              c, k, s, eps, tolv + rnd);
            }
            /* (plain tests in the inner loops: each ck_assert writes a record) */
            for (size_t i = 0; i < n; i++)
                if (!(cabs(cv->z[k] - ev[i]) >= eps * (1 - 1e-6)))
                    ck_abort_msg("curve %zu vertex %zu inside the disc of radius eps about eigenvalue %zu", c, k, i);
        }
        /* simple and disjoint: no two non-adjacent segments cross */
        for (size_t d = c; d < r->ncurves; d++) {
            const ptd_pspec_curve *dv = &r->curves[d];
            for (size_t k = 0; k + 1 < cv->nv; k++)
                for (size_t m = d == c ? k + 2 : 0; m + 1 < dv->nv; m++) {
                    if (d == c && k == 0 && m + 2 == cv->nv) continue; /* the closing neighbours */
                    if (segs_cross(cv->z[k], cv->z[k + 1], dv->z[m], dv->z[m + 1]))
                        ck_abort_msg("eps %g: curve %zu segment %zu crosses curve %zu segment %zu", eps, c, k, d, m);
                }
        }
    }
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(count[i] == 1, "eps %g: eigenvalue %zu (%g%+gi) in %zu components", eps, i, creal(ev[i]),
                      cimag(ev[i]), count[i]);
    free(count);
    ptd_pspec_work_free(w);
}

/* d sigma/dx + i d sigma/dy against central differences of the one-point values */
START_TEST(test_gradient)
{
    const char *names[] = {"grcar", "kahan", "hippo-legs"};
    const double complex zs[] = {CMPLX(0.3, 1.7), CMPLX(1.1, 0.2), CMPLX(-2.5, 1.0)};
    for (int m = 0; m < 3; m++) {
        ptd_system *s = make(names[m], 12);
        ptd_pspec_plan *p = plan_of(s->A);
        ptd_pspec_work *w = ptd_pspec_work_alloc(p);
        ck_assert(w);
        ptd_pspec_point pt, a, b;
        double complex g, gd;
        ck_assert_int_eq(ptd_pspec_sigma_grad(p, w, zs[m], NULL, &pt, &g), PTD_OK);
        double h = 1e-6;
        ck_assert_int_eq(ptd_pspec_sigma_min(p, w, zs[m] + h, NULL, &a), PTD_OK);
        ck_assert_int_eq(ptd_pspec_sigma_min(p, w, zs[m] - h, NULL, &b), PTD_OK);
        double gx = (a.sigma - b.sigma) / (2 * h);
        ck_assert_int_eq(ptd_pspec_sigma_min(p, w, zs[m] + I * h, NULL, &a), PTD_OK);
        ck_assert_int_eq(ptd_pspec_sigma_min(p, w, zs[m] - I * h, NULL, &b), PTD_OK);
        double gy = (a.sigma - b.sigma) / (2 * h);
        /* central differences: O(h^2 sigma'') plus the values' rounding over h */
        double tol = 1e-6 + 4 * (pt.err + a.err) / h;
        ck_assert_msg(cabs(g - CMPLX(gx, gy)) <= tol, "%s at %g%+gi: gradient %g%+gi, differences %g%+gi", names[m],
                      creal(zs[m]), cimag(zs[m]), creal(g), cimag(g), gx, gy);
        ck_assert(cabs(g) <= 1 + 1e-12);
        /* the SVD method gives no gradient */
        ptd_pspec_opts o = {.method = PTD_PSPEC_SVD};
        ck_assert_int_eq(ptd_pspec_sigma_grad(p, w, zs[m], &o, &pt, &gd), PTD_OK);
        ck_assert(gd == 0);
        ptd_pspec_work_free(w);
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
}
END_TEST

/* A normal matrix (a unitary similarity of a diagonal one, so the Schur form is computed):
 * the level set is the union of the discs of radius eps, every curve a circle. */
START_TEST(test_normal_circles)
{
    const double complex lam[] = {0, 1, CMPLX(0, 2), CMPLX(-1, 0.5), CMPLX(2, -1)};
    size_t n = 5;
    ptd_matrix *D = ptd_matrix_alloc(n, n), *Q = ptd_matrix_alloc(n, n), *A = ptd_matrix_alloc(n, n);
    ck_assert(D && Q && A);
    for (size_t i = 0; i < n; i++) PTD_AT(D, i, i) = lam[i];
    /* Q: a Householder reflector I - 2 v v^* / v^* v, unitary */
    double complex v[5] = {1, CMPLX(0.5, 0.2), -0.3, CMPLX(0.1, -0.7), 0.4};
    double vv = 0;
    for (size_t i = 0; i < n; i++) vv += creal(v[i] * conj(v[i]));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) PTD_AT(Q, i, j) = (i == j) - 2 * v[i] * conj(v[j]) / vv;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double complex c = 0;
            for (size_t k = 0; k < n; k++) c += PTD_AT(Q, i, k) * lam[k] * conj(PTD_AT(Q, j, k));
            PTD_AT(A, i, j) = c;
        }
    ptd_pspec_plan *p = plan_of(A);
    ck_assert(!ptd_pspec_plan_exact(p));
    const double eps_list[] = {1e-1, 1e-4, 1e-8};
    for (int e = 0; e < 3; e++) {
        double eps = eps_list[e];
        ptd_pspec_trace_result *r = trace(p, eps);
        check_result(p, r, 3);
        ck_assert_uint_eq(r->components, n);
        ck_assert_uint_eq(r->ncurves, n);
        const double complex *ev = ptd_pspec_plan_eigenvalues(p);
        for (size_t c = 0; c < r->ncurves; c++) {
            const ptd_pspec_curve *cv = &r->curves[c];
            ck_assert_uint_eq(cv->neig, 1);
            ck_assert(cv->near_disc);
            /* sigma_min = |z - lambda| exactly; the vertex tolerance and the Schur form's
             * rounding (the eigenvalue moves by about n u ||A||) */
            double tol = fmax(r->tol * eps, 4 * cv->err[0]) + 8 * (double)n * U_ROUND * 3;
            for (size_t k = 0; k < cv->nv; k++)
                if (!(fabs(cabs(cv->z[k] - ev[cv->eig[0]]) - eps) <= tol))
                    ck_abort_msg("eps %g: vertex at distance %.17g from its eigenvalue", eps, cabs(cv->z[k] - ev[cv->eig[0]]));
            assert_close(cv->area, M_PI * eps * eps, 0, 0.01); /* the polygon inscribed: 1 - sin(t)/t */
        }
        ptd_pspec_trace_free(r);
    }
    ptd_pspec_plan_free(p);
    ptd_matrix_free(D);
    ptd_matrix_free(Q);
    ptd_matrix_free(A);
}
END_TEST

/* The enclosed area against the count of grid points with sigma_min <= eps, where the grid
 * resolves the set: the count's error is at most the cells the curve crosses, about
 * perimeter * (hx + hy). */
static void area_against_grid(const char *name, size_t n, double eps, size_t ng)
{
    ptd_system *s = make(name, n);
    ptd_pspec_plan *p = plan_of(s->A);
    ptd_pspec_trace_result *r = trace(p, eps);
    check_result(p, r, 7);
    double area = 0, per = 0;
    ptd_box b = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    for (size_t c = 0; c < r->ncurves; c++) {
        const ptd_pspec_curve *cv = &r->curves[c];
        area += cv->area;
        for (size_t k = 0; k < cv->nv; k++) {
            b.xmin = fmin(b.xmin, creal(cv->z[k]));
            b.xmax = fmax(b.xmax, creal(cv->z[k]));
            b.ymin = fmin(b.ymin, cimag(cv->z[k]));
            b.ymax = fmax(b.ymax, cimag(cv->z[k]));
            if (k) per += cabs(cv->z[k] - cv->z[k - 1]);
        }
    }
    double mx = 0.05 * (b.xmax - b.xmin), my = 0.05 * (b.ymax - b.ymin);
    b.xmin -= mx;
    b.xmax += mx;
    b.ymin -= my;
    b.ymax += my;
    ptd_pspec_grid *g = NULL;
    ck_assert_int_eq(ptd_pspec_grid_compute(p, &b, ng, ng, NULL, &g), PTD_OK);
    double hx = (b.xmax - b.xmin) / (double)(ng - 1), hy = (b.ymax - b.ymin) / (double)(ng - 1);
    size_t in = 0;
    for (size_t k = 0; k < ng * ng; k++) in += g->sigma[k] <= eps;
    double garea = (double)in * hx * hy;
    ck_assert_msg(fabs(garea - area) <= per * (hx + hy), "%s n=%zu eps %g: traced area %.6g, grid %.6g (bound %.3g)",
                  name, n, eps, area, garea, per * (hx + hy));
    ptd_pspec_grid_free(g);
    ptd_pspec_trace_free(r);
    ptd_pspec_plan_free(p);
    ptd_system_free(s);
}

START_TEST(test_area_grcar) { area_against_grid("grcar", 32, 1e-3, 160); }
END_TEST
START_TEST(test_area_legs) { area_against_grid("hippo-legs", 16, 1e-2, 160); }
END_TEST

/* Kahan n = 40 at 1e-8: components far finer than any grid; every eigenvalue in exactly one
 * (check_result), the curves checked by SVD */
START_TEST(test_kahan)
{
    ptd_system *s = make("kahan", 40);
    ptd_pspec_plan *p = plan_of(s->A);
    const double eps_list[] = {1e-4, 1e-8};
    for (int e = 0; e < 2; e++) {
        ptd_pspec_trace_result *r = trace(p, eps_list[e]);
        check_result(p, r, 25);
        ck_assert(r->components >= 2);
        for (size_t c = 0; c < r->ncurves; c++) {
            const ptd_pspec_curve *cv = &r->curves[c];
            int has = 0;
            for (size_t j = 0; j < cv->neig; j++) has |= cv->eig[j] == cv->start;
            ck_assert_msg(has, "curve %zu does not enclose its start", c);
        }
        ptd_pspec_trace_free(r);
    }
    ptd_pspec_plan_free(p);
    ptd_system_free(s);
}
END_TEST

/* HiPPO-LegS n = 64 down to 1e-16 (exact Schur form): components about -1, -2, ... split off
 * one by one as eps falls, the one about -1 at 1e-16 (radius 64 eps, a few dozen roundings of
 * z) as a ray polygon; every eigenvalue in one component.  No SVD: it cannot resolve these. */
START_TEST(test_legs_small)
{
    ptd_system *s = make("hippo-legs", 64);
    ptd_pspec_plan *p = plan_of(s->A);
    const double eps_list[] = {1e-10, 1e-16};
    const size_t want[] = {4, 7};
    for (int e = 0; e < 2; e++) {
        ptd_pspec_trace_result *r = trace(p, eps_list[e]);
        check_result(p, r, 0);
        ck_assert_uint_eq(r->components, want[e]);
        size_t rays = 0;
        for (size_t c = 0; c < r->ncurves; c++) rays += r->curves[c].rays;
        ck_assert_uint_eq(rays, e == 1);
        ptd_pspec_trace_free(r);
    }
    ptd_pspec_plan_free(p);
    ptd_system_free(s);
}
END_TEST

START_TEST(test_errors)
{
    ptd_system *s = make("grcar", 8);
    ptd_pspec_plan *p = plan_of(s->A);
    ptd_pspec_trace_result *r = (void *)1;
    ck_assert_int_eq(ptd_pspec_trace(p, 0, NULL, &r), PTD_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(ptd_pspec_trace(p, NAN, NULL, &r), PTD_EINVAL);
    ck_assert_int_eq(ptd_pspec_trace(p, 1e-30, NULL, &r), PTD_EINVAL); /* below the floor */
    ptd_pspec_trace_opts o = {.max_turn = 2};
    ck_assert_int_eq(ptd_pspec_trace(p, 0.1, &o, &r), PTD_EINVAL);
    /* a vertex limit too small to close a curve: open curves, reported */
    o = (ptd_pspec_trace_opts){.max_vertices = 8};
    ck_assert_int_eq(ptd_pspec_trace(p, 1e-3, &o, &r), PTD_OK);
    ck_assert(r->unclosed > 0);
    for (size_t c = 0; c < r->ncurves; c++) ck_assert(!r->curves[c].closed && r->curves[c].nv <= 8);
    ptd_pspec_trace_free(r);
    ptd_pspec_trace_free(NULL);
    ptd_pspec_plan_free(p);
    ptd_system_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("level curves");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_gradient);
    tcase_add_test(tc, test_normal_circles);
    tcase_add_test(tc, test_area_grcar);
    tcase_add_test(tc, test_area_legs);
    tcase_add_test(tc, test_kahan);
    tcase_add_test(tc, test_legs_small);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
