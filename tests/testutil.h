/* testutil.h - helpers shared by the check suites. */
#ifndef PTD_TESTUTIL_H
#define PTD_TESTUTIL_H

#include "config.h" /* CMPLX under clang */

#include <check.h>
#include <complex.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ptd.h"

#define U_ROUND (DBL_EPSILON / 2)

/* A named system of the zoo, or the test fails with the library's message. */
static inline ptd_system *zoo_system(const char *name, size_t n, unsigned long seed)
{
    ptd_system *s = NULL;
    ck_assert_msg(ptd_zoo_make(name, n, seed, &s) == PTD_OK, "%s: %s", name, ptd_last_error());
    return s;
}

/* zoo_system with seed 1, the suites' usual system. */
static inline ptd_system *make(const char *name, size_t n) { return zoo_system(name, n, 1); }

/* A pspec plan of A, or the test fails with the library's message. */
static inline ptd_pspec_plan *plan_of(const ptd_matrix *A)
{
    ptd_pspec_plan *p = NULL;
    ck_assert_msg(ptd_pspec_plan_create(A, &p) == PTD_OK, "%s", ptd_last_error());
    return p;
}

/* ||V diag(lambda) V^{-1} - A||_2 / ||A||_2 of a PTD result, the product formed entry by entry
 * (no BLAS) and its 2-norm by zgesvd: the oracle for the backward error of the system
 * returned. */
static inline double returned_backward_error(const ptd_ptd *p, const ptd_matrix *A)
{
    size_t n = p->n;
    ptd_matrix *R = ptd_matrix_alloc(n, n);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) {
            double complex s = 0;
            for (size_t k = 0; k < n; k++) s += PTD_AT(p->V, i, k) * p->lambda[k] * PTD_AT(p->Vinv, k, j);
            PTD_AT(R, i, j) = s - PTD_AT(A, i, j);
        }
    double r, a;
    ck_assert_int_eq(ptd_matrix_norm2(R, &r), PTD_OK);
    ck_assert_int_eq(ptd_matrix_norm2(A, &a), PTD_OK);
    ptd_matrix_free(R);
    return r / a;
}

/* |got - want| <= atol + rtol |want|, with NaN and infinities handled: two NaNs or two
 * equal infinities agree, anything else with a non-finite value does not.  Prints both
 * values and the bound on failure. */
#define assert_close(got, want, atol, rtol)                                                 \
    do {                                                                                    \
        double g_ = (got), w_ = (want), a_ = (atol), r_ = (rtol);                           \
        int ok_;                                                                            \
        if (isnan(g_) || isnan(w_)) ok_ = isnan(g_) && isnan(w_);                           \
        else if (isinf(g_) || isinf(w_)) ok_ = g_ == w_;                                    \
        else ok_ = fabs(g_ - w_) <= a_ + r_ * fabs(w_);                                     \
        ck_assert_msg(ok_, "%s = %.17g, want %s = %.17g (|diff| %.3g > atol %.3g + rtol %.3g)", \
                      #got, g_, #want, w_, fabs(g_ - w_), a_, r_);                          \
    } while (0)

/* Cap the address space of this test's process at its present size plus `extra` bytes, so
 * that an allocation a file's header asks for, but its data does not back, fails at once
 * (overcommit would otherwise hide it).  Caps nothing, and returns 0, where a cap would
 * break the run: without check's fork (the cap would outlive the test) and under
 * AddressSanitizer (its shadow memory reserves terabytes). */
#if defined __SANITIZE_ADDRESS__
#define PTD_TEST_ASAN 1
#elif defined __has_feature
#if __has_feature(address_sanitizer)
#define PTD_TEST_ASAN 1
#endif
#endif
static inline int limit_address_space(size_t extra)
{
#ifdef PTD_TEST_ASAN
    (void)extra;
    return 0;
#else
    const char *fork = getenv("CK_FORK");
    if (fork && strcmp(fork, "no") == 0) return 0;
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    int ok = f && fscanf(f, "%lu", &pages) == 1;
    if (f) fclose(f);
    if (!ok) return 0;
    struct rlimit rl;
    getrlimit(RLIMIT_AS, &rl);
    rlim_t want = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + extra;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) return 0;
    rl.rlim_cur = want;
    return setrlimit(RLIMIT_AS, &rl) == 0;
#endif
}

/* Run a suite; exit status for the test harness. */
static inline int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

#endif
