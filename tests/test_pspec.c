/* test_pspec.c - sigma_min(zI - A) by inverse Lanczos against independent methods: dense SVD,
 * MPFR in the test itself, unitary invariance, eigenvalue bounds, scaling; grids and their
 * thread independence; automatic bounds. */
#include "testutil.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <lapacke.h>
#include <mpfr.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static ptd_pspec_point at(const ptd_pspec_plan *p, ptd_pspec_work *w, double complex z, ptd_pspec_method m)
{
    ptd_pspec_opts o = {.method = m};
    ptd_pspec_point r;
    int st = ptd_pspec_sigma_min(p, w, z, &o, &r);
    ck_assert_msg(st == PTD_OK, "sigma_min at %g%+gi: %s", creal(z), cimag(z), ptd_last_error());
    return r;
}

/* By default inverse Lanczos runs until its own error is a quarter of the rounding bound
 * n u (||A|| + |z|) (computed Schur forms) or n u relative (exact ones): the comparisons below
 * allow the rounding bound alone, a multiple of n u ||A||. */

/* Random points around the spectrum: uniform in the eigenvalue box widened by `pad`. */
static void random_points(gsl_rng *r, const ptd_pspec_plan *p, double pad, double complex *z, size_t m)
{
    const double complex *ev = ptd_pspec_plan_eigenvalues(p);
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < ptd_pspec_plan_order(p); i++) {
        x0 = fmin(x0, creal(ev[i]));
        x1 = fmax(x1, creal(ev[i]));
        y0 = fmin(y0, cimag(ev[i]));
        y1 = fmax(y1, cimag(ev[i]));
    }
    for (size_t k = 0; k < m; k++) {
        double x = x0 - pad + (x1 - x0 + 2 * pad) * gsl_rng_uniform(r);
        double y = y0 - pad + (y1 - y0 + 2 * pad) * gsl_rng_uniform(r);
        z[k] = CMPLX(x, y);
    }
}

/* Inverse Lanczos agrees with the dense SVD of zI - A within 100 n u ||A|| (the SVD's own
 * rounding) plus the Lanczos tolerance, on HiPPO, Grcar and random matrices. */
START_TEST(test_lanczos_vs_svd)
{
    struct {
        const char *name;
        size_t n;
    } cases[] = {{"hippo-legs", 16}, {"hippo-legs", 48}, {"hippo-legt", 32}, {"hippo-lmu", 12},
                 {"hippo-fout", 32}, {"grcar", 32},      {"grcar", 80},      {"ginibre", 60},
                 {"randtri", 40},    {"frank", 12},      {"kahan", 30},      {"hippo-legs-normal", 24}};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ptd_system *s = zoo_system(cases[c].name, cases[c].n, 1);
        ptd_pspec_plan *p = plan_of(s->A);
        ptd_pspec_work *w = ptd_pspec_work_alloc(p);
        double nrm = ptd_pspec_plan_norm2(p), n = (double)cases[c].n;
        double complex z[40];
        random_points(r, p, 0.2 * nrm + 1, z, 40);
        for (size_t k = 0; k < 40; k++) {
            ptd_pspec_point a = at(p, w, z[k], PTD_PSPEC_LANCZOS), b = at(p, w, z[k], PTD_PSPEC_SVD);
            double tol = 100 * n * U_ROUND * (nrm + cabs(z[k]));
            ck_assert_msg(fabs(a.sigma - b.sigma) <= tol, "%s n=%zu z=%g%+gi: lanczos %.17g svd %.17g (tol %g)",
                          cases[c].name, cases[c].n, creal(z[k]), cimag(z[k]), a.sigma, b.sigma, tol);
            ck_assert(a.err >= 0 && b.err > 0);
        }
        ptd_pspec_work_free(w);
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
    gsl_rng_free(r);
}
END_TEST

/* A random unitary Q (QR of a complex Gaussian matrix). */
static ptd_matrix *random_unitary(size_t n, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    ptd_matrix *Q = ptd_matrix_alloc(n, n);
    for (size_t k = 0; k < n * n; k++) {
        double re = gsl_ran_gaussian(r, 1), im = gsl_ran_gaussian(r, 1);
        Q->data[k] = CMPLX(re, im);
    }
    double complex *tau = malloc(n * sizeof *tau);
    ck_assert_int_eq(LAPACKE_zgeqrf(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)n, Q->data, (lapack_int)n, tau), 0);
    ck_assert_int_eq(LAPACKE_zungqr(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)n, (lapack_int)n, Q->data, (lapack_int)n, tau), 0);
    free(tau);
    gsl_rng_free(r);
    return Q;
}

/* Q A Q^*, plain triple loop (an independent route, no BLAS) */
static ptd_matrix *similar(const ptd_matrix *A, const ptd_matrix *Q)
{
    size_t n = A->rows;
    ptd_matrix *T = ptd_matrix_alloc(n, n), *B = ptd_matrix_alloc(n, n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double complex s = 0;
            for (size_t k = 0; k < n; k++) s += PTD_AT(Q, i, k) * PTD_AT(A, k, j);
            PTD_AT(T, i, j) = s;
        }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double complex s = 0;
            for (size_t k = 0; k < n; k++) s += PTD_AT(T, i, k) * conj(PTD_AT(Q, j, k));
            PTD_AT(B, i, j) = s;
        }
    ptd_matrix_free(T);
    return B;
}

START_TEST(test_unitary_invariance)
{
    const char *names[] = {"hippo-legs", "grcar", "ginibre", "demmel"};
    for (size_t c = 0; c < 4; c++) {
        size_t n = 24;
        ptd_system *s = zoo_system(names[c], n, 2);
        ptd_matrix *Q = random_unitary(n, 100 + c);
        ptd_matrix *B = similar(s->A, Q);
        ptd_pspec_plan *pa = plan_of(s->A), *pb = plan_of(B);
        ck_assert(!ptd_pspec_plan_exact(pb));
        ptd_pspec_work *wa = ptd_pspec_work_alloc(pa), *wb = ptd_pspec_work_alloc(pb);
        double nrm = ptd_pspec_plan_norm2(pa);
        /* ||Q A Q^*||_2 = ||A||_2 */
        assert_close(ptd_pspec_plan_norm2(pb), nrm, 0, 100 * n * U_ROUND);
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(r, 5);
        double complex z[25];
        random_points(r, pa, 0.3 * nrm, z, 25);
        for (size_t k = 0; k < 25; k++) {
            double a = at(pa, wa, z[k], PTD_PSPEC_LANCZOS).sigma, b = at(pb, wb, z[k], PTD_PSPEC_LANCZOS).sigma;
            /* the similarity itself is computed with error about n u ||A|| */
            assert_close(b, a, 100 * n * U_ROUND * (nrm + cabs(z[k])), 0);
        }
        gsl_rng_free(r);
        ptd_pspec_work_free(wa);
        ptd_pspec_work_free(wb);
        ptd_pspec_plan_free(pa);
        ptd_pspec_plan_free(pb);
        ptd_matrix_free(B);
        ptd_matrix_free(Q);
        ptd_system_free(s);
    }
}
END_TEST

/* sigma_min(zI - A) <= |z - lambda| for every eigenvalue lambda: checked with exactly known
 * eigenvalues (triangular matrices: the diagonal), and sigma(c(zI - A)) = |c| sigma(zI - A). */
START_TEST(test_eigenvalue_bound_and_scaling)
{
    const char *names[] = {"hippo-legs", "kahan", "demmel", "randtri", "jordan", "hippo-lagt"};
    const double complex c = CMPLX(-1.5, 2.0);
    for (size_t m = 0; m < 6; m++) {
        size_t n = 20;
        ptd_system *s = zoo_system(names[m], n, 4);
        ptd_pspec_plan *p = plan_of(s->A);
        ptd_pspec_work *w = ptd_pspec_work_alloc(p);
        ptd_matrix *cA = ptd_matrix_copy(s->A);
        for (size_t k = 0; k < n * n; k++) cA->data[k] *= c;
        ptd_pspec_plan *pc = plan_of(cA);
        ptd_pspec_work *wc = ptd_pspec_work_alloc(pc);
        double nrm = ptd_pspec_plan_norm2(p);
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(r, 9);
        double complex z[30];
        random_points(r, p, 0.5 * nrm + 0.5, z, 30);
        for (size_t k = 0; k < 30; k++) {
            double sg = at(p, w, z[k], PTD_PSPEC_LANCZOS).sigma;
            double dmin = INFINITY;
            for (size_t i = 0; i < n; i++) dmin = fmin(dmin, cabs(z[k] - PTD_AT(s->A, i, i)));
            ck_assert_msg(sg <= dmin + 10 * n * U_ROUND * nrm,
                          "%s: sigma %g > distance to spectrum %g", names[m], sg, dmin);
            double sc = at(pc, wc, c * z[k], PTD_PSPEC_LANCZOS).sigma;
            /* scaling by c is exact up to the rounding of c * A_ij: relative n u */
            assert_close(sc, cabs(c) * sg, 0, 100 * n * U_ROUND);
        }
        gsl_rng_free(r);
        ptd_pspec_work_free(w);
        ptd_pspec_work_free(wc);
        ptd_pspec_plan_free(p);
        ptd_pspec_plan_free(pc);
        ptd_matrix_free(cA);
        ptd_system_free(s);
    }
}
END_TEST

/* ---- extended precision oracle --------------------------------------------------------- */

/* sigma_min(M) for a real triangular M (lower when `lower`) given as doubles, in MPFR at
 * `prec` bits: X = M^{-1} by substitution, then power iteration on X^T X. */
