/* placeholder until written */
#include "testutil.h"
static Suite *s(void) { Suite *su = suite_create("api"); return su; }
WOS_TEST_MAIN(s)
