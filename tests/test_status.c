/* test_status.c - the error funnel: LAPACK info values become messages that say what
 * happened.  Built with lib/status.c compiled in, since the funnel is internal. */
#include "testutil.h"

#include "internal.h"

#include <string.h>

START_TEST(test_lapack_info)
{
    ck_assert_int_eq(ptd_lapack_status("zgesv", 0), PTD_OK);
    /* a positive info of an LU or triangular routine is an exactly zero pivot */
    const char *lu[] = {"dgesv", "zgesv", "zgetrf", "zgetri", "ztrtrs"};
    for (size_t k = 0; k < 5; k++) {
        ck_assert_int_eq(ptd_lapack_status(lu[k], 8), PTD_ELAPACK);
        ck_assert_msg(strstr(ptd_last_error(), "exactly singular") && !strstr(ptd_last_error(), "converge"), "%s: %s",
                      lu[k], ptd_last_error());
        ck_assert_msg(strncmp(ptd_last_error(), lu[k], strlen(lu[k])) == 0, "%s", ptd_last_error());
    }
    /* for the eigenvalue and SVD drivers it is a failed iteration */
    const char *it[] = {"zgeev", "dgeev", "zgees", "zgesvd", "zheev", "dggev"};
    for (size_t k = 0; k < 6; k++) {
        ck_assert_int_eq(ptd_lapack_status(it[k], 3), PTD_ELAPACK);
        ck_assert_msg(strstr(ptd_last_error(), "failed to converge"), "%s: %s", it[k], ptd_last_error());
    }
    ck_assert_int_eq(ptd_lapack_status("zgesv", -4), PTD_ELAPACK);
    ck_assert(strstr(ptd_last_error(), "illegal value in argument 4"));
    ck_assert_int_eq(ptd_lapack_status("zpotrf", 2), PTD_ELAPACK);
    ck_assert(strstr(ptd_last_error(), "not positive definite"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("lapack info");
    tcase_add_test(tc, test_lapack_info);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