static double mpfr_sigma_min(const double *M, size_t n, int lower, mpfr_prec_t prec)
{
    mpfr_t *X = malloc(n * n * sizeof *X), *v = malloc(n * sizeof *v), *t = malloc(n * sizeof *t);
    mpfr_t s, a, lam, old, diff;
    mpfr_inits2(prec, s, a, lam, old, diff, (mpfr_ptr)0);
    for (size_t k = 0; k < n * n; k++) mpfr_init2(X[k], prec);
    for (size_t k = 0; k < n; k++) {
        mpfr_init2(v[k], prec);
        mpfr_init2(t[k], prec);
    }
    /* column c of X solves M x = e_c */
    for (size_t c = 0; c < n; c++) {
        for (size_t ii = 0; ii < n; ii++) {
            size_t i = lower ? ii : n - 1 - ii;
            mpfr_set_d(s, i == c ? 1.0 : 0.0, MPFR_RNDN);
            for (size_t kk = 0; kk < ii; kk++) {
                size_t k = lower ? kk : n - 1 - kk;
                mpfr_mul_d(a, X[k + c * n], M[i + k * n], MPFR_RNDN);
                mpfr_sub(s, s, a, MPFR_RNDN);
            }
            mpfr_div_d(X[i + c * n], s, M[i + i * n], MPFR_RNDN);
        }
    }
    for (size_t k = 0; k < n; k++) mpfr_set_d(v[k], 1.0 + 0.01 * (double)k, MPFR_RNDN);
    mpfr_set_ui(old, 0, MPFR_RNDN);
    for (int it = 0; it < 5000; it++) {
        for (size_t i = 0; i < n; i++) { /* t = X v */
            mpfr_set_ui(t[i], 0, MPFR_RNDN);
            for (size_t k = 0; k < n; k++) mpfr_fma(t[i], X[i + k * n], v[k], t[i], MPFR_RNDN);
        }
        mpfr_set_ui(lam, 0, MPFR_RNDN);
        for (size_t i = 0; i < n; i++) { /* v = X^T t */
            mpfr_set_ui(v[i], 0, MPFR_RNDN);
            for (size_t k = 0; k < n; k++) mpfr_fma(v[i], X[k + i * n], t[k], v[i], MPFR_RNDN);
            mpfr_fma(lam, v[i], v[i], lam, MPFR_RNDN);
        }
        mpfr_sqrt(lam, lam, MPFR_RNDN); /* ||X^T X v|| with ||v|| = 1 from the last step */
        for (size_t i = 0; i < n; i++) mpfr_div(v[i], v[i], lam, MPFR_RNDN);
        if (it == 0) {
            mpfr_set(old, lam, MPFR_RNDN);
            continue;
        }
        mpfr_sub(diff, lam, old, MPFR_RNDN);
        mpfr_abs(diff, diff, MPFR_RNDN);
        mpfr_mul_2si(a, lam, -100, MPFR_RNDN);
        mpfr_set(old, lam, MPFR_RNDN);
        if (mpfr_cmp(diff, a) <= 0) break;
    }
    /* sigma_min = lam^{-1/2} */
    mpfr_rec_sqrt(lam, lam, MPFR_RNDN);
    double out = mpfr_get_d(lam, MPFR_RNDN);
    for (size_t k = 0; k < n * n; k++) mpfr_clear(X[k]);
    for (size_t k = 0; k < n; k++) {
        mpfr_clear(v[k]);
        mpfr_clear(t[k]);
    }
    mpfr_clears(s, a, lam, old, diff, (mpfr_ptr)0);
    free(X);
    free(v);
    free(t);
    return out;
}

/* --- an extended-precision oracle for any complex zI - A: LU with partial pivoting and
 * inverse iteration on (M^* M)^{-1}, M = zI - A, in MPFR (complex numbers as pairs) --------- */
typedef struct {
    mpfr_t re, im;
} cmp;

typedef struct {
    size_t n;
    cmp *M, *v, *x, t, u;
    size_t *perm;
    mpfr_t a, b;
} mpsig;

static void cmp_init(cmp *c, mpfr_prec_t prec) { mpfr_inits2(prec, c->re, c->im, (mpfr_ptr)0); }
static void cmp_clear(cmp *c) { mpfr_clears(c->re, c->im, (mpfr_ptr)0); }
/* r -= x y (conj(x) y when cx); r must not alias x or y; a, b scratch */
static void cmp_submul(cmp *r, const cmp *x, const cmp *y, int cx, mpfr_t a, mpfr_t b)
{
    mpfr_mul(a, x->re, y->re, MPFR_RNDN);
    mpfr_mul(b, x->im, y->im, MPFR_RNDN);
    if (cx) mpfr_add(a, a, b, MPFR_RNDN);
    else mpfr_sub(a, a, b, MPFR_RNDN);
    mpfr_sub(r->re, r->re, a, MPFR_RNDN);
    mpfr_mul(a, x->re, y->im, MPFR_RNDN);
    mpfr_mul(b, x->im, y->re, MPFR_RNDN);
    if (cx) mpfr_sub(a, a, b, MPFR_RNDN);
    else mpfr_add(a, a, b, MPFR_RNDN);
    mpfr_sub(r->im, r->im, a, MPFR_RNDN);
}
/* r = x / y (x / conj(y) when cy), r may alias x: x conj(y) / |y|^2 (x y / |y|^2) */
static void cmp_div(cmp *r, const cmp *x, const cmp *y, int cy, mpsig *m)
{
    mpfr_sqr(m->a, y->re, MPFR_RNDN);
    mpfr_fma(m->a, y->im, y->im, m->a, MPFR_RNDN); /* |y|^2 */
    cmp *t = &m->t;
    double sg = cy ? -1.0 : 1.0;                   /* the sign of y's imaginary part used */
    mpfr_mul(t->re, x->re, y->re, MPFR_RNDN);      /* xr yr + sg xi yi */
    mpfr_mul(m->b, x->im, y->im, MPFR_RNDN);
    if (sg > 0) mpfr_add(t->re, t->re, m->b, MPFR_RNDN);
    else mpfr_sub(t->re, t->re, m->b, MPFR_RNDN);
    mpfr_mul(t->im, x->im, y->re, MPFR_RNDN);      /* xi yr - sg xr yi */
    mpfr_mul(m->b, x->re, y->im, MPFR_RNDN);
    if (sg > 0) mpfr_sub(t->im, t->im, m->b, MPFR_RNDN);
    else mpfr_add(t->im, t->im, m->b, MPFR_RNDN);
    mpfr_div(r->re, t->re, m->a, MPFR_RNDN);
    mpfr_div(r->im, t->im, m->a, MPFR_RNDN);
}

/* sigma_min(zI - A) to about 2^-100 relative; 0 if zI - A is exactly singular. */
static double mp_sigma_min(const ptd_matrix *A, double complex z, mpfr_prec_t prec)
{
    size_t n = A->rows;
    mpsig m = {.n = n};
    m.M = malloc(n * n * sizeof *m.M);
    m.v = malloc(n * sizeof *m.v);
    m.x = malloc(n * sizeof *m.x);
    m.perm = malloc(n * sizeof *m.perm);
    cmp_init(&m.t, prec);
    cmp_init(&m.u, prec);
    mpfr_inits2(prec, m.a, m.b, (mpfr_ptr)0);
    for (size_t k = 0; k < n * n; k++) {
        cmp_init(&m.M[k], prec);
        mpfr_set_d(m.M[k].re, creal((k % (n + 1) == 0 ? z : 0)), MPFR_RNDN);
        mpfr_sub_d(m.M[k].re, m.M[k].re, creal(A->data[k]), MPFR_RNDN); /* exact at this precision */
        mpfr_set_d(m.M[k].im, cimag((k % (n + 1) == 0 ? z : 0)), MPFR_RNDN);
        mpfr_sub_d(m.M[k].im, m.M[k].im, cimag(A->data[k]), MPFR_RNDN);
    }
    for (size_t i = 0; i < n; i++) {
        cmp_init(&m.v[i], prec);
        cmp_init(&m.x[i], prec);
        m.perm[i] = i;
    }
#define MM(i, j) m.M[(i) + (j) * n]
    int singular = 0;
    for (size_t k = 0; k < n && !singular; k++) {
        size_t piv = k;
        double best = -1;
        for (size_t i = k; i < n; i++) {
            double v = hypot(mpfr_get_d(MM(i, k).re, MPFR_RNDN), mpfr_get_d(MM(i, k).im, MPFR_RNDN));
            if (v > best) {
                best = v;
                piv = i;
            }
        }
        if (mpfr_zero_p(MM(piv, k).re) && mpfr_zero_p(MM(piv, k).im)) {
            singular = 1;
            break;
        }
        if (piv != k) {
            for (size_t j = 0; j < n; j++) {
                mpfr_swap(MM(k, j).re, MM(piv, j).re);
                mpfr_swap(MM(k, j).im, MM(piv, j).im);
            }
            size_t t = m.perm[k];
            m.perm[k] = m.perm[piv];
            m.perm[piv] = t;
        }
        for (size_t i = k + 1; i < n; i++) {
            cmp_div(&MM(i, k), &MM(i, k), &MM(k, k), 0, &m);
            for (size_t j = k + 1; j < n; j++) cmp_submul(&MM(i, j), &MM(i, k), &MM(k, j), 0, m.a, m.b);
        }
    }
    double out = 0;
    if (!singular) {
        for (size_t i = 0; i < n; i++) {
            mpfr_set_d(m.v[i].re, 1.0 + 0.37 * sin((double)i), MPFR_RNDN);
            mpfr_set_d(m.v[i].im, cos(1.3 * (double)i), MPFR_RNDN);
        }
        mpfr_t lam, old, diff;
        mpfr_inits2(prec, lam, old, diff, (mpfr_ptr)0);
        mpfr_set_ui(old, 0, MPFR_RNDN);
        for (int it = 0; it < 3000; it++) {
            /* w = M^{-*} v: M = P^T L U, M^* = U^* L^* P; solve U^* s = v, L^* q = s, w = P^T q */
            for (size_t i = 0; i < n; i++) {
                mpfr_set(m.x[i].re, m.v[i].re, MPFR_RNDN);
                mpfr_set(m.x[i].im, m.v[i].im, MPFR_RNDN);
                for (size_t k = 0; k < i; k++) cmp_submul(&m.x[i], &MM(k, i), &m.x[k], 1, m.a, m.b);
                cmp_div(&m.x[i], &m.x[i], &MM(i, i), 1, &m);
            }
            for (size_t i = n; i-- > 0;)
                for (size_t k = i + 1; k < n; k++) cmp_submul(&m.x[i], &MM(k, i), &m.x[k], 1, m.a, m.b);
            for (size_t i = 0; i < n; i++) {
                mpfr_set(m.v[m.perm[i]].re, m.x[i].re, MPFR_RNDN);
                mpfr_set(m.v[m.perm[i]].im, m.x[i].im, MPFR_RNDN);
            }
            /* x = M^{-1} w: P w, L forward (unit), U back */
            for (size_t i = 0; i < n; i++) {
                mpfr_set(m.x[i].re, m.v[m.perm[i]].re, MPFR_RNDN);
                mpfr_set(m.x[i].im, m.v[m.perm[i]].im, MPFR_RNDN);
                for (size_t k = 0; k < i; k++) cmp_submul(&m.x[i], &MM(i, k), &m.x[k], 0, m.a, m.b);
            }
            for (size_t i = n; i-- > 0;) {
                for (size_t k = i + 1; k < n; k++) cmp_submul(&m.x[i], &MM(i, k), &m.x[k], 0, m.a, m.b);
                cmp_div(&m.x[i], &m.x[i], &MM(i, i), 0, &m);
            }
            mpfr_set_ui(lam, 0, MPFR_RNDN);
            for (size_t i = 0; i < n; i++) {
                mpfr_fma(lam, m.x[i].re, m.x[i].re, lam, MPFR_RNDN);
                mpfr_fma(lam, m.x[i].im, m.x[i].im, lam, MPFR_RNDN);
            }
            mpfr_sqrt(lam, lam, MPFR_RNDN); /* ||(M^* M)^{-1} v||, v of unit norm */
            for (size_t i = 0; i < n; i++) {
                mpfr_div(m.v[i].re, m.x[i].re, lam, MPFR_RNDN);
                mpfr_div(m.v[i].im, m.x[i].im, lam, MPFR_RNDN);
            }
            mpfr_sub(diff, lam, old, MPFR_RNDN);
            mpfr_abs(diff, diff, MPFR_RNDN);
            mpfr_mul_2si(m.a, lam, -110, MPFR_RNDN);
            mpfr_set(old, lam, MPFR_RNDN);
            if (it > 2 && mpfr_cmp(diff, m.a) <= 0) break;
        }
        mpfr_rec_sqrt(lam, lam, MPFR_RNDN);
        out = mpfr_get_d(lam, MPFR_RNDN);
        mpfr_clears(lam, old, diff, (mpfr_ptr)0);
    }
#undef MM
    for (size_t k = 0; k < n * n; k++) cmp_clear(&m.M[k]);
    for (size_t i = 0; i < n; i++) {
        cmp_clear(&m.v[i]);
        cmp_clear(&m.x[i]);
    }
    cmp_clear(&m.t);
    cmp_clear(&m.u);
    mpfr_clears(m.a, m.b, (mpfr_ptr)0);
    free(m.M);
    free(m.v);
    free(m.x);
    free(m.perm);
    return out;
}

