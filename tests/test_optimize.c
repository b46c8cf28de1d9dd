/* test_optimize.c - the default optimiser of PTD (docs/mathematics.md section 9): the
 * surrogate's gradient against central differences for complex and real E, the size barrier
 * (nothing outside the ball is ever evaluated as finite, the result inside it), the stability
 * penalty (every eigenvalue of A + E at Re <= -margin, nothing reflected), a real E's spectrum
 * closed under conjugation, and the monotone path of ptd_perturb_optimize_path. */
#include "testutil.h"

#include <gsl/gsl_rng.h>
#include <stdlib.h>
#include <string.h>

/* Eigenvalues of A + E by the library's eigen-solver for a general matrix (ptd_cond_eig,
 * zgeevx with its own balancing), not the optimiser's. */
static ptd_eig *eig_of_sum(const ptd_matrix *A, const ptd_matrix *E)
{
    size_t n = A->rows;
    ptd_matrix *M = ptd_matrix_alloc(n, n);
    for (size_t k = 0; k < n * n; k++) M->data[k] = A->data[k] + E->data[k];
    ptd_eig *e = NULL;
    ck_assert_msg(ptd_cond_eig(M, &e) == PTD_OK, "%s", ptd_last_error());
    ptd_matrix_free(M);
    return e;
}

/* The gradient of the surrogate against central differences, every term active: the size
 * barrier (||E|| at about half the radius), the stability penalty (a margin of 3 on
 * eigenvalues -1 .. -n puts the first ones in violation) and p = 2, 16 and 0 (kappa_2 itself,
 * smooth where the extreme singular values of V are simple, as at a random E).  Step h =
 * 1e-5 relative to the entries: truncation h^2 |phi'''| and rounding u |phi| / h are near
 * 1e-8 relative; the tolerance is 1e-5 relative to the largest entry of the gradient.  A
 * real E: the derivative along real entries is Re G, and Im G is exactly 0. */
START_TEST(test_surrogate_gradient)
{
    const char *names[] = {"hippo-legs", "grcar"};
    const double ps[] = {2, 16, 0};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    for (int m = 0; m < 2; m++)
        for (int real = 0; real <= 1; real++) {
            size_t n = 7;
            ptd_system *s = make(names[m], n);
            ptd_matrix *E = ptd_matrix_alloc(n, n), *G = ptd_matrix_alloc(n, n), *E2 = ptd_matrix_alloc(n, n);
            double scale = 0.05, nE;
            for (size_t k = 0; k < n * n; k++)
                E->data[k] = CMPLX(scale * gsl_rng_uniform(r), real ? 0 : scale * gsl_rng_uniform(r));
            ck_assert_int_eq(ptd_matrix_norm2(E, &nE), PTD_OK);
            for (int q = 0; q < 3; q++) {
                ptd_perturb_surrogate o = {.p = ps[q], .radius = 2 * nE, .mu = 0.3, .margin = 3, .penalty = 2,
                                           .real = real};
                double f, kap, mr;
                ck_assert_msg(ptd_perturb_surrogate_eval(s->A, E, &o, &f, &kap, &mr, G) == PTD_OK, "%s",
                              ptd_last_error());
                ck_assert(isfinite(f));
                ck_assert_double_gt(mr, -3); /* the penalty is active */
                double gmax = 0;
                for (size_t k = 0; k < n * n; k++) gmax = fmax(gmax, cabs(G->data[k]));
                for (size_t k = 0; k < n * n; k++) {
                    if (real) ck_assert_double_eq(cimag(G->data[k]), 0);
                    for (int im = 0; im <= !real; im++) {
                        double h = 1e-5 * scale, fp, fm;
                        memcpy(E2->data, E->data, n * n * sizeof(double complex));
                        E2->data[k] += im ? I * h : h;
                        ck_assert_int_eq(ptd_perturb_surrogate_eval(s->A, E2, &o, &fp, NULL, NULL, NULL), PTD_OK);
                        E2->data[k] -= im ? 2 * I * h : 2 * h;
                        ck_assert_int_eq(ptd_perturb_surrogate_eval(s->A, E2, &o, &fm, NULL, NULL, NULL), PTD_OK);
                        double fd = (fp - fm) / (2 * h), an = im ? cimag(G->data[k]) : creal(G->data[k]);
                        ck_assert_msg(fabs(fd - an) <= 1e-5 * gmax, "%s real %d p %g entry %zu %s: fd %.10g analytic %.10g",
                                      names[m], real, ps[q], k, im ? "im" : "re", fd, an);
                    }
                }
            }
            ptd_matrix_free(E);
            ptd_matrix_free(E2);
            ptd_matrix_free(G);
            ptd_system_free(s);
        }
    gsl_rng_free(r);
}
END_TEST

