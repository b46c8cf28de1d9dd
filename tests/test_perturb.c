/* test_perturb.c - perturb-then-diagonalize: the gradient against finite differences, the
 * measured backward error against ||E||, optimised against random perturbations of the
 * same size, and the PTD file format. */
#include "testutil.h"

#include <gsl/gsl_rng.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The analytic gradient of both objectives against central differences.  With step h the
 * difference quotient has truncation error h^2 |f'''| / 6 and rounding error u |f| / h;
 * h = 1e-5 relative to the entries balances them near 1e-8 relative: the tolerance is
 * 1e-5 relative to the largest gradient entry, a thousand times that. */
START_TEST(test_gradient_check)
{
    const char *names[] = {"hippo-legs", "grcar", "hippo-legt"};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 4);
    for (int m = 0; m < 3; m++) {
        size_t n = 7;
        ptd_system *s = make(names[m], n);
        ptd_matrix *E = ptd_matrix_alloc(n, n), *G = ptd_matrix_alloc(n, n), *E2 = ptd_matrix_alloc(n, n);
        double scale = 0.05;
        for (size_t k = 0; k < n * n; k++) E->data[k] = CMPLX(scale * gsl_rng_uniform(r), scale * gsl_rng_uniform(r));
        for (int obj = 0; obj < 2; obj++) {
            double f, kap;
            ck_assert_int_eq(ptd_perturb_objective_eval(s->A, E, (ptd_perturb_objective)obj, 0.3, &f, &kap, G), PTD_OK);
            double gmax = 0;
            for (size_t k = 0; k < n * n; k++) gmax = fmax(gmax, cabs(G->data[k]));
            for (size_t k = 0; k < n * n; k++)
                for (int im = 0; im < 2; im++) {
                    double h = 1e-5 * scale, fp, fm;
                    memcpy(E2->data, E->data, n * n * sizeof(double complex));
                    E2->data[k] += im ? I * h : h;
                    ck_assert_int_eq(ptd_perturb_objective_eval(s->A, E2, obj, 0.3, &fp, NULL, NULL), PTD_OK);
                    E2->data[k] -= im ? 2 * I * h : 2 * h;
                    ck_assert_int_eq(ptd_perturb_objective_eval(s->A, E2, obj, 0.3, &fm, NULL, NULL), PTD_OK);
                    double fd = (fp - fm) / (2 * h), an = im ? cimag(G->data[k]) : creal(G->data[k]);
                    ck_assert_msg(fabs(fd - an) <= 1e-5 * gmax, "%s obj %d entry %zu %s: fd %.10g analytic %.10g",
                                  names[m], obj, k, im ? "im" : "re", fd, an);
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

/* ||A - V L V^{-1}|| = ||E|| up to the rounding of the eigendecomposition, which the
 * reconstruction amplifies by kappa(V): |backward - ||E||/||A||| <= 100 n u kappa(V), for
 * the unreflected L; the system returned has the same backward error when nothing was
 * reflected */
static void check_result(const ptd_ptd *p, const ptd_system *s, const char *what)
{
    size_t n = s->n;
    ck_assert_msg(fabs(p->backward_error_unreflected - p->rel_E) <= 100 * n * U_ROUND * p->kappa_V,
                  "%s: backward error %.17g vs ||E||/||A|| %.17g (kappa %g)", what, p->backward_error_unreflected,
                  p->rel_E, p->kappa_V);
    if (p->reflected == 0) ck_assert_double_eq(p->backward_error, p->backward_error_unreflected);
    double na;
    ck_assert_int_eq(ptd_matrix_norm2(s->A, &na), PTD_OK);
    assert_close(p->norm_A, na, 0, 4 * U_ROUND);
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) pos += creal(p->lambda[i]) > 0;
    ck_assert_uint_eq(pos, 0);
    /* V has unit columns, V^{-1} V = I, and Btilde = V^{-1} B */
    for (size_t j = 0; j < n; j++) {
        double c = 0;
        for (size_t i = 0; i < n; i++) c += creal(PTD_AT(p->V, i, j) * conj(PTD_AT(p->V, i, j)));
        assert_close(sqrt(c), 1.0, 0, 100 * n * U_ROUND);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double complex d = 0;
            for (size_t k = 0; k < n; k++) d += PTD_AT(p->Vinv, i, k) * PTD_AT(p->V, k, j);
            ck_assert_double_le(cabs(d - (i == j ? 1.0 : 0.0)), 100 * n * U_ROUND * p->kappa_V);
        }
    ck_assert_ptr_nonnull(p->Btilde);
}

START_TEST(test_random_backward_error)
{
    const double sizes[] = {1e-8, 1e-4, 1e-2, 1e-1};
    ptd_system *s = make("hippo-legs", 24);
    double prev = INFINITY;
    for (int k = 0; k < 4; k++) {
        ptd_ptd *p = NULL;
        ck_assert_int_eq(ptd_perturb_random(s->A, s->B, NULL, sizes[k], 5, &p), PTD_OK);
        assert_close(p->rel_E, sizes[k], 0, 100 * 24 * U_ROUND);
        check_result(p, s, "random");
        /* a larger perturbation buys a better conditioned V (one seed: a trend, not noise,
         * across these decades) */
        ck_assert_msg(p->kappa_V < prev, "kappa %g at %g not below %g", p->kappa_V, sizes[k], prev);
        prev = p->kappa_V;
        ptd_ptd_free(p);
    }
    ptd_system_free(s);
}
END_TEST

/* ||V diag(lambda) V^{-1} - A||_2 / ||A||_2, formed entry by entry (no BLAS) and its 2-norm
 * by zgesvd: the oracle for the backward error of the system returned. */
/* The backward error reported is that of the system returned, V diag(lambda) V^{-1} with
 * the reflected lambda, not ||E||/||A||: at 5 % on LegS n = 32 about a third of the
 * eigenvalues of A + E are in the right half-plane, and moving them moves the system by
 * more than E did.  Both computations round the product V L V^{-1}, whose entries are at
 * most ||V|| max|l| ||V^{-1}|| = kappa(V) max|l| (unit columns: ||V|| <= sqrt(n)): they agree
 * to 10 n u kappa(V) max|l| / ||A||.  With nothing reflected the two backward errors are one. */
START_TEST(test_reflected_backward_error)
{
    ptd_system *s = make("hippo-legs", 32);
    ptd_ptd *p = NULL;
    ck_assert_int_eq(ptd_perturb_random(s->A, s->B, NULL, 0.05, 2, &p), PTD_OK);
    ck_assert_uint_gt(p->reflected, 0);
    double lmax = 0;
    for (size_t i = 0; i < 32; i++) lmax = fmax(lmax, cabs(p->lambda[i]));
    double tol = 10 * 32 * U_ROUND * p->kappa_V * lmax / p->norm_A, want = returned_backward_error(p, s->A);
    assert_close(p->backward_error, want, tol, 0);
    /* far from ||E||/||A|| (= the unreflected backward error), beyond any rounding */
    assert_close(p->backward_error_unreflected, p->rel_E, 100 * 32 * U_ROUND * p->kappa_V, 0);
    ck_assert_msg(fabs(p->backward_error - p->rel_E) > 0.2 * p->rel_E, "backward error %g, ||E||/||A|| %g",
                  p->backward_error, p->rel_E);
    /* the library's recomputation against A */
    double b;
    ck_assert_int_eq(ptd_perturb_backward_error(s->A, p, &b), PTD_OK);
    assert_close(b, want, tol, 0);
    ptd_ptd_free(p);
    /* Adam's optimised E at 5 % reflects eigenvalues too (the default method keeps them in
     * the left half-plane: test_optimize) */
    ptd_perturb_opts o = {.optimizer = PTD_OPT_ADAM, .max_rel = 0.05, .steps = 200, .seed = 1};
    ck_assert_msg(ptd_perturb_optimize(s->A, s->B, NULL, &o, &p) == PTD_OK, "%s", ptd_last_error());
    ck_assert_uint_gt(p->reflected, 0);
    lmax = 0;
    for (size_t i = 0; i < 32; i++) lmax = fmax(lmax, cabs(p->lambda[i]));
    assert_close(p->backward_error, returned_backward_error(p, s->A),
                 10 * 32 * U_ROUND * p->kappa_V * lmax / p->norm_A, 0);
    ptd_ptd_free(p);
    ptd_system_free(s);
    /* nothing reflected (LegS n = 8 at 1e-6: every eigenvalue stays near -1 .. -8): the
     * system returned is the diagonalization of A + E, its backward error ||E||/||A|| */
    s = make("hippo-legs", 8);
    ck_assert_int_eq(ptd_perturb_random(s->A, s->B, NULL, 1e-6, 1, &p), PTD_OK);
    ck_assert_uint_eq(p->reflected, 0);
    ck_assert_double_eq(p->backward_error, p->backward_error_unreflected);
    lmax = 0;
    for (size_t i = 0; i < 8; i++) lmax = fmax(lmax, cabs(p->lambda[i]));
    assert_close(p->backward_error, returned_backward_error(p, s->A), 10 * 8 * U_ROUND * p->kappa_V * lmax / p->norm_A, 0);
    assert_close(p->backward_error, p->rel_E, 100 * 8 * U_ROUND * p->kappa_V, 0);
    /* a system of another order is refused */
    ptd_system *s2 = make("hippo-legs", 6);
    double b2;
    ck_assert_int_eq(ptd_perturb_backward_error(s2->A, p, &b2), PTD_EINVAL);
    ptd_system_free(s2);
    ptd_ptd_free(p);
    ptd_system_free(s);
}
END_TEST

/* The optimised perturbation beats random ones of the same norm, and meets its size as a
 * constraint. */
START_TEST(test_optimised_beats_random)
{
    ptd_system *s = make("hippo-legs", 16);
    ptd_perturb_opts o = {.objective = PTD_OBJ_KAPPA, .max_rel = 0.05, .steps = 400, .seed = 2};
    ptd_ptd *p = NULL;
    ck_assert_msg(ptd_perturb_optimize(s->A, s->B, NULL, &o, &p) == PTD_OK, "%s", ptd_last_error());
    ck_assert_double_le(p->rel_E, 0.05 * (1 + 100 * 16 * U_ROUND));
    check_result(p, s, "optimised");
    ck_assert_uint_gt(p->steps, 0); /* L-BFGS: at most the budget of each start (a phase may end early) */
    ck_assert_uint_le(p->steps, 400 * PTD_PERTURB_STARTS);
    for (unsigned long seed = 1; seed <= 5; seed++) {
        ptd_ptd *q = NULL;
        ck_assert_int_eq(ptd_perturb_random(s->A, s->B, NULL, p->rel_E, seed, &q), PTD_OK);
        ck_assert_msg(p->kappa_V < q->kappa_V, "optimised kappa %g not below random %g", p->kappa_V, q->kappa_V);
        ptd_ptd_free(q);
    }
    /* and it is a real improvement on LegS's own kappa (about 1e7 at n = 16 here) */
    ck_assert_double_lt(p->kappa_V, 30);
    ptd_ptd_free(p);
    /* BFGS on the weighted objective also improves on the start */
    ptd_perturb_opts b = {.objective = PTD_OBJ_KAPPA, .optimizer = PTD_OPT_BFGS, .weight = 0.5, .steps = 100, .seed = 2};
    ck_assert_msg(ptd_perturb_optimize(s->A, s->B, NULL, &b, &p) == PTD_OK, "%s", ptd_last_error());
    check_result(p, s, "bfgs");
    ck_assert_double_lt(p->kappa_V, 1e3);
    ptd_ptd_free(p);
    /* BFGS takes no constraint */
    b.max_rel = 0.1;
    ck_assert_int_eq(ptd_perturb_optimize(s->A, s->B, NULL, &b, &p), PTD_EINVAL);
    ptd_system_free(s);
}
END_TEST

START_TEST(test_save_load)
{
    ptd_system *s = make("hippo-legs", 6);
    ptd_matrix *C = ptd_matrix_alloc(1, 6);
    for (size_t i = 0; i < 6; i++) C->data[i] = 1.0 / (1.0 + (double)i);
    ptd_ptd *p = NULL, *q = NULL;
    ck_assert_int_eq(ptd_perturb_random(s->A, s->B, C, 1e-3, 9, &p), PTD_OK);
    char path[] = "/tmp/ptd-test-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w+");
    ck_assert_int_eq(ptd_perturb_save(f, p), PTD_OK);
    rewind(f);
    ck_assert_msg(ptd_perturb_load(f, path, &q) == PTD_OK, "%s", ptd_last_error());
    ck_assert_uint_eq(q->n, 6);
    ck_assert(memcmp(q->lambda, p->lambda, 6 * sizeof(double complex)) == 0);
    ck_assert(memcmp(q->V->data, p->V->data, 36 * sizeof(double complex)) == 0);
    ck_assert(memcmp(q->Vinv->data, p->Vinv->data, 36 * sizeof(double complex)) == 0);
    ck_assert(memcmp(q->E->data, p->E->data, 36 * sizeof(double complex)) == 0);
    ck_assert(memcmp(q->Btilde->data, p->Btilde->data, 6 * sizeof(double complex)) == 0);
    ck_assert(memcmp(q->Ctilde->data, p->Ctilde->data, 6 * sizeof(double complex)) == 0);
    ck_assert_double_eq(q->kappa_V, p->kappa_V);
    ck_assert_double_eq(q->backward_error, p->backward_error);
    ck_assert_double_eq(q->backward_error_unreflected, p->backward_error_unreflected);
    ck_assert_uint_eq(q->reflected, p->reflected);
    ptd_ptd_free(q);
    fclose(f);
    /* version 1 (before backward_error_unreflected): its backward_error was the unreflected
     * one; the saved system's is that value when nothing was reflected, else unknown (NaN) */
    const char *v1 = "ptdkit-ptd 1\nn 1\nnorm_A 2\nnorm_E 0.5\nrel_E 0.25\nbackward_error 0.25\nkappa_V 1\n",
               *v1_end = "lambda 1\n-1 0\nV 1\n1 0\nVinv 1\n1 0\nE 1\n0.5 0\nend\n";
    for (int refl = 0; refl <= 1; refl++) {
        f = fopen(path, "w+");
        fprintf(f, "%sreflected %d\n%s", v1, refl, v1_end);
        rewind(f);
        ck_assert_msg(ptd_perturb_load(f, "v1.ptd", &q) == PTD_OK, "%s", ptd_last_error());
        ck_assert_double_eq(q->backward_error_unreflected, 0.25);
        if (refl) ck_assert(isnan(q->backward_error));
        else ck_assert_double_eq(q->backward_error, 0.25);
        ptd_ptd_free(q);
        fclose(f);
    }
    /* malformed files: each rejected with the line */
    const char *bad[][2] = {
        {"hello\n", ":1: not a ptdkit PTD file"},
        {"ptdkit-ptd 9\n", ":1: unsupported version"},
        {"ptdkit-ptd 2\nn 1\nnorm_A 1\nnorm_E 1\nrel_E 1\nbackward_error 1\nkappa_V 1\n",
         ":7: expected 'backward_error_unreflected VALUE'"},
        {"ptdkit-ptd 1\nn 0\n", ":2: n must be"},
        {"ptdkit-ptd 1\nn 2\nnorm_A x\n", ":3: 'norm_A' needs a finite number"},
        {"ptdkit-ptd 1\nn 1\nnorm_A 1\nnorm_E 1\nrel_E 1\nbackward_error 1\nkappa_V 1\nreflected 0\nlambda 1\n1 nan\n",
         ":10: expected two finite numbers"},
        {"ptdkit-ptd 1\nn 1\nnorm_A 1\nnorm_E 1\nrel_E 1\nbackward_error 1\nkappa_V 1\nreflected 3\n", ":8: 'reflected'"},
        {"ptdkit-ptd 1\nn 1\nnorm_A 1\nnorm_E 1\nrel_E 1\nbackward_error 1\nkappa_V 1\nreflected 0\nlambda 2\n", ":9: block 'lambda' must hold 1"},
        {"ptdkit-ptd 1\nn 1\nnorm_A 1\nnorm_E 1\nrel_E 1\nbackward_error 1\nkappa_V 1\nreflected 0\nlambda 1\n1 0\nV 1\n1 0\nVinv 1\n1 0\nE 1\n0 0\n",
         "expected 'end' (file truncated)"},
        {"ptdkit-ptd 1\nn 1\nnorm_A 1\nnorm_E 1\nrel_E 1\nbackward_error 1\nkappa_V 1\nreflected 0\nlambda 1\n1 0\nV 1\n1 0\nVinv 1\n1 0\nE 1\n0 0\nend\nmore\n",
         ":18: text after 'end'"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        f = fopen(path, "w+");
        fputs(bad[k][0], f);
        rewind(f);
        q = (ptd_ptd *)1;
        ck_assert_int_eq(ptd_perturb_load(f, "x.ptd", &q), PTD_EFORMAT);
        ck_assert_ptr_null(q);
        ck_assert_msg(strstr(ptd_last_error(), bad[k][1]) != NULL, "case %zu: '%s' lacks '%s'", k, ptd_last_error(),
                      bad[k][1]);
        fclose(f);
    }
    unlink(path);
    ptd_ptd_free(p);
    ptd_matrix_free(C);
    ptd_system_free(s);
}
END_TEST

/* n = 8192 declares 3 n^2 + n values (3 GiB); storage follows the values that arrive (the
 * loader once allocated each block before reading it).  The address space is capped at
 * 256 MB above the present, so allocating first fails as ENOMEM. */
START_TEST(test_load_declared_beyond_data)
{
    limit_address_space((size_t)256 << 20);
    static const char head[] = "ptdkit-ptd 1\nn 8192\nnorm_A 1\nnorm_E 1\nrel_E 1\nbackward_error 1\n"
                               "kappa_V 1\nreflected 0\n";
    static const char *const tail[] = {"lambda 8192\n1 0\n", "lambda 8192\n", "V 67108864\n"};
    static const char *const msg[] = {"after 1 of 8192 values", "after 0 of 8192 values", "expected the block 'lambda"};
    for (size_t k = 0; k < 3; k++) {
        char text[512];
        snprintf(text, sizeof text, "%s%s", head, tail[k]);
        FILE *f = fmemopen(text, strlen(text), "r");
        ptd_ptd *q = (ptd_ptd *)1;
        ck_assert_int_eq(ptd_perturb_load(f, "big.ptd", &q), PTD_EFORMAT);
        ck_assert_msg(strstr(ptd_last_error(), msg[k]), "case %zu: '%s'", k, ptd_last_error());
        ck_assert_ptr_null(q);
        fclose(f);
    }
    /* the lambda block complete, V cut short */
    size_t n = 8192, cap = sizeof head + 16 + 8 * n + 64;
    char *text = malloc(cap), *at = text;
    at += sprintf(at, "%slambda %zu\n", head, n);
    for (size_t i = 0; i < n; i++) at += sprintf(at, "%d 0\n", (int)(i % 10));
    at += sprintf(at, "V %zu\n1 0\n", n * n);
    FILE *f = fmemopen(text, (size_t)(at - text), "r");
    ptd_ptd *q = NULL;
    ck_assert_int_eq(ptd_perturb_load(f, "big.ptd", &q), PTD_EFORMAT);
    ck_assert_msg(strstr(ptd_last_error(), "inside block 'V' after 1 of 67108864 values"), "'%s'", ptd_last_error());
    ck_assert_ptr_null(q);
    fclose(f);
    free(text);
}
END_TEST

int main(void)
{
    ptd_init();
    Suite *s = suite_create("perturb");
    TCase *tc = tcase_create("ptd");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_gradient_check);
    tcase_add_test(tc, test_random_backward_error);
    tcase_add_test(tc, test_reflected_backward_error);
    tcase_add_test(tc, test_optimised_beats_random);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_load_declared_beyond_data);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