/* One value against the extended-precision one: the reported err covers the true error,
 * and err is within a small multiple of the rounding bound floor + n u (||A|| + |z|) (the
 * Lanczos iteration adds nothing that shows) unless the value is below it.  Returns the
 * relative error. */
static double check_digits(const ptd_matrix *A, const ptd_pspec_plan *p, const char *name, double complex z,
                           double sigma, double err)
{
    double ref = mp_sigma_min(A, z, 200), n = (double)A->rows;
    double rounding = ptd_pspec_plan_floor(p) + n * U_ROUND * (ptd_pspec_plan_norm2(p) + cabs(z));
    ck_assert_msg(fabs(sigma - ref) <= err, "%s n=%zu z=%g%+gi: lanczos %.17g ref %.17g err %.3g", name, A->rows,
                  creal(z), cimag(z), sigma, ref, err);
    ck_assert_msg(sigma < err || err <= 4 * rounding, "%s n=%zu z=%g%+gi: err %.3g, rounding %.3g: not converged", name,
                  A->rows, creal(z), cimag(z), err, rounding);
    return ref > 0 ? fabs(sigma - ref) / ref : 0;
}

/* The digits: at ordinary points inverse Lanczos converges to the accuracy of the method, not
 * to a fixed relative change.  Against the extended-precision value: the reported err covers
 * the true error, and err is within a small multiple of the rounding bound
 * floor + n u (||A|| + |z|) (the Lanczos iteration adds nothing that shows), so every digit
 * err allows is right.  Grcar and a random matrix (computed Schur forms), LegS (exact). */
START_TEST(test_digits_against_extended)
{
    struct {
        const char *name;
        size_t n;
    } cases[] = {{"grcar", 64}, {"ginibre", 40}, {"hippo-legs", 32}, {"frank", 16}};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 23);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ptd_system *s = zoo_system(cases[c].name, cases[c].n, 2);
        ptd_pspec_plan *p = plan_of(s->A);
        ptd_pspec_work *w = ptd_pspec_work_alloc(p);
        double nrm = ptd_pspec_plan_norm2(p), worst = 0;
        double complex z[6];
        random_points(r, p, 0.1 * nrm + 0.5, z, 6);
        for (size_t k = 0; k < 6; k++) {
            ptd_pspec_point a = at(p, w, z[k], PTD_PSPEC_LANCZOS);
            worst = fmax(worst, check_digits(s->A, p, cases[c].name, z[k], a.sigma, a.err));
        }
        fprintf(stderr, "digits: %s n=%zu: worst relative error %.3g\n", cases[c].name, cases[c].n, worst);
        ptd_pspec_work_free(w);
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
    gsl_rng_free(r);
}
END_TEST

/* An exact (triangular) Schur form keeps sigma_min accurate far below u ||A||: LegS n = 64 at
 * z = -32.5 has sigma_min about 2e-44 (dense SVD: about 1e-15, its rounding floor). */
