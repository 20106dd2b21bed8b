/* placeholder until written */
#include "testutil.h"
static Suite *s(void) { Suite *su = suite_create("authn"); return su; }
WOS_TEST_MAIN(s)
