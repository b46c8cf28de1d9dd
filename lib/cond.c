/* cond.c - eigendecompositions and conditioning in double precision. */
#include "config.h"
#include "internal.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ptd_eig_free(ptd_eig *e)
{
    if (!e) return;
    free(e->lambda);
    ptd_matrix_free(e->V);
    ptd_matrix_free(e->Y);
    free(e->eig_cond);
    free(e);
}

int ptd_cond_kappa(const ptd_matrix *V, double *kappa)
{
    ptd_clear_error();
    if (!V || V->rows != V->cols) return ptd_error(PTD_EINVAL, "kappa: a square matrix is needed");
    size_t n = V->rows;
    ptd_matrix *c = ptd_matrix_copy(V);
    double *s = malloc(n * sizeof *s);
    int st = PTD_OK;
    if (!c || !s) st = ptd_error(PTD_ENOMEM, "out of memory");
    else if (!ptd_matrix_is_finite(V)) st = ptd_error(PTD_EINVAL, "kappa: the matrix has NaN or infinite entries");
    else {
        lapack_int info = ptdi_zgesvd('N', 'N', n, n, c->data, n, s, NULL, 1, NULL, 1);
        st = ptd_lapack_status("zgesvd", (int)info);
        if (!st) *kappa = s[n - 1] > 0 ? s[0] / s[n - 1] : INFINITY;
    }
    ptd_matrix_free(c);
    free(s);
    return st;
}

int ptd_cond_numerical_abscissa(const ptd_matrix *A, double *omega)
{
    ptd_clear_error();
    if (!A || A->rows != A->cols) return ptd_error(PTD_EINVAL, "numerical abscissa: a square matrix is needed");
    size_t n = A->rows;
    double complex *H = ptdi_lapack_alloc(n, n, sizeof *H);
    double *w = malloc(n * sizeof *w);
    int st = PTD_OK;
    if (!H || !w) st = ptd_error(PTD_ENOMEM, "out of memory");
    else {
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) H[i + j * n] = (PTD_AT(A, i, j) + conj(PTD_AT(A, j, i))) / 2;
        lapack_int info = ptdi_zheev('N', 'U', n, H, n, w);
        st = ptd_lapack_status("zheev", (int)info);
        if (!st) *omega = w[n - 1];
    }
    free(H);
    free(w);
    return st;
}

int ptd_cond_eig(const ptd_matrix *A, ptd_eig **out)
{
    ptd_clear_error();
    *out = NULL;
    if (!A || A->rows != A->cols || A->rows == 0) return ptd_error(PTD_EINVAL, "eig: a square matrix is needed");
    if (!ptd_matrix_is_finite(A)) return ptd_error(PTD_EINVAL, "eig: the matrix has NaN or infinite entries");
    size_t n = A->rows;
    ptd_eig *e = calloc(1, sizeof *e);
    ptd_matrix *M = ptd_matrix_copy(A);
    double *scale = malloc(n * sizeof *scale), *rcondv = malloc(n * sizeof *rcondv);
    if (e) {
        e->n = n;
        e->lambda = malloc(n * sizeof *e->lambda);
        e->V = ptd_matrix_alloc(n, n);
        e->Y = ptd_matrix_alloc(n, n);
        e->eig_cond = malloc(n * sizeof *e->eig_cond);
    }
    int st = PTD_OK;
    if (!e || !M || !scale || !rcondv || !e->lambda || !e->V || !e->Y || !e->eig_cond) {
        st = ptd_error(PTD_ENOMEM, "out of memory (eigendecomposition, n = %zu)", n);
        goto done;
    }
    lapack_int ilo, ihi;
    double abnrm;
    /* balanc 'P': permutations only.  Without them LAPACK puts the eigenvalues of LegS
     * n = 64 tens of units away from -1..-64; with scaling, V would be of D^{-1} A D. */
    lapack_int info = LAPACKE_zgeevx(LAPACK_COL_MAJOR, 'P', 'V', 'V', 'E', (lapack_int)n, M->data, (lapack_int)n,
                                     e->lambda, e->Y->data, (lapack_int)n, e->V->data, (lapack_int)n, &ilo, &ihi,
                                     scale, &abnrm, e->eig_cond, rcondv);
    if ((st = ptd_lapack_status("zgeevx", (int)info))) goto done;
    /* zgeevx returns unit columns; rconde = |y^* x| for unit x, y */
    e->eig_cond_unresolved = 0;
    for (size_t i = 0; i < n; i++) {
        double r = e->eig_cond[i];
        e->eig_cond[i] = r > 0 ? 1.0 / r : INFINITY;
        if (e->eig_cond[i] >= PTD_KAPPA_UNRESOLVED) e->eig_cond_unresolved++;
    }
    if ((st = ptd_cond_kappa(e->V, &e->kappa_V))) goto done;
    e->kappa_V_resolved = e->kappa_V < PTD_KAPPA_UNRESOLVED;
    if ((st = ptd_matrix_norm2(A, &e->norm2))) goto done;
    e->norm_fro = ptd_matrix_norm_fro(A);
    double s2 = 0, sa = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        s2 += creal(e->lambda[i] * conj(e->lambda[i]));
        sa = fmax(sa, creal(e->lambda[i]));
    }
    double d = e->norm_fro * e->norm_fro - s2;
    /* below rounding (about n u ||A||_F^2) the difference is noise: report 0 */
    e->henrici = d > (double)n * PTD_U * e->norm_fro * e->norm_fro ? sqrt(d) : 0.0;
    e->spectral_abscissa = sa;
    st = ptd_cond_numerical_abscissa(A, &e->numerical_abscissa);
done:
    ptd_matrix_free(M);
    free(scale);
    free(rcondv);
    if (st) {
        ptd_eig_free(e);
        return st;
    }
    *out = e;
    return PTD_OK;
}