START_TEST(test_triangular_extended_precision)
{
    struct {
        const char *name;
        size_t n;
        double z[4];
    } cases[] = {{"hippo-legs", 64, {-32.5, -70, -5.5, -64.5}},
                 {"hippo-legs", 40, {-20.25, -1.5, 0.5, -41}},
                 {"kahan", 40, {0.3, 0.05, 0.9, -0.1}},
                 {"demmel", 20, {-1.5, -0.5, -1.01, 0}},
                 {"randtri", 40, {0.1, -0.2, 0.45, 0}},
                 {"hippo-lagt", 30, {-0.25, 0, -1, 0.5}}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n = cases[c].n;
        ptd_system *s = zoo_system(cases[c].name, n, 3);
        int lower = ptd_matrix_is_lower(s->A);
        ptd_pspec_plan *p = plan_of(s->A);
        ck_assert(ptd_pspec_plan_exact(p));
        ck_assert_double_eq(ptd_pspec_plan_floor(p), 0);
        ptd_pspec_work *w = ptd_pspec_work_alloc(p);
        double *M = malloc(n * n * sizeof *M);
        for (size_t k = 0; k < 4; k++) {
            double z = cases[c].z[k];
            for (size_t i = 0; i < n * n; i++) M[i] = creal(s->A->data[i]) - ((i % (n + 1)) == 0 ? z : 0.0);
            double ref = mpfr_sigma_min(M, n, lower, 512);
            ptd_pspec_point r = at(p, w, z, PTD_PSPEC_LANCZOS);
            /* the reported error covers the true error */
            ck_assert_msg(fabs(r.sigma - ref) <= r.err, "%s n=%zu z=%g: lanczos %.17g mpfr %.17g err %g",
                          cases[c].name, n, z, r.sigma, ref, r.err);
            assert_close(r.sigma, ref, 0, 1e-6);
        }
        free(M);
        ptd_pspec_work_free(w);
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
    /* the headline case */
    ptd_system *s = zoo_system("hippo-legs", 64, 0);
    ptd_pspec_plan *p = plan_of(s->A);
    ptd_pspec_work *w = ptd_pspec_work_alloc(p);
    ptd_pspec_point a = at(p, w, -32.5, PTD_PSPEC_LANCZOS), b = at(p, w, -32.5, PTD_PSPEC_SVD);
    ck_assert(a.sigma > 1e-45 && a.sigma < 1e-43);
    ck_assert_msg(b.sigma < b.err, "the SVD value %g should be flagged below its floor %g", b.sigma, b.err);
    ck_assert(b.sigma > 1e-18);
    ptd_pspec_work_free(w);
    ptd_pspec_plan_free(p);
    ptd_system_free(s);
}
END_TEST

/* An exactly singular zI - T (z an eigenvalue of a triangular matrix) gives sigma = 0. */
START_TEST(test_exact_eigenvalue)
{
    ptd_system *s = zoo_system("hippo-legs", 10, 0);
    ptd_pspec_plan *p = plan_of(s->A);
    ptd_pspec_work *w = ptd_pspec_work_alloc(p);
    ptd_pspec_point r = at(p, w, -3.0, PTD_PSPEC_LANCZOS);
    ck_assert_double_eq(r.sigma, 0);
    ck_assert_uint_eq(r.iterations, 0);
    ptd_pspec_opts o = {0};
    ck_assert_int_eq(ptd_pspec_sigma_min(p, w, CMPLX(NAN, 0), &o, &r), PTD_EINVAL);
    o.tol = -1e-3;
    ck_assert_int_eq(ptd_pspec_sigma_min(p, w, 1.0, &o, &r), PTD_EINVAL);
    o.tol = NAN;
    ck_assert_int_eq(ptd_pspec_sigma_min(p, w, 1.0, &o, &r), PTD_EINVAL);
    o.tol = 0;
    o.method = (ptd_pspec_method)7;
    ck_assert_int_eq(ptd_pspec_sigma_min(p, w, 1.0, &o, &r), PTD_EINVAL);
    /* a success leaves no stale message behind */
    ck_assert_int_eq(ptd_pspec_sigma_min(p, w, 1.0, NULL, &r), PTD_OK);
    ck_assert_str_eq(ptd_last_error(), "");
    ptd_pspec_work_free(w);
    ptd_pspec_plan_free(p);
    ptd_system_free(s);
}
END_TEST

/* ---- grids ---------------------------------------------------------------------------- */

START_TEST(test_grid_threads_identical)
{
    ptd_system *s = zoo_system("grcar", 60, 0);
    ptd_pspec_plan *p = plan_of(s->A);
    ptd_box b = {-1, 3, -3.5, 3.5};
    ptd_pspec_opts o1 = {.threads = 1}, o2 = {.threads = 2}, o3 = {.threads = 3};
    ptd_pspec_grid *g1, *g2, *g3;
    ck_assert_int_eq(ptd_pspec_grid_compute(p, &b, 31, 23, &o1, &g1), PTD_OK);
    ck_assert_int_eq(ptd_pspec_grid_compute(p, &b, 31, 23, &o2, &g2), PTD_OK);
    ck_assert_int_eq(ptd_pspec_grid_compute(p, &b, 31, 23, &o3, &g3), PTD_OK);
    ck_assert_int_eq(g1->threads, 1);
    ck_assert_int_eq(g2->threads, 2);
    ck_assert(memcmp(g1->sigma, g2->sigma, 31 * 23 * sizeof(double)) == 0);
    ck_assert(memcmp(g1->sigma, g3->sigma, 31 * 23 * sizeof(double)) == 0);
    /* the grid includes the box edges, and each value is the single-point value */
    ck_assert_double_eq(ptd_pspec_grid_x(g1, 0), -1);
    ck_assert_double_eq(ptd_pspec_grid_x(g1, 30), 3);
    ck_assert_double_eq(ptd_pspec_grid_y(g1, 22), 3.5);
    /* the one-shift grid's values are the single-point values; the multi-shift grid's agree
     * with them within the two errors */
    ptd_pspec_opts os = {.threads = 2, .method = PTD_PSPEC_LANCZOS_SINGLE};
    ptd_pspec_grid *gs;
    ck_assert_int_eq(ptd_pspec_grid_compute(p, &b, 31, 23, &os, &gs), PTD_OK);
    ptd_pspec_work *w = ptd_pspec_work_alloc(p);
    ptd_pspec_point r = at(p, w, CMPLX(ptd_pspec_grid_x(g1, 7), ptd_pspec_grid_y(g1, 5)), PTD_PSPEC_LANCZOS);
    ck_assert_double_eq(r.sigma, gs->sigma[7 + 5 * 31]);
    ck_assert(fabs(r.sigma - g1->sigma[7 + 5 * 31]) <= r.err + g1->err[7 + 5 * 31]);
    ptd_pspec_work_free(w);
    ptd_pspec_grid_free(gs);
    /* bad grids and boxes are refused */
    ptd_pspec_grid *bad = NULL;
    ck_assert_int_eq(ptd_pspec_grid_compute(p, &b, 1, 10, &o1, &bad), PTD_EINVAL);
    ptd_box flipped = {1, -1, 0, 1};
    ck_assert_int_eq(ptd_pspec_grid_compute(p, &flipped, 10, 10, &o1, &bad), PTD_EINVAL);
    ptd_box nanbox = {NAN, 1, 0, 1};
    ck_assert_int_eq(ptd_pspec_grid_compute(p, &nanbox, 10, 10, &o1, &bad), PTD_EINVAL);
    ck_assert_ptr_null(bad);
    ptd_pspec_grid_free(g1);
    ptd_pspec_grid_free(g2);
    ptd_pspec_grid_free(g3);
    ptd_pspec_plan_free(p);
    ptd_system_free(s);
}
END_TEST

/* ---- multi-shift grids ------------------------------------------------------------------ */

static ptd_pspec_grid *grid_of(const ptd_pspec_plan *p, const ptd_box *b, size_t nx, size_t ny, ptd_pspec_method m,
                               int threads, unsigned block)
{
    ptd_pspec_opts o = {.method = m, .threads = threads, .block = block};
    ptd_pspec_grid *g = NULL;
    ck_assert_msg(ptd_pspec_grid_compute(p, b, nx, ny, &o, &g) == PTD_OK, "%s", ptd_last_error());
    return g;
}

/* A box around the spectrum, widened by half its extent (and at least 1): points inside and
 * outside the pseudospectra, where inverse Lanczos takes the most steps. */
static ptd_box spectrum_box(const ptd_pspec_plan *p)
{
    const double complex *ev = ptd_pspec_plan_eigenvalues(p);
    ptd_box b = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    for (size_t i = 0; i < ptd_pspec_plan_order(p); i++) {
        b.xmin = fmin(b.xmin, creal(ev[i]));
        b.xmax = fmax(b.xmax, creal(ev[i]));
        b.ymin = fmin(b.ymin, cimag(ev[i]));
        b.ymax = fmax(b.ymax, cimag(ev[i]));
    }
    double pad = fmax(0.5 * fmax(b.xmax - b.xmin, b.ymax - b.ymin), 1.0);
    b.xmin -= pad;
    b.xmax += pad * 1.037; /* off the eigenvalues' symmetry: no two points alike */
    b.ymin -= pad * 0.981;
    b.ymax += pad;
    return b;
}

/* The multi-shift path (blocks of shifts, warm starts along each row) against the one-shift
 * reference: every value within the sum of the two errors (each bounds its own value's
 * error), on HiPPO, Grcar and random matrices, computed and exact Schur forms, orders that
 * are and are not multiples of the solver's blocks.  Grids of 1200 points: chains of 3, so
 * that most points start from their neighbour's vector. */
START_TEST(test_multishift_vs_single)
{
    struct {
        const char *name;
        size_t n;
    } cases[] = {{"hippo-legs", 48}, {"hippo-legt", 33}, {"hippo-fout", 20}, {"grcar", 70},
                 {"ginibre", 45},    {"randtri", 37},    {"kahan", 30},      {"hippo-lagt", 9}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ptd_system *s = zoo_system(cases[c].name, cases[c].n, 3);
        ptd_pspec_plan *p = plan_of(s->A);
        ptd_box b = spectrum_box(p);
        size_t nx = 40, ny = 30;
        ptd_pspec_grid *gm = grid_of(p, &b, nx, ny, PTD_PSPEC_LANCZOS, 2, 0);
        ptd_pspec_grid *gs = grid_of(p, &b, nx, ny, PTD_PSPEC_LANCZOS_SINGLE, 2, 0);
        double worst = 0, nrm = ptd_pspec_plan_norm2(p);
        size_t deep = 0;
        for (size_t k = 0; k < nx * ny; k++) {
            double d = fabs(gm->sigma[k] - gs->sigma[k]), e = gm->err[k] + gs->err[k];
            ck_assert_msg(isfinite(gm->sigma[k]) && gm->sigma[k] >= 0 && gm->err[k] >= 0, "%s: bad value", cases[c].name);
            ck_assert_msg(d <= e, "%s n=%zu point %zu: multi-shift %.17g (err %.3g), one-shift %.17g (err %.3g)",
                          cases[c].name, cases[c].n, k, gm->sigma[k], gm->err[k], gs->sigma[k], gs->err[k]);
            if (e > 0) worst = fmax(worst, d / e);
            /* below the normwise bound on an exact plan both errors are the solves' forward error
             * bounds (ztrrfs's for the one-shift path, the same estimate in the block for the
             * other): estimates of one quantity, a factor 2 apart at most */
            double zabs = hypot(ptd_pspec_grid_x(gm, k % nx), ptd_pspec_grid_y(gm, k / nx));
            if (ptd_pspec_plan_exact(p) && gs->sigma[k] > 0 && gs->sigma[k] < 0.5 * (double)cases[c].n * U_ROUND * (nrm + zabs)) {
                deep++;
                ck_assert_msg(gm->err[k] <= 2 * gs->err[k] && gs->err[k] <= 2 * gm->err[k],
                              "%s n=%zu point %zu: err %.3g (multi-shift), %.3g (one-shift)", cases[c].name,
                              cases[c].n, k, gm->err[k], gs->err[k]);
            }
        }
        if (strcmp(cases[c].name, "hippo-legs") == 0) ck_assert_uint_gt(deep, 100);
        ck_assert_uint_eq(gm->unconverged, 0);
        fprintf(stderr, "multi-shift: %s n=%zu: %.2f steps per point (one-shift %.2f), worst |difference| / (err sum) %.3g\n",
                cases[c].name, cases[c].n, (double)gm->iterations / (double)(nx * ny),
                (double)gs->iterations / (double)(nx * ny), worst);
        ptd_pspec_grid_free(gm);
        ptd_pspec_grid_free(gs);
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
}
END_TEST

/* Bit for bit the same grid whatever the block of shifts per thread and the thread count
 * (a shift's arithmetic depends on nothing that shares its block); exact eigenvalues on the
 * grid give sigma = 0 in both paths. */
START_TEST(test_multishift_identical)
{
    struct {
        const char *name;
        size_t n;
        ptd_box b;
        size_t nx, ny;
    } cases[] = {{"grcar", 67, {-1, 3, -3.5, 3.5}, 41, 31},
                 {"hippo-legs", 40, {-45, 5, -30, 30}, 51, 31}, /* x = -45 + k: the eigenvalues -1..-40 */
                 {"ginibre", 70, {-1.3, 1.3, -1.3, 1.3}, 23, 21},
                 {"randtri", 5, {-1, 1, -1, 1}, 30, 30}};
    const unsigned blocks[] = {12, 36, 120};
    const int threads[] = {1, 3};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ptd_system *s = zoo_system(cases[c].name, cases[c].n, 5);
        ptd_pspec_plan *p = plan_of(s->A);
        size_t nx = cases[c].nx, ny = cases[c].ny;
        ptd_pspec_grid *ref = grid_of(p, &cases[c].b, nx, ny, PTD_PSPEC_LANCZOS, 1, 12);
        for (size_t bi = 0; bi < 3; bi++)
            for (size_t ti = 0; ti < 2; ti++) {
                if (bi == 0 && ti == 0) continue;
                ptd_pspec_grid *g = grid_of(p, &cases[c].b, nx, ny, PTD_PSPEC_LANCZOS, threads[ti], blocks[bi]);
                ck_assert_msg(memcmp(g->sigma, ref->sigma, nx * ny * sizeof(double)) == 0 &&
                                  memcmp(g->err, ref->err, nx * ny * sizeof(double)) == 0 &&
                                  g->iterations == ref->iterations,
                              "%s n=%zu: block %u, %d threads differ from block 12, 1 thread", cases[c].name,
                              cases[c].n, blocks[bi], threads[ti]);
                ptd_pspec_grid_free(g);
            }
        /* the default block too */
        ptd_pspec_grid *g = grid_of(p, &cases[c].b, nx, ny, PTD_PSPEC_LANCZOS, 2, 0);
        ck_assert(memcmp(g->sigma, ref->sigma, nx * ny * sizeof(double)) == 0);
        ptd_pspec_grid_free(g);
        if (ptd_pspec_plan_exact(p) && strcmp(cases[c].name, "hippo-legs") == 0) {
            ptd_pspec_grid *gs = grid_of(p, &cases[c].b, nx, ny, PTD_PSPEC_LANCZOS_SINGLE, 2, 0);
            size_t zeros = 0;
            for (size_t i = 0; i < nx; i++) {
                size_t k = i + 15 * nx; /* y = 0 */
                double x = ptd_pspec_grid_x(ref, i);
                if (x <= -1 && x >= -40 && x == floor(x)) {
                    ck_assert_double_eq(ref->sigma[k], 0);
                    ck_assert_double_eq(gs->sigma[k], 0);
                    zeros++;
                }
            }
            ck_assert_uint_eq(zeros, 40);
            ptd_pspec_grid_free(gs);
        }
        ptd_pspec_grid_free(ref);
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
}
END_TEST

/* A grid computed by rows, in pieces of every size, in reverse order, on another thread
 * count and from an exported and imported copy of the plan, is bit for bit the whole grid:
 * the unit pspec-mpi hands out (a row) depends on no other row.  Grids of 2400 and more
 * points: chains of 6 and more, so that a piece that cut its rows into chains of its own
 * (from its own point count) would differ. */
START_TEST(test_grid_rows_identical)
{
    struct {
        const char *name;
        size_t n;
        ptd_box b;
        size_t nx, ny;
        ptd_pspec_method m;
    } cases[] = {{"grcar", 40, {-1, 3, -3.5, 3.5}, 60, 41, PTD_PSPEC_LANCZOS},
                 {"hippo-legs", 24, {-30, 5, -20, 20}, 61, 40, PTD_PSPEC_LANCZOS}, /* exact: ztrrfs bounds */
                 {"ginibre", 30, {-1.3, 1.3, -1.3, 1.3}, 50, 48, PTD_PSPEC_LANCZOS},
                 {"grcar", 20, {-1, 3, -3.5, 3.5}, 12, 9, PTD_PSPEC_SVD}};
    const size_t pieces[] = {1, 2, 3, 7};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ptd_system *s = zoo_system(cases[c].name, cases[c].n, 5);
        ptd_pspec_plan *p = plan_of(s->A);
        size_t nx = cases[c].nx, ny = cases[c].ny;
        ptd_pspec_grid *ref = grid_of(p, &cases[c].b, nx, ny, cases[c].m, 2, 0);
        void *buf = NULL;
        size_t len = 0;
        ck_assert_int_eq(ptd_pspec_plan_export(p, &buf, &len), PTD_OK);
        ptd_pspec_plan *q = NULL;
        ck_assert_msg(ptd_pspec_plan_import(buf, len, &q) == PTD_OK, "%s", ptd_last_error());
        ck_assert_uint_eq(ptd_pspec_plan_order(q), cases[c].n);
        ck_assert_int_eq(ptd_pspec_plan_exact(q), ptd_pspec_plan_exact(p));
        ck_assert(ptd_pspec_plan_norm2(q) == ptd_pspec_plan_norm2(p) && ptd_pspec_plan_floor(q) == ptd_pspec_plan_floor(p));
        ck_assert(memcmp(ptd_pspec_plan_eigenvalues(q), ptd_pspec_plan_eigenvalues(p), cases[c].n * sizeof(double complex)) == 0);
        double *sig = malloc(nx * ny * sizeof *sig), *err = malloc(nx * ny * sizeof *err);
        for (size_t pi = 0; pi < sizeof pieces / sizeof pieces[0]; pi++) {
            size_t rows = pieces[pi];
            ptd_pspec_grid_stats gs = {0, 0, 0};
            memset(sig, 0xff, nx * ny * sizeof *sig);
            memset(err, 0xff, nx * ny * sizeof *err);
            for (size_t e = ny; e > 0;) { /* the last rows first */
                size_t j0 = e > rows ? e - rows : 0;
                ptd_pspec_opts o = {.method = cases[c].m, .threads = 1 + (int)(e % 3), .block = (unsigned)(12 * (1 + e % 4))};
                ck_assert_msg(ptd_pspec_grid_rows(pi % 2 ? q : p, &cases[c].b, nx, ny, j0, e, &o, sig + j0 * nx,
                                                  err + j0 * nx, &gs) == PTD_OK, "%s", ptd_last_error());
                e = j0;
            }
            ck_assert_msg(memcmp(sig, ref->sigma, nx * ny * sizeof *sig) == 0 && memcmp(err, ref->err, nx * ny * sizeof *err) == 0,
                          "%s n=%zu: rows in pieces of %zu differ from the whole grid", cases[c].name, cases[c].n, rows);
            ck_assert_uint_eq(gs.iterations, ref->iterations);
            ck_assert_uint_eq(gs.max_iterations, ref->max_iterations);
            ck_assert_uint_eq(gs.unconverged, ref->unconverged);
        }
        /* bad ranges */
        ck_assert_int_eq(ptd_pspec_grid_rows(p, &cases[c].b, nx, ny, 3, 3, NULL, sig, err, NULL), PTD_EINVAL);
        ck_assert_int_eq(ptd_pspec_grid_rows(p, &cases[c].b, nx, ny, 0, ny + 1, NULL, sig, err, NULL), PTD_EINVAL);
        free(sig);
        free(err);
        /* damaged bytes are refused, never read past their end */
        ptd_pspec_plan *bad = NULL;
        ck_assert_int_eq(ptd_pspec_plan_import(buf, len - 1, &bad), PTD_EFORMAT);
        ck_assert_int_eq(ptd_pspec_plan_import(buf, 10, &bad), PTD_EFORMAT);
        unsigned char *b = buf;
        b[0] ^= 1;
        ck_assert_int_eq(ptd_pspec_plan_import(buf, len, &bad), PTD_EFORMAT);
        b[0] ^= 1;
        size_t nn = cases[c].n;
        double complex *T = (double complex *)(void *)(b + 64 + nn * nn * sizeof(double complex));
        T[1] = 1e-300; /* below the diagonal */
        ck_assert_int_eq(ptd_pspec_plan_import(buf, len, &bad), PTD_EFORMAT);
        T[1] = 0;
        T[nn] = NAN;
        ck_assert_int_eq(ptd_pspec_plan_import(buf, len, &bad), PTD_EFORMAT);
        ck_assert_ptr_null(bad);
        free(buf);
        ptd_pspec_plan_free(q);
        ptd_pspec_grid_free(ref);
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
}
END_TEST

/* The relative gap between the two smallest singular values of zI - A (LAPACK's SVD): where
 * it is small, mp_sigma_min's inverse iteration (at most 3000 steps, each reducing the error
 * by the squared ratio) is slow, and below about 5% it does not reach its own precision. */
static double sv_gap(const ptd_matrix *A, double complex z)
{
    size_t n = A->rows;
    if (n < 2) return INFINITY;
    double complex *M = malloc(n * n * sizeof *M);
    double *sv = malloc(n * sizeof *sv), *sup = malloc(n * sizeof *sup);
    for (size_t k = 0; k < n * n; k++) M[k] = -A->data[k];
    for (size_t i = 0; i < n; i++) M[i + i * n] += z;
    ck_assert_int_eq(LAPACKE_zgesvd(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)n, (lapack_int)n, M, (lapack_int)n, sv,
                                    NULL, 1, NULL, 1, sup), 0);
    double gap = (sv[n - 2] - sv[n - 1]) / sv[n - 1];
    free(M);
    free(sv);
    free(sup);
    return gap;
}

/* The digits of the multi-shift grid, as test_digits_against_extended's for one point: on a
 * 60 x 50 grid (warm starts along every row), points spread over it against the MPFR value
 * (where that is one): the reported err covers the true error and is within a small multiple
 * of the rounding bound. */
START_TEST(test_multishift_digits)
{
    struct {
        const char *name;
        size_t n;
    } cases[] = {{"grcar", 48}, {"ginibre", 32}, {"hippo-legs", 32}, {"frank", 16}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ptd_system *s = zoo_system(cases[c].name, cases[c].n, 2);
        ptd_pspec_plan *p = plan_of(s->A);
        ptd_box b = spectrum_box(p);
        size_t nx = 60, ny = 50;
        ptd_pspec_grid *g = grid_of(p, &b, nx, ny, PTD_PSPEC_LANCZOS, 2, 0);
        double worst = 0;
        size_t checked = 0;
        /* the points of the 7th, 23rd and 41st rows at every 13th column (chain interiors) */
        const size_t rows[3] = {7, 23, 41};
        for (size_t r = 0; r < 3; r++)
            for (size_t i = 3; i < nx; i += 13) {
                size_t k = i + rows[r] * nx;
                double complex z = CMPLX(ptd_pspec_grid_x(g, i), ptd_pspec_grid_y(g, rows[r]));
                if (!(sv_gap(s->A, z) >= 0.2)) continue;
                checked++;
                worst = fmax(worst, check_digits(s->A, p, cases[c].name, z, g->sigma[k], g->err[k]));
            }
        ck_assert_msg(checked >= 6, "%s: only %zu points to check", cases[c].name, checked);
        fprintf(stderr, "multi-shift digits: %s n=%zu: worst relative error %.3g over %zu points\n", cases[c].name,
                cases[c].n, worst, checked);
        ptd_pspec_grid_free(g);
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
}
END_TEST

/* ||A||_2 of a triangular plan by Lanczos on A^* A against the dense SVD, to a few u: HiPPO,
 * the classics, a random triangular matrix, a repeated largest singular value, a Toeplitz
 * matrix whose largest ones cluster (Lanczos gives up on them and the SVD answers), a zero
 * and a 1 x 1 matrix, entries near the top of the double range. */
START_TEST(test_norm2_triangular)
{
    struct {
        const char *name;
        size_t n;
    } cases[] = {{"hippo-legs", 100}, {"hippo-lagt", 80}, {"kahan", 60},  {"demmel", 40},
                 {"randtri", 120},    {"jordan", 50},     {"hippo-legs", 1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ptd_system *s = zoo_system(cases[c].name, cases[c].n, 7);
        ptd_pspec_plan *p = plan_of(s->A);
        ck_assert(ptd_pspec_plan_exact(p));
        double want;
        ck_assert_int_eq(ptd_matrix_norm2(s->A, &want), PTD_OK);
        assert_close(ptd_pspec_plan_norm2(p), want, 0, 8 * (double)cases[c].n * U_ROUND);
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
    /* made here: diag(2, 2, 1, ...) plus a strictly upper part that keeps 2 twice; a banded
     * upper triangular Toeplitz matrix (1 on the diagonal and three above, as Grcar's);
     * zero; huge entries */
    size_t n = 90;
    for (int kind = 0; kind < 4; kind++) {
        ptd_matrix *A = ptd_matrix_alloc(n, n);
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i <= j; i++) {
                double complex v = 0;
                if (kind == 0) v = i == j ? (i < 2 ? 2.0 : 1.0) : (i >= 2 ? 0.3 / (double)(j - i + 1) : 0);
                if (kind == 1) v = j - i <= 3 ? 1.0 : 0.0;
                if (kind == 3) v = 0x1p+500 * CMPLX(1.0 / (double)(i + j + 1), i == j ? 1.0 : 0.0);
                PTD_AT(A, i, j) = v;
            }
        ptd_pspec_plan *p = plan_of(A);
        double want;
        ck_assert_int_eq(ptd_matrix_norm2(A, &want), PTD_OK);
        if (kind == 2) ck_assert_double_eq(ptd_pspec_plan_norm2(p), 0);
        else assert_close(ptd_pspec_plan_norm2(p), want, 0, 8 * (double)n * U_ROUND);
        ptd_pspec_plan_free(p);
        ptd_matrix_free(A);
    }
}
END_TEST

/* The automatic box holds the whole largest-eps pseudospectrum: no border point of the
 * grid on it has sigma_min <= eps, and some interior point does. */
START_TEST(test_auto_box)
{
    struct {
        const char *name;
        size_t n;
        double eps[3];
    } cases[] = {{"hippo-legs", 32, {1e-4, 1e-2, 1e-6}}, {"grcar", 64, {1e-1, 1e-3, 1e-5}},
                 {"kahan", 20, {1e-3, 1e-5, 1e-7}},      {"ginibre", 40, {1e-1, 1e-2, 1e-3}},
                 {"jordan", 16, {1e-2, 1e-4, 1e-8}},     {"hippo-legs-normal", 6, {1, 1e-1, 1e-2}}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ptd_system *s = zoo_system(cases[c].name, cases[c].n, 1);
        ptd_pspec_plan *p = plan_of(s->A);
        ptd_pspec_opts o = {0};
        ptd_box b;
        size_t nx = 60, ny = 50;
        ck_assert_msg(ptd_pspec_auto_box(p, cases[c].eps, 3, nx, ny, &o, &b) == PTD_OK, "%s", ptd_last_error());
        ptd_pspec_grid *g;
        ck_assert_int_eq(ptd_pspec_grid_compute(p, &b, nx, ny, &o, &g), PTD_OK);
        double emax = cases[c].eps[1] > cases[c].eps[0] ? cases[c].eps[1] : cases[c].eps[0];
        size_t inside = 0;
        for (size_t j = 0; j < ny; j++)
            for (size_t i = 0; i < nx; i++) {
                double v = g->sigma[i + j * nx];
                if (i == 0 || j == 0 || i == nx - 1 || j == ny - 1)
                    ck_assert_msg(v > emax, "%s: sigma %g <= eps %g on the border at (%zu, %zu)",
                                  cases[c].name, v, emax, i, j);
                else
                    inside += v <= emax;
            }
        ck_assert_msg(inside > 0, "%s: nothing inside the box", cases[c].name);
        /* every eigenvalue lies inside the box */
        const double complex *ev = ptd_pspec_plan_eigenvalues(p);
        for (size_t i = 0; i < cases[c].n; i++)
            ck_assert(creal(ev[i]) > b.xmin && creal(ev[i]) < b.xmax && cimag(ev[i]) > b.ymin && cimag(ev[i]) < b.ymax);
        double a, r;
        ck_assert(ptd_pspec_grid_estimates(g, emax, &a, &r));
        ck_assert(a < b.xmax && r > 0);
        ptd_pspec_grid_free(g);
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
}
END_TEST

START_TEST(test_plan_errors)
{
    ptd_pspec_plan *p = (ptd_pspec_plan *)1;
    ptd_matrix *A = ptd_matrix_alloc(3, 4);
    ck_assert_int_eq(ptd_pspec_plan_create(A, &p), PTD_EINVAL);
    ck_assert_ptr_null(p);
    ptd_matrix_free(A);
    A = ptd_matrix_alloc(3, 3);
    A->data[4] = NAN;
    ck_assert_int_eq(ptd_pspec_plan_create(A, &p), PTD_EINVAL);
    ck_assert(strstr(ptd_last_error(), "NaN") != NULL);
    ptd_matrix_free(A);
}
END_TEST


/* --- the pseudomode (ptd_pspec_mode) ------------------------------------------------------- */

/* HiPPO-LegS (lower triangular: an exact plan) at a point where sigma_min is 1e-21, far below
 * the rounding floor: every component of v, down to the smallest (1e-23), against inverse
 * iteration run independently in long double (64-bit significand) on A itself, from a
 * different start; sigma likewise. */
START_TEST(test_mode_exact_below_floor)
{
    size_t n = 32;
    ptd_system *s = NULL;
    ck_assert_int_eq(ptd_zoo_make("hippo-legs", n, 1, &s), PTD_OK);
    ptd_pspec_plan *p = NULL;
    ck_assert_int_eq(ptd_pspec_plan_create(s->A, &p), PTD_OK);
    double complex z = CMPLX(-16.5, 0.5), *v = malloc(n * sizeof *v), *u = malloc(n * sizeof *u);
    ptd_pspec_mode_info mi;
    ck_assert_msg(ptd_pspec_mode(p, z, v, u, &mi) == PTD_OK, "%s", ptd_last_error());
    ck_assert(mi.exact);
    ck_assert(mi.sigma < 1e-18 && mi.sigma < ptd_pspec_plan_norm2(p) * (double)n * U_ROUND);
    /* the oracle: M = zI - A, lower triangular; x <- M^{-1} M^{-*} x, normalised */
    long double complex *M = malloc(n * n * sizeof *M), *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    for (size_t k = 0; k < n * n; k++) M[k] = -(long double complex)s->A->data[k];
    for (size_t i = 0; i < n; i++) M[i + i * n] += z;
    for (size_t i = 0; i < n; i++) x[i] = 1.0L / (long double)(i + 1);
    long double sig = 0;
    for (int it = 0; it < 8; it++) {
        /* y = M^{-*} x: M^* is upper triangular, back substitution */
        for (size_t ii = n; ii-- > 0;) {
            long double complex t = x[ii];
            for (size_t j = ii + 1; j < n; j++) t -= conjl(M[j + ii * n]) * y[j];
            y[ii] = t / conjl(M[ii + ii * n]);
        }
        long double ny = 0;
        for (size_t i = 0; i < n; i++) ny += cabsl(y[i]) * cabsl(y[i]);
        ny = sqrtl(ny);
        for (size_t i = 0; i < n; i++) y[i] /= ny;
        /* x = M^{-1} y: forward substitution */
        for (size_t i = 0; i < n; i++) {
            long double complex t = y[i];
            for (size_t j = 0; j < i; j++) t -= M[i + j * n] * x[j];
            x[i] = t / M[i + i * n];
        }
        long double nx = 0;
        for (size_t i = 0; i < n; i++) nx += cabsl(x[i]) * cabsl(x[i]);
        nx = sqrtl(nx);
        for (size_t i = 0; i < n; i++) x[i] /= nx;
        sig = 1.0L / nx;
    }
    /* align the phase on the largest component, then compare each component relatively */
    size_t big = 0;
    for (size_t i = 1; i < n; i++)
        if (cabsl(x[i]) > cabsl(x[big])) big = i;
    long double complex ph = (long double complex)v[big] / x[big];
    ph /= cabsl(ph);
    double tol = 64 * (double)n * U_ROUND, smallest = INFINITY;
    for (size_t i = 0; i < n; i++) {
        long double complex want = ph * x[i];
        double rel = (double)(cabsl((long double complex)v[i] - want) / cabsl(want));
        ck_assert_msg(rel <= tol, "v[%zu] = %.17g%+.17gi, long double %.17Lg%+.17Lgi: relative error %.3g > %.3g", i,
                      creal(v[i]), cimag(v[i]), creall(want), cimagl(want), rel, tol);
        smallest = fmin(smallest, cabs(v[i]));
    }
    ck_assert_msg(smallest < 1e-20, "the smallest component %.3g: the test is meant to reach far below the floor", smallest);
    assert_close(mi.sigma, (double)sig, 0, 8 * (double)n * U_ROUND);
    /* (No residual is checked against sigma: ||(zI - A) v|| for a vector stored in any fixed
     * precision p is at least about u_p || |zI - A| |v| ||, the rounding of its components,
     * 5e-15 in double and 3e-18 in long double here, against sigma = 2e-21.  The components
     * themselves are what is accurate, as checked above.) */
    free(M);
    free(x);
    free(y);
    free(v);
    free(u);
    ptd_pspec_plan_free(p);
    ptd_system_free(s);
}
END_TEST

/* A computed plan (Grcar): the SVD's pair satisfies both singular-vector equations to
 * rounding, and sigma is the Lanczos value within the two errors.  The same LegS point by
 * the exact plan and by the SVD of a permuted copy (no longer triangular, so a computed plan:
 * two independent methods): the vectors agree in angle to n u ||A|| / gap. */
START_TEST(test_mode_svd)
{
    size_t n = 40;
    ptd_system *s = NULL;
    ck_assert_int_eq(ptd_zoo_make("grcar", n, 1, &s), PTD_OK);
    ptd_pspec_plan *p = NULL;
    ck_assert_int_eq(ptd_pspec_plan_create(s->A, &p), PTD_OK);
    double complex z = CMPLX(0.5, 1.0), *v = malloc(n * sizeof *v), *u = malloc(n * sizeof *u), *r = malloc(n * sizeof *r);
    ptd_pspec_mode_info mi;
    ck_assert_int_eq(ptd_pspec_mode(p, z, v, u, &mi), PTD_OK);
    ck_assert(!mi.exact);
    double na = ptd_pspec_plan_norm2(p), tol = 16 * (double)n * U_ROUND * (na + cabs(z));
    ck_assert_msg(mi.residual <= tol, "residual %.3g > %.3g", mi.residual, tol);
    /* (zI - A)^* u = sigma v */
    for (size_t j = 0; j < n; j++) {
        double complex t = conj(z) * u[j];
        for (size_t i = 0; i < n; i++) t -= conj(s->A->data[i + j * n]) * u[i];
        r[j] = t - mi.sigma * v[j];
    }
    double rn = 0;
    for (size_t j = 0; j < n; j++) rn += cabs(r[j]) * cabs(r[j]);
    ck_assert_msg(sqrt(rn) <= tol, "adjoint residual %.3g > %.3g", sqrt(rn), tol);
    ptd_pspec_work *w = ptd_pspec_work_alloc(p);
    ptd_pspec_point pt;
    ck_assert_int_eq(ptd_pspec_sigma_min(p, w, z, NULL, &pt), PTD_OK);
    ck_assert(fabs(pt.sigma - mi.sigma) <= pt.err + mi.sigma_err);
    ptd_pspec_work_free(w);
    ptd_pspec_plan_free(p);
    ptd_system_free(s);
    free(v);
    free(u);
    free(r);

    n = 16;
    ck_assert_int_eq(ptd_zoo_make("hippo-legs", n, 1, &s), PTD_OK);
    ptd_matrix *B = ptd_matrix_alloc(n, n);
    /* B = P A P^T with P swapping 0 and n - 1 */
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) {
            size_t pi = i == 0 ? n - 1 : i == n - 1 ? 0 : i, pj = j == 0 ? n - 1 : j == n - 1 ? 0 : j;
            B->data[pi + pj * n] = s->A->data[i + j * n];
        }
    ptd_pspec_plan *pa = NULL, *pb = NULL;
    ck_assert_int_eq(ptd_pspec_plan_create(s->A, &pa), PTD_OK);
    ck_assert_int_eq(ptd_pspec_plan_create(B, &pb), PTD_OK);
    ck_assert(ptd_pspec_plan_exact(pa) && !ptd_pspec_plan_exact(pb));
    double complex *va = malloc(n * sizeof *va), *ua = malloc(n * sizeof *ua), *vb = malloc(n * sizeof *vb),
                   *ub = malloc(n * sizeof *ub);
    ptd_pspec_mode_info ia, ib;
    z = CMPLX(0.5, 2.0);
    ck_assert_int_eq(ptd_pspec_mode(pa, z, va, ua, &ia), PTD_OK);
    ck_assert_int_eq(ptd_pspec_mode(pb, z, vb, ub, &ib), PTD_OK);
    ck_assert(ia.exact && !ib.exact);
    double complex d = 0;
    for (size_t i = 0; i < n; i++) {
        size_t pi = i == 0 ? n - 1 : i == n - 1 ? 0 : i;
        d += conj(vb[pi]) * va[i];
    }
    double na2 = ptd_pspec_plan_norm2(pa), gap = ib.gap - ib.sigma;
    ck_assert(gap > 0);
    /* the angle as ||va - ph P vb|| (sqrt(1 - |d|^2) cancels down to sqrt(u)) */
    double complex ph = cabs(d) > 0 ? d / cabs(d) : 1;
    double angle = 0;
    for (size_t i = 0; i < n; i++) {
        size_t pi = i == 0 ? n - 1 : i == n - 1 ? 0 : i;
        angle += cabs(va[i] - ph * vb[pi]) * cabs(va[i] - ph * vb[pi]);
    }
    angle = sqrt(angle);
    ck_assert_msg(angle <= 16 * (double)n * U_ROUND * (na2 + cabs(z)) / gap + 1e-14, "angle %.3g", angle);
    assert_close(ia.sigma, ib.sigma, ia.sigma_err + ib.sigma_err, 0);
    free(va);
    free(ua);
    free(vb);
    free(ub);
    ptd_matrix_free(B);
    ptd_pspec_plan_free(pa);
    ptd_pspec_plan_free(pb);
    /* at an eigenvalue of the exact plan, and a non-finite z: errors */
    ck_assert_int_eq(ptd_pspec_plan_create(s->A, &pa), PTD_OK);
    va = malloc(n * sizeof *va);
    ua = malloc(n * sizeof *ua);
    ck_assert_int_eq(ptd_pspec_mode(pa, -1.0, va, ua, &ia), PTD_EINVAL);
    ck_assert_int_eq(ptd_pspec_mode(pa, CMPLX(NAN, 0), va, ua, &ia), PTD_EINVAL);
    free(va);
    free(ua);
    ptd_pspec_plan_free(pa);
    ptd_system_free(s);
}
END_TEST

/* --- rectangular matrices: sigma_min(zI~ - A), I~ = [I; 0] ------------------------------- */

/* A complex Gaussian m x n matrix (Hessenberg: zero below the first subdiagonal, as Arnoldi's
 * H~), scaled by `scale`. */
static ptd_matrix *random_rect(size_t m, size_t n, int hessenberg, double scale, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    ptd_matrix *A = ptd_matrix_alloc(m, n);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < m; i++) {
            double re = gsl_ran_gaussian(r, 1), im = gsl_ran_gaussian(r, 1);
            PTD_AT(A, i, j) = hessenberg && i > j + 1 ? 0 : scale * CMPLX(re, im);
        }
    gsl_rng_free(r);
    return A;
}

/* The oracle: every singular value of the rectangular zI~ - A by the test's own zgesvd of the
 * m x n matrix (a spare column: OpenBLAS reads past it); the smallest into *smin and the
 * second smallest into *snext (0 when n = 1). */
static void rect_svd(const ptd_matrix *A, double complex z, double *smin, double *snext)
{
    size_t m = A->rows, n = A->cols;
    double complex *M = calloc(m * (n + 1), sizeof *M);
    double *sv = malloc(n * sizeof *sv), *sup = malloc(n * sizeof *sup);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < m; i++) M[i + j * m] = (i == j ? z : 0) - PTD_AT(A, i, j);
    ck_assert_int_eq(LAPACKE_zgesvd(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)m, (lapack_int)n, M, (lapack_int)m, sv,
                                    NULL, 1, NULL, 1, sup), 0);
    *smin = sv[n - 1];
    *snext = n > 1 ? sv[n - 2] : 0;
    free(M);
    free(sv);
    free(sup);
}