/* The surrogate's first term bounds kappa_2: log kappa_2 <= F_p <= log kappa_2 + (2/p) log n,
 * and p = 2 is the Frobenius condition number ||V||_F ||V^{-1}||_F (unit columns: ||V||_F^2 =
 * n), computed here from the diagonalization. */
START_TEST(test_surrogate_values)
{
    size_t n = 9;
    ptd_system *s = make("hippo-legs", n);
    ptd_ptd *p = NULL;
    ck_assert_int_eq(ptd_perturb_random(s->A, NULL, NULL, 1e-3, 3, &p), PTD_OK);
    ck_assert_uint_eq(p->reflected, 0);
    double fro = 0;
    for (size_t k = 0; k < n * n; k++) fro += creal(p->Vinv->data[k] * conj(p->Vinv->data[k]));
    fro = sqrt((double)n * fro);
    const double ps[] = {2, 8, 64, 0};
    for (int q = 0; q < 4; q++) {
        ptd_perturb_surrogate o = {.p = ps[q]};
        double f, kap;
        ck_assert_int_eq(ptd_perturb_surrogate_eval(s->A, p->E, &o, &f, &kap, NULL, NULL), PTD_OK);
        /* kappa_2 of the same V, computed by ptd_cond_kappa: to its rounding */
        assert_close(kap, p->kappa_V, 0, 1e3 * n * U_ROUND * p->kappa_V);
        double lk = log(p->kappa_V), tol = 1e3 * n * U_ROUND * p->kappa_V;
        if (ps[q] == 0) assert_close(f, lk, tol, 0);
        else {
            ck_assert_double_ge(f, lk - tol);
            ck_assert_double_le(f, lk + 2 / ps[q] * log((double)n) + tol);
        }
        if (ps[q] == 2) assert_close(f, log(fro), tol, 0);
    }
    ptd_ptd_free(p);
    ptd_system_free(s);
}
END_TEST

/* The size: the surrogate is +inf on and outside the ball (so no line search accepts such a
 * point) and finite inside; every result of the optimiser has ||E||_2 < r, recomputed here
 * by ptd_matrix_norm2; Adam's projection (singular values clipped) puts ||E||_2 at r to
 * rounding. */
