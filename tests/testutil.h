/* testutil.h - helpers shared by the check suites. */
#ifndef PTD_TESTUTIL_H
#define PTD_TESTUTIL_H

#include "config.h" /* CMPLX under clang */

#include <check.h>
#include <complex.h>
#include <float.h>
#include <math.h>
#include <stdio.h>

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