/* Inverse Lanczos on the per-point QR of [T - zI; R2] and the library's SVD path agree with
 * the test's SVD of the m x n zI~ - A within m u (||A|| + |z|) each, for fewer extra rows than
 * columns (k2 = m - n), as many, more (k2 = n), and Arnoldi-shaped Hessenbergs. */
START_TEST(test_rect_vs_svd)
{
    struct {
        size_t m, n;
        int hess;
    } cases[] = {{2, 1, 0}, {6, 5, 0}, {13, 8, 0}, {16, 8, 0}, {40, 12, 0}, {31, 30, 1}, {61, 60, 1}, {9, 3, 1}};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 29);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t m = cases[c].m, n = cases[c].n;
        ptd_matrix *A = random_rect(m, n, cases[c].hess, 1.0 / sqrt((double)n), 100 + c);
        ptd_pspec_plan *p = plan_of(A);
        ck_assert_uint_eq(ptd_pspec_plan_rows(p), m);
        ck_assert_uint_eq(ptd_pspec_plan_order(p), n);
        ck_assert_int_eq(ptd_pspec_plan_exact(p), 0);
        ptd_pspec_work *w = ptd_pspec_work_alloc(p);
        double nrm = ptd_pspec_plan_norm2(p);
        double complex z[30];
        random_points(r, p, 0.5, z, 30);
        for (size_t k = 0; k < 30; k++) {
            double want, next;
            rect_svd(A, z[k], &want, &next);
            ptd_pspec_point a = at(p, w, z[k], PTD_PSPEC_LANCZOS), b = at(p, w, z[k], PTD_PSPEC_SVD);
            double tol = (double)m * U_ROUND * (nrm + cabs(z[k]));
            /* err: the plan's floor m u ||A||, the solves' n u (||A|| + |z|), and a quarter of
             * those for the iteration: at most 2.5 tol */
            ck_assert_msg(fabs(a.sigma - want) <= a.err + tol && a.err <= 2.5 * tol,
                          "%zu x %zu z=%g%+gi: lanczos %.17g (err %.3g) svd %.17g (tol %.3g)", m, n, creal(z[k]),
                          cimag(z[k]), a.sigma, a.err, want, tol);
            ck_assert_msg(fabs(b.sigma - want) <= tol, "%zu x %zu: library svd %.17g test svd %.17g", m, n, b.sigma, want);
            ck_assert(a.iterations > 0);
        }
        ptd_pspec_work_free(w);
        ptd_pspec_plan_free(p);
        ptd_matrix_free(A);
    }
    gsl_rng_free(r);
}
END_TEST