START_TEST(test_size_held)
{
    size_t n = 10;
    ptd_system *s = make("hippo-legs", n);
    double na;
    ck_assert_int_eq(ptd_matrix_norm2(s->A, &na), PTD_OK);
    ptd_matrix *E = ptd_matrix_alloc(n, n);
    for (size_t k = 0; k < n * n; k++) E->data[k] = CMPLX(sin((double)k), cos(3.0 * (double)k));
    double nE, f;
    ck_assert_int_eq(ptd_matrix_norm2(E, &nE), PTD_OK);
    ptd_perturb_surrogate o = {.p = 2, .radius = nE * (1 - 1e-9), .mu = 1e-2};
    ck_assert_int_eq(ptd_perturb_surrogate_eval(s->A, E, &o, &f, NULL, NULL, NULL), PTD_OK);
    ck_assert(isinf(f) && f > 0);
    o.radius = nE;
    ck_assert_int_eq(ptd_perturb_surrogate_eval(s->A, E, &o, &f, NULL, NULL, NULL), PTD_OK);
    ck_assert(isinf(f) && f > 0);
    o.radius = nE * (1 + 1e-9);
    ck_assert_int_eq(ptd_perturb_surrogate_eval(s->A, E, &o, &f, NULL, NULL, NULL), PTD_OK);
    ck_assert(isfinite(f));
    const double rels[] = {1e-4, 0.02, 0.2};
    for (int k = 0; k < 3; k++)
        for (int real = 0; real <= 1; real++) {
            ptd_perturb_opts po = {.max_rel = rels[k], .steps = 120, .seed = 2, .real = real};
            ptd_ptd *p = NULL;
            ck_assert_msg(ptd_perturb_optimize(s->A, s->B, NULL, &po, &p) == PTD_OK, "%s", ptd_last_error());
            double ne;
            ck_assert_int_eq(ptd_matrix_norm2(p->E, &ne), PTD_OK);
            ck_assert_msg(ne < rels[k] * na, "||E|| %.17g not below %.17g", ne, rels[k] * na);
            /* the barrier leaves it near the bound: the optimum uses what it may */
            ck_assert_double_gt(ne, 0.9 * rels[k] * na);
            ptd_ptd_free(p);
        }
    ptd_perturb_opts ao = {.optimizer = PTD_OPT_ADAM, .max_rel = 0.05, .steps = 50, .seed = 2};
    ptd_ptd *p = NULL;
    ck_assert_int_eq(ptd_perturb_optimize(s->A, s->B, NULL, &ao, &p), PTD_OK);
    double ne;
    ck_assert_int_eq(ptd_matrix_norm2(p->E, &ne), PTD_OK);
    assert_close(ne, 0.05 * na, 0, 100 * n * U_ROUND);
    ptd_ptd_free(p);
    ptd_matrix_free(E);
    ptd_system_free(s);
}
END_TEST

/* Stability: at 5 % on LegS (where Adam reflects about half of the eigenvalues) and at a
 * margin that the start violates (2: LegS has the eigenvalue -1), every eigenvalue of A + E,
 * recomputed from A + E by another solver, has Re <= -margin and nothing is reflected; for a
 * real E the spectrum is closed under conjugation, pair by pair and bit for bit, with
 * conjugate eigenvectors. */
START_TEST(test_stability_margin)
{
    size_t n = 16;
    ptd_system *s = make("hippo-legs", n);
    const double margins[] = {0, 2};
    for (int mi = 0; mi < 2; mi++)
        for (int real = 0; real <= 1; real++) {
            ptd_perturb_opts o = {.max_rel = 0.05, .steps = 300, .seed = 1, .real = real, .margin = margins[mi]};
            ptd_ptd *p = NULL;
            ck_assert_msg(ptd_perturb_optimize(s->A, s->B, NULL, &o, &p) == PTD_OK, "%s", ptd_last_error());
            double want = margins[mi] > 0 ? margins[mi] : 0.5; /* default: half of -alpha(LegS) = 1 */
            ck_assert_uint_eq(p->reflected, 0);
            ck_assert_double_eq(p->backward_error, p->backward_error_unreflected);
            ptd_eig *e = eig_of_sum(s->A, p->E);
            for (size_t i = 0; i < n; i++) {
                /* the two solvers agree to kappa(lambda) n u ||A||; the margin has far more room */
                ck_assert_msg(creal(e->lambda[i]) <= -want + 1e-8, "margin %g real %d: Re lambda %.6g", want, real,
                              creal(e->lambda[i]));
                ck_assert_double_le(creal(p->lambda[i]), -want);
            }
            ptd_eig_free(e);
            ck_assert_int_eq(p->real, real);
            ck_assert_double_lt(p->kappa_V, 30);
            if (real) {
                for (size_t k = 0; k < n * n; k++) ck_assert_double_eq(cimag(p->E->data[k]), 0);
                for (size_t j = 0; j < n; j++) {
                    if (cimag(p->lambda[j]) == 0) continue;
                    ck_assert_msg(j + 1 < n && p->lambda[j + 1] == conj(p->lambda[j]) && cimag(p->lambda[j]) > 0,
                                  "eigenvalue %zu has no conjugate beside it", j);
                    for (size_t i = 0; i < n; i++)
                        ck_assert(PTD_AT(p->V, i, j + 1) == conj(PTD_AT(p->V, i, j)));
                    j++;
                }
            }
            ptd_ptd_free(p);
        }
    /* a real E is refused for a complex A */
    ptd_system *g = make("ginibre", 6);
    ptd_perturb_opts o = {.max_rel = 0.05, .steps = 10, .real = 1};
    ptd_ptd *p = NULL;
    ck_assert_int_eq(ptd_perturb_optimize(g->A, NULL, NULL, &o, &p), PTD_EINVAL);
    ck_assert_ptr_null(p);
    ptd_system_free(g);
    ptd_system_free(s);
}
END_TEST

