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