/* Closed forms and invariances.  A 2 x 1 [a; b]: sigma_min(zI~ - A) = sqrt(|z - a|^2 + |b|^2).
 * Zero extra rows: the square A1's value.  [W A1 W^*; Y A2 W^*] with W, Y unitary (the
 * transformations that keep I~): the same values. */
START_TEST(test_rect_identities)
{
    ptd_matrix *A = ptd_matrix_alloc(2, 1);
    A->data[0] = CMPLX(0.3, -1.2);
    A->data[1] = CMPLX(-0.7, 0.4);
    ptd_pspec_plan *p = plan_of(A);
    ptd_pspec_work *w = ptd_pspec_work_alloc(p);
    for (int k = 0; k < 20; k++) {
        double complex z = CMPLX(-2 + 0.2 * k, 1.5 - 0.17 * k);
        double want = hypot(cabs(z - A->data[0]), cabs(A->data[1]));
        ptd_pspec_point a = at(p, w, z, PTD_PSPEC_LANCZOS);
        ck_assert_msg(fabs(a.sigma - want) <= 8 * U_ROUND * want, "2 x 1 at %g%+gi: %.17g, closed form %.17g", creal(z),
                      cimag(z), a.sigma, want);
    }
    ptd_pspec_work_free(w);
    ptd_pspec_plan_free(p);
    ptd_matrix_free(A);

    size_t n = 10, k = 4, m = n + k;
    A = random_rect(m, n, 0, 0.3, 7);
    ptd_matrix *Z = ptd_matrix_copy(A), *A1 = ptd_matrix_alloc(n, n);
    for (size_t j = 0; j < n; j++)
        for (size_t i = n; i < m; i++) PTD_AT(Z, i, j) = 0;
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) PTD_AT(A1, i, j) = PTD_AT(A, i, j);
    /* B = [W A1 W^*; Y A2 W^*], by plain loops */
    ptd_matrix *W = random_unitary(n, 8), *Y = random_unitary(k, 9), *B = ptd_matrix_alloc(m, n);
    ptd_matrix *top = similar(A1, W);
    for (size_t j = 0; j < n; j++) {
        for (size_t i = 0; i < n; i++) PTD_AT(B, i, j) = PTD_AT(top, i, j);
        for (size_t i = 0; i < k; i++) {
            double complex s = 0;
            for (size_t a = 0; a < k; a++)
                for (size_t b = 0; b < n; b++) s += PTD_AT(Y, i, a) * PTD_AT(A, n + a, b) * conj(PTD_AT(W, j, b));
            PTD_AT(B, n + i, j) = s;
        }
    }
    ptd_pspec_plan *pa = plan_of(A), *pb = plan_of(B), *pz = plan_of(Z), *p1 = plan_of(A1);
    ptd_pspec_work *wa = ptd_pspec_work_alloc(pa), *wb = ptd_pspec_work_alloc(pb), *wz = ptd_pspec_work_alloc(pz),
                   *w1 = ptd_pspec_work_alloc(p1);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 31);
    double complex zs[25];
    random_points(r, pa, 0.5, zs, 25);
    for (size_t q = 0; q < 25; q++) {
        double tol = 4 * (double)m * U_ROUND * (ptd_pspec_plan_norm2(pa) + cabs(zs[q]));
        ptd_pspec_point a = at(pa, wa, zs[q], PTD_PSPEC_LANCZOS), b = at(pb, wb, zs[q], PTD_PSPEC_LANCZOS);
        ptd_pspec_point c = at(pz, wz, zs[q], PTD_PSPEC_LANCZOS), d = at(p1, w1, zs[q], PTD_PSPEC_LANCZOS);
        ck_assert_msg(fabs(a.sigma - b.sigma) <= tol, "unitary invariance: %.17g vs %.17g", a.sigma, b.sigma);
        ck_assert_msg(fabs(c.sigma - d.sigma) <= tol, "zero rows: %.17g, square %.17g", c.sigma, d.sigma);
        /* more rows can only raise sigma_min */
        ck_assert_msg(a.sigma >= d.sigma - tol, "sigma_min(zI~ - A) %.17g below sigma_min(zI - A1) %.17g", a.sigma, d.sigma);
    }
    gsl_rng_free(r);
    ptd_pspec_work_free(wa);
    ptd_pspec_work_free(wb);
    ptd_pspec_work_free(wz);
    ptd_pspec_work_free(w1);
    ptd_pspec_plan_free(pa);
    ptd_pspec_plan_free(pb);
    ptd_pspec_plan_free(pz);
    ptd_pspec_plan_free(p1);
    ptd_matrix_free(A);
    ptd_matrix_free(Z);
    ptd_matrix_free(A1);
    ptd_matrix_free(W);
    ptd_matrix_free(Y);
    ptd_matrix_free(B);
    ptd_matrix_free(top);
}
END_TEST