/* The path: kappa never grows with the allowed size, every E within its size, and the first
 * size is what a single run at that size gives (the same start). */
START_TEST(test_monotone_path)
{
    size_t n = 12;
    ptd_system *s = make("hippo-legs", n);
    double na;
    ck_assert_int_eq(ptd_matrix_norm2(s->A, &na), PTD_OK);
    const double rel[] = {1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1};
    const size_t k = sizeof rel / sizeof rel[0];
    for (int real = 0; real <= 1; real++) {
        ptd_ptd *out[6];
        ptd_perturb_opts o = {.steps = 120, .seed = 4, .real = real};
        ck_assert_msg(ptd_perturb_optimize_path(s->A, s->B, NULL, rel, k, &o, out) == PTD_OK, "%s", ptd_last_error());
        for (size_t i = 0; i < k; i++) {
            double ne;
            ck_assert_int_eq(ptd_matrix_norm2(out[i]->E, &ne), PTD_OK);
            ck_assert_double_lt(ne, rel[i] * na);
            if (i) ck_assert_msg(out[i]->kappa_V <= out[i - 1]->kappa_V, "real %d: kappa %g at %g above %g at %g", real,
                                 out[i]->kappa_V, rel[i], out[i - 1]->kappa_V, rel[i - 1]);
        }
        ck_assert_double_lt(out[k - 1]->kappa_V, out[0]->kappa_V / 10);
        ptd_ptd *one = NULL;
        o.max_rel = rel[0];
        ck_assert_int_eq(ptd_perturb_optimize(s->A, s->B, NULL, &o, &one), PTD_OK);
        ck_assert_double_eq(one->kappa_V, out[0]->kappa_V);
        ptd_ptd_free(one);
        for (size_t i = 0; i < k; i++) ptd_ptd_free(out[i]);
    }
    /* sizes that do not increase are refused, and nothing is returned */
    const double bad[] = {1e-2, 1e-3};
    ptd_ptd *out[2] = {(ptd_ptd *)1, (ptd_ptd *)1};
    ptd_perturb_opts o = {.steps = 10};
    ck_assert_int_eq(ptd_perturb_optimize_path(s->A, s->B, NULL, bad, 2, &o, out), PTD_EINVAL);
    ck_assert_ptr_null(out[0]);
    ck_assert_ptr_null(out[1]);
    ptd_system_free(s);
}
END_TEST

int main(void)
{
    ptd_init();
    Suite *s = suite_create("optimize");
    TCase *tc = tcase_create("lbfgs");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_surrogate_gradient);
    tcase_add_test(tc, test_surrogate_values);
    tcase_add_test(tc, test_size_held);
    tcase_add_test(tc, test_stability_margin);
    tcase_add_test(tc, test_monotone_path);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
