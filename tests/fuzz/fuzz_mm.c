/* fuzz_mm.c - ptd_mm_read and ptd_csr_read (Matrix Market).  A matrix read is finite, within
 * the size limits, and (when small) reads back bit for bit from what ptd_mm_write makes of it;
 * the sparse reader's CSR is well formed (rows sorted, each position once) and, where both
 * readers accept the file, holds the dense reader's nonzero entries exactly. */
#include "fuzz.h"

#include <complex.h>
#include <math.h>

/* The CSR reader on the same bytes: structure, and agreement with the dense matrix m
 * (NULL when the dense reader refused the file or the matrix is too large to compare). */
static void check_csr(const uint8_t *data, size_t size, const ptd_matrix *m)
{
    FILE *f = fuzz_stream(data, size);
    FUZZ_REQUIRE(f, "no stream");
    ptd_csr *A = (ptd_csr *)1;
    int st = ptd_csr_read(f, "fuzz.mtx", &A);
    fclose(f);
    if (st) {
        fuzz_failed(st, A);
        return;
    }
    FUZZ_REQUIRE(A && A->rows >= 1 && A->cols >= 1 && A->rows <= PTD_CSR_MAX_N && A->cols <= PTD_CSR_MAX_N,
                 "bad sparse shape");
    FUZZ_REQUIRE(A->rowptr[0] == 0 && A->rowptr[A->rows] == A->nnz, "bad row pointers");
    for (size_t i = 0; i < A->rows; i++) {
        FUZZ_REQUIRE(A->rowptr[i] <= A->rowptr[i + 1], "row pointers decrease");
        for (size_t p = A->rowptr[i]; p < A->rowptr[i + 1]; p++) {
            FUZZ_REQUIRE(A->colind[p] < A->cols, "column out of range");
            FUZZ_REQUIRE(p == A->rowptr[i] || A->colind[p - 1] < A->colind[p], "row not sorted or repeated");
            FUZZ_REQUIRE(isfinite(creal(A->val[p])) && isfinite(cimag(A->val[p])), "non-finite entry");
        }
    }
    if (m) {
        FUZZ_REQUIRE(A->rows == m->rows && A->cols == m->cols, "readers disagree on the shape");
        size_t nz = 0;
        for (size_t i = 0; i < m->rows * m->cols; i++)
            nz += m->data[i] != 0;
        size_t stored = 0;
        for (size_t i = 0; i < A->rows; i++)
            for (size_t p = A->rowptr[i]; p < A->rowptr[i + 1]; p++) {
                ptd_complex d = m->data[i + A->colind[p] * m->rows];
                FUZZ_REQUIRE(memcmp(&d, &A->val[p], sizeof d) == 0, "readers disagree on an entry");
                stored += A->val[p] != 0;
            }
        FUZZ_REQUIRE(stored == nz, "readers disagree on the nonzeros");
    }
    ptd_csr_free(A);
}

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
        check_csr(data, size, NULL);
        return 0;
    }
    check_csr(data, size, m->rows * m->cols <= 65536 ? m : NULL);
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