/* Grids of a rectangular plan: the one-point values, bit for bit, on any thread count and in
 * any split of rows, also from an exported and imported plan; the functions that need a
 * square matrix refuse it; damaged R2 bytes are refused. */
START_TEST(test_rect_grid_and_refusals)
{
    size_t m = 25, n = 20, nx = 23, ny = 17;
    ptd_matrix *A = random_rect(m, n, 1, 0.25, 12);
    ptd_pspec_plan *p = plan_of(A);
    ptd_box b = {-1.5, 1.5, -1.2, 1.2};
    ptd_pspec_grid *g1 = grid_of(p, &b, nx, ny, PTD_PSPEC_LANCZOS, 1, 0), *g2 = grid_of(p, &b, nx, ny, PTD_PSPEC_LANCZOS, 2, 0);
    ck_assert(memcmp(g1->sigma, g2->sigma, nx * ny * sizeof(double)) == 0);
    ck_assert(memcmp(g1->err, g2->err, nx * ny * sizeof(double)) == 0);
    ptd_pspec_work *w = ptd_pspec_work_alloc(p);
    for (size_t j = 0; j < ny; j += 5)
        for (size_t i = 0; i < nx; i += 4) {
            ptd_pspec_point a = at(p, w, CMPLX(ptd_pspec_grid_x(g1, i), ptd_pspec_grid_y(g1, j)), PTD_PSPEC_LANCZOS_SINGLE);
            ck_assert(a.sigma == g1->sigma[i + j * nx] && a.err == g1->err[i + j * nx]);
        }
    void *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(ptd_pspec_plan_export(p, &buf, &len), PTD_OK);
    ck_assert_uint_eq(len, 64 + 16 * (m * n + n * n + n + (m - n) * n));
    ptd_pspec_plan *q = NULL;
    ck_assert_msg(ptd_pspec_plan_import(buf, len, &q) == PTD_OK, "%s", ptd_last_error());
    ck_assert_uint_eq(ptd_pspec_plan_rows(q), m);
    double *sig = malloc(nx * ny * sizeof *sig), *err = malloc(nx * ny * sizeof *err);
    ptd_pspec_opts o = {.threads = 2};
    ck_assert_int_eq(ptd_pspec_grid_rows(q, &b, nx, ny, 0, 9, &o, sig, err, NULL), PTD_OK);
    ck_assert_int_eq(ptd_pspec_grid_rows(q, &b, nx, ny, 9, ny, &o, sig + 9 * nx, err + 9 * nx, NULL), PTD_OK);
    ck_assert(memcmp(sig, g1->sigma, nx * ny * sizeof *sig) == 0 && memcmp(err, g1->err, nx * ny * sizeof *err) == 0);
    /* R2 (after A, T and the start vector) must be upper trapezoidal and finite */
    double complex *R2 = (double complex *)(void *)((unsigned char *)buf + 64 + 16 * (m * n + n * n + n));
    ptd_pspec_plan *bad = NULL;
    R2[1] = 1e-300;
    ck_assert_int_eq(ptd_pspec_plan_import(buf, len, &bad), PTD_EFORMAT);
    R2[1] = 0;
    R2[m - n] = NAN;
    ck_assert_int_eq(ptd_pspec_plan_import(buf, len, &bad), PTD_EFORMAT);
    ck_assert_ptr_null(bad);
    /* a rectangular plan flagged exact is refused */
    ((uint64_t *)buf)[3] = 1;
    ck_assert_int_eq(ptd_pspec_plan_import(buf, len, &bad), PTD_EFORMAT);
    free(buf);
    /* what needs a square matrix */
    ptd_pspec_extreme x;
    ptd_pspec_instability si;
    ptd_pspec_trace_result *tr = NULL;
    ptd_pspec_mode_info mi;
    double complex v[20], u[25], grad;
    ptd_pspec_point pt;
    ck_assert_int_eq(ptd_pspec_abscissa(p, 0.1, NULL, &x), PTD_EINVAL);
    ck_assert(strstr(ptd_last_error(), "rectangular") != NULL);
    ck_assert_int_eq(ptd_pspec_radius(p, 0.1, NULL, &x), PTD_EINVAL);
    ck_assert_int_eq(ptd_pspec_stability_radius(p, 0, &si), PTD_EINVAL);
    ck_assert_int_eq(ptd_pspec_trace(p, 0.1, NULL, &tr), PTD_EINVAL);
    ck_assert_int_eq(ptd_pspec_mode(p, 0.1, v, u, &mi), PTD_EINVAL);
    ck_assert_int_eq(ptd_pspec_sigma_grad(p, w, 0.1, NULL, &pt, &grad), PTD_EINVAL);
    free(sig);
    free(err);
    ptd_pspec_work_free(w);
    ptd_pspec_plan_free(q);
    ptd_pspec_grid_free(g1);
    ptd_pspec_grid_free(g2);
    ptd_pspec_plan_free(p);
    ptd_matrix_free(A);
}
END_TEST

