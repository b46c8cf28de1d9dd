/* mmio.c - Matrix Market reader and writer.  (stub: being written) */
#include "config.h"
#include "internal.h"

int ptd_mm_read(FILE *f, const char *name, ptd_matrix **out)
{
    (void)f;
    *out = NULL;
    return ptd_error(PTD_EFORMAT, "%s: Matrix Market reader not written yet", name);
}

int ptd_mm_write(FILE *f, const ptd_matrix *m)
{
    (void)f; (void)m;
    return ptd_error(PTD_EIO, "Matrix Market writer not written yet");
}
