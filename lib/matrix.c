/* matrix.c - dense complex column-major matrices. */
#include "config.h"
#include "internal.h"

#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

ptd_matrix *ptd_matrix_alloc(size_t rows, size_t cols)
{
    if (rows == 0 || cols == 0 || rows > SIZE_MAX / sizeof(double complex) / cols)
        return NULL;
    ptd_matrix *m = malloc(sizeof *m);
    if (!m) return NULL;
    m->rows = rows;
    m->cols = cols;
    /* one spare column: see ptdi_lapack_alloc */
    m->data = ptdi_lapack_alloc(rows, cols, sizeof(double complex));
    if (!m->data) {
        free(m);
        return NULL;
    }
    return m;
}

void ptd_matrix_free(ptd_matrix *m)
{
    if (!m) return;
    free(m->data);
    free(m);
}

ptd_matrix *ptd_matrix_copy(const ptd_matrix *m)
{
    ptd_matrix *c = ptd_matrix_alloc(m->rows, m->cols);
    if (c) memcpy(c->data, m->data, m->rows * m->cols * sizeof(double complex));
    return c;
}

int ptd_matrix_norm2(const ptd_matrix *m, double *norm)
{
    ptd_clear_error();
    /* LAPACK's answer to a NaN is "illegal value in argument 6": say what is wrong */
    if (!ptd_matrix_is_finite(m)) return ptd_error(PTD_EINVAL, "ptd_matrix_norm2: the matrix has a non-finite entry");
    size_t k = m->rows < m->cols ? m->rows : m->cols;
    ptd_matrix *c = ptd_matrix_copy(m);
    double *s = malloc(k * sizeof *s);
    int status = PTD_OK;
    if (!c || !s) {
        status = ptd_error(PTD_ENOMEM, "ptd_matrix_norm2: out of memory (n = %zu)", k);
    } else {
        lapack_int info = ptdi_zgesvd('N', 'N', m->rows, m->cols, c->data, m->rows, s, NULL, 1, NULL, 1);
        status = ptd_lapack_status("zgesvd", (int)info);
        if (status == PTD_OK) *norm = s[0];
    }
    free(s);
    ptd_matrix_free(c);
    return status;
}

double ptd_matrix_norm_fro(const ptd_matrix *m)
{
    /* zlange's Frobenius norm is scaled (zlassq): no overflow for huge entries. */
    return LAPACKE_zlange_work(LAPACK_COL_MAJOR, 'F', (lapack_int)m->rows,
                               (lapack_int)m->cols, m->data, (lapack_int)m->rows, NULL);
}

int ptd_matrix_is_upper(const ptd_matrix *m)
{
    for (size_t j = 0; j < m->cols; j++)
        for (size_t i = j + 1; i < m->rows; i++)
            if (PTD_AT(m, i, j) != 0) return 0;
    return 1;
}

int ptd_matrix_is_lower(const ptd_matrix *m)
{
    for (size_t j = 1; j < m->cols; j++)
        for (size_t i = 0; i < j && i < m->rows; i++)
            if (PTD_AT(m, i, j) != 0) return 0;
    return 1;
}

int ptd_matrix_is_finite(const ptd_matrix *m)
{
    for (size_t k = 0; k < m->rows * m->cols; k++)
        if (!isfinite(creal(m->data[k])) || !isfinite(cimag(m->data[k]))) return 0;
    return 1;
}

int ptdi_grow(void **buf, size_t *cap, size_t need, size_t limit, size_t size)
{
    if (need <= *cap) return 0;
    size_t c = *cap < 4096 ? 4096 : *cap;
    while (c < need && c <= limit / 2) c *= 2;
    if (c < need || c > limit) c = limit;
    if (c > SIZE_MAX / size) return -1;
    void *nb = realloc(*buf, c * size);
    if (!nb) return -1;
    *buf = nb;
    *cap = c;
    return 0;
}
