/* fuzz_mm.c - ptd_mm_read (Matrix Market).  A matrix read is finite, within the size
 * limits, and (when small) reads back bit for bit from what ptd_mm_write makes of it. */
#include "fuzz.h"

#include <complex.h>
#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init_once();
    FILE *f = fuzz_stream(data, size);
    FUZZ_REQUIRE(f, "no stream");
    ptd_matrix *m = (ptd_matrix *)1;
    int st = ptd_mm_read(f, "fuzz.mtx", &m);
    fclose(f);
    if (st) {
        fuzz_failed(st, m);
        return 0;
    }
    FUZZ_REQUIRE(m && m->rows >= 1 && m->cols >= 1 && m->rows <= PTD_ZOO_MAX_N && m->cols <= PTD_ZOO_MAX_N,
                 "bad shape");
    /* a 4 KB input may declare an 8192 x 8192 zero matrix: check and write small ones only */
    if (m->rows * m->cols <= 65536) {
        FUZZ_REQUIRE(ptd_matrix_is_finite(m), "non-finite entry");
        char *text = NULL;
        size_t len = 0;
        FILE *w = open_memstream(&text, &len);
        FUZZ_REQUIRE(w && ptd_mm_write(w, m) == PTD_OK, "write: %s", ptd_last_error());
        fclose(w);
        FILE *r = fmemopen(text, len, "r");
        ptd_matrix *b = NULL;
        FUZZ_REQUIRE(ptd_mm_read(r, "again", &b) == PTD_OK, "read back: %s", ptd_last_error());
        fclose(r);
        FUZZ_REQUIRE(b->rows == m->rows && b->cols == m->cols &&
                         memcmp(b->data, m->data, m->rows * m->cols * sizeof *m->data) == 0,
                     "round trip differs");
        ptd_matrix_free(b);
        free(text);
    }
    ptd_matrix_free(m);
    return 0;
}
