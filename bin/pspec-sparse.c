/* pspec-sparse.c - what pspec --sparse K adds (pspec.h): the sparse matrix (convdiff, a zoo
 * name, a Matrix Market coordinate file read straight into CSR), k steps of Arnoldi, the
 * measured residual and orthogonality that make its values bounds, and the sparse-LU
 * reference at a point. */
#include "config.h"
#include "cli.h"
#include "pspec.h"
#include "ptd.h"

#include <complex.h>
#include <errno.h>
#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define U 1.1102230246251565e-16

/* convdiff's grid side m for n = m^2, or a usage error */
static size_t convdiff_side(size_t n)
{
    size_t m = (size_t)llround(sqrt((double)n));
    if (m * m != n || m < PSPEC_CONVDIFF_MMIN || m > PSPEC_CONVDIFF_MMAX)
        cli_usage("convdiff needs -n m^2 with m in %d..%d (got n = %zu; e.g. -n 2025, m = 45)", PSPEC_CONVDIFF_MMIN,
                  PSPEC_CONVDIFF_MMAX, n);
    return m;
}

ptd_csr *pspec_sparse_matrix(const char *spec, size_t n, int n_given, unsigned long seed, size_t *side)
{
    ptd_csr *A = NULL;
    *side = 0;
    if (strcmp(spec, "convdiff") == 0) {
        size_t m = convdiff_side(n_given ? n : PSPEC_CONVDIFF_N);
        if (ptd_csr_convdiff(m, &A)) cli_fail("%s", ptd_last_error());
        *side = m;
        return A;
    }
    if (strncmp(spec, "file:", 5) == 0 || strcmp(spec, "-") == 0) {
        const char *path = strcmp(spec, "-") == 0 ? NULL : spec + 5;
        if (path && !*path) cli_usage("file: needs a path, e.g. file:a.mtx");
        FILE *f = path ? fopen(path, "r") : stdin;
        if (!f) cli_fail("%s: cannot open: %s", path, strerror(errno));
        int st = ptd_csr_read(f, path ? path : "<stdin>", &A);
        if (path) fclose(f);
        if (st) cli_fail("%s", ptd_last_error());
        if (A->rows != A->cols)
            cli_fail("%s: matrix is %zu x %zu; --sparse needs a square matrix", path ? path : "<stdin>", A->rows, A->cols);
        return A;
    }
    ptd_system *sys = cli_zoo_make(spec, n, seed);
    if (ptd_csr_from_dense(sys->A, &A)) cli_fail("%s", ptd_last_error());
    ptd_system_free(sys);
    return A;
}

ptd_system *pspec_convdiff_dense(size_t n, int n_given, size_t *side)
{
    size_t m = convdiff_side(n_given ? n : PSPEC_CONVDIFF_N);
    *side = m;
    if ((double)m * (double)m > PTD_ZOO_MAX_N)
        cli_usage("convdiff -n %zu is too large for a dense matrix (at most %d); use --sparse K", m * m, PTD_ZOO_MAX_N);
    ptd_csr *A = NULL;
    ptd_system *s = calloc(1, sizeof *s);
    if (!s) cli_fail("out of memory");
    if (ptd_csr_convdiff(m, &A) || ptd_csr_to_dense(A, &s->A)) cli_fail("%s", ptd_last_error());
    ptd_csr_free(A);
    snprintf(s->name, sizeof s->name, "convdiff");
    s->n = m * m;
    return s;
}

double pspec_sparse_flops(const ptd_csr *A, size_t k)
{
    double n = (double)A->rows, kk = (double)k;
    /* each step a product (8 flops an entry) and two Gram-Schmidt passes (16 n j); then the
     * residual's k products and V's Gram matrix (4 n k^2) */
    return 16 * (double)A->nnz * kk + 12 * n * kk * kk;
}

void pspec_sparse_arnoldi(pspec_sparse *s, size_t k, unsigned long seed)
{
    const ptd_csr *A = s->A;
    size_t n = A->rows;
    ptd_matrix *V = NULL;
    double t0 = cli_now();
    if (ptd_csr_arnoldi(A, k, seed, &s->H, &V, &s->steps)) cli_fail("Arnoldi: %s", ptd_last_error());
    s->seconds = cli_now() - t0;
    s->k = k;
    s->norm_fro = ptd_csr_norm_fro(A);
    /* the residual of A V_k = V_{k+1} H~, a column at a time (column j of H~ is nonzero in its
     * first j + 2 rows), and the loss of orthogonality ||V_{k+1}^* V_{k+1} - I||_F */
    size_t j1 = s->steps + 1, last = s->steps; /* H~'s last row is 0 after a breakdown: V_k alone */
    int lastrow = 0;
    for (size_t j = 0; j < s->steps; j++) lastrow |= PTD_AT(s->H, last, j) != 0;
    if (!lastrow) j1 = s->steps;
    double complex *y = malloc(n * sizeof *y), *G = malloc(j1 * j1 * sizeof *G);
    if (!y || !G) cli_fail("out of memory (n = %zu)", n);
    const double complex one = 1, mone = -1;
    double r2 = 0;
    for (size_t j = 0; j < s->steps; j++) {
        ptd_csr_matvec(A, V->data + j * n, y);
        size_t rows = j + 2;
        cblas_zgemv(CblasColMajor, CblasNoTrans, (int)n, (int)rows, &mone, V->data, (int)n, s->H->data + j * s->H->rows,
                    1, &one, y, 1);
        double ny = cblas_dznrm2((int)n, y, 1);
        r2 += ny * ny;
    }
    s->resid = sqrt(r2);
    double zero = 0, done = 1;
    cblas_zherk(CblasColMajor, CblasUpper, CblasConjTrans, (int)j1, (int)n, done, V->data, (int)n, zero, G, (int)j1);
    double o2 = 0;
    for (size_t j = 0; j < j1; j++)
        for (size_t i = 0; i <= j; i++) {
            double complex d = G[i + j * j1] - (i == j ? 1.0 : 0.0);
            double a = creal(d) * creal(d) + cimag(d) * cimag(d);
            o2 += i == j ? a : 2 * a;
        }
    s->orth = sqrt(o2);
    free(y);
    free(G);
    ptd_matrix_free(V);
    s->seconds_check = cli_now() - t0 - s->seconds;
}

double pspec_sparse_slack(const pspec_sparse *s, double sigma)
{
    /* for a unit y: ||(zI - A) V_k y|| <= ||V_{k+1}|| ||(zI~ - H~) y|| + r and ||V_k y|| >=
     * sqrt(1 - delta), delta = ||V^* V - I|| <= s->orth; so sigma_min(zI - A) <=
     * (sqrt(1 + delta) sigma + r) / sqrt(1 - delta), this minus sigma is the slack */
    double d = s->orth;
    if (!(d < 0.5)) return INFINITY;
    return (sqrt(1 + d) * sigma + s->resid) / sqrt(1 - d) - sigma;
}
