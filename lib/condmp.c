/* condmp.c - extended precision conditioning of triangular matrices (being written). */
#include "config.h"
#include "internal.h"

#include <stdlib.h>

void ptd_eig_mp_free(ptd_eig_mp *e)
{
    if (!e) return;
    free(e->eig_cond);
    free(e->lambda);
    free(e);
}

int ptd_cond_mp(const ptd_matrix *A, unsigned long bits, int digits, ptd_eig_mp **out)
{
    (void)A; (void)bits; (void)digits;
    *out = NULL;
    return ptd_error(PTD_EINVAL, "extended precision not written yet");
}
