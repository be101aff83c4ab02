/* gradient checks of the reduce family: one gc_case per rule and attribute variant (see gradcheck.h) */
#include "gradcheck.h"

const gc_case gc_cases_reduce[] = {
	{ NULL, 0, 0, { { 0 } }, 0, 0, NULL, 0 }, /* placeholder: the table must not be empty */
};
const int gc_n_reduce = 0;
