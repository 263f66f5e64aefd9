/* SPDX-License-Identifier: MIT */
/* The one main() of every Check suite binary: runs the suite its file names with ECA_TEST_SUITE. */
#include <check.h>
#include <stdlib.h>

#include "eca_test.h"

int
main(void)
{
    SRunner *sr = srunner_create(eca_test_suite());
    int failed;

    /* CK_ENV: CK_VERBOSITY, CK_RUN_CASE, CK_TAP_LOG_FILE_NAME... work as Check documents. */
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
