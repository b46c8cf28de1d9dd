/* test_condmp.c (being written) */
#include "testutil.h"
START_TEST(test_placeholder) { ck_assert_int_eq(ptd_strerror(PTD_OK)[0], 's'); }
END_TEST
int main(void)
{
    Suite *s = suite_create("condmp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_placeholder);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