int main(void)
{
    ptd_init();
    Suite *s = suite_create("pspec");
    TCase *tc = tcase_create("points");
    tcase_add_test(tc, test_mode_exact_below_floor);
    tcase_add_test(tc, test_mode_svd);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_lanczos_vs_svd);
    tcase_add_test(tc, test_digits_against_extended);
    tcase_add_test(tc, test_unitary_invariance);
    tcase_add_test(tc, test_eigenvalue_bound_and_scaling);
    tcase_add_test(tc, test_triangular_extended_precision);
    tcase_add_test(tc, test_exact_eigenvalue);
    tcase_add_test(tc, test_plan_errors);
    tcase_add_test(tc, test_norm2_triangular);
    suite_add_tcase(s, tc);
    tc = tcase_create("grids");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_grid_threads_identical);
    tcase_add_test(tc, test_multishift_vs_single);
    tcase_add_test(tc, test_multishift_identical);
    tcase_add_test(tc, test_grid_rows_identical);
    tcase_add_test(tc, test_multishift_digits);
    tcase_add_test(tc, test_auto_box);
    suite_add_tcase(s, tc);
    tc = tcase_create("rectangular");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_rect_vs_svd);
    tcase_add_test(tc, test_rect_identities);
    tcase_add_test(tc, test_rect_grid_and_refusals);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
