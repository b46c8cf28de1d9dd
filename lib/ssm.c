/* ssm.c - discretisation of continuous state-space systems (ZOH, bilinear) and their
 * convolution kernels K_l = C Abar^l Bbar.
 *
 * The dense kernel never forms Abar^l: it carries the state x_l = Abar^l Bbar forward with one
 * matrix-vector product per step, O(L n^2) in all, where powers by repeated squaring would
 * cost O(n^3 log L) and lose the structure.  The diagonal kernel is the product of the
 * Vandermonde matrix [abar_k^l] with c o bbar, powers carried as running products.
 */
#include "config.h"
#include "internal.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_sf_legendre.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int ptd_ssm_discretize(const ptd_matrix *A, const ptd_matrix *B, double dt, ptd_ssm_method method,
                       ptd_matrix *Abar, ptd_matrix *Bbar)
{
    ptd_clear_error();
    if (!A || A->rows != A->cols) return ptd_error(PTD_EINVAL, "ptd_ssm_discretize: A must be square");
    size_t n = A->rows;
    if (!B || B->rows != n || B->cols != 1) return ptd_error(PTD_EINVAL, "ptd_ssm_discretize: B must be %zu x 1", n);
    if (!Abar || Abar->rows != n || Abar->cols != n || !Bbar || Bbar->rows != n || Bbar->cols != 1)
        return ptd_error(PTD_EINVAL, "ptd_ssm_discretize: Abar must be %zu x %zu and Bbar %zu x 1", n, n, n);
    if (!(dt > 0) || !isfinite(dt)) return ptd_error(PTD_EINVAL, "ptd_ssm_discretize: dt must be > 0 (got %g)", dt);
    int st = PTD_OK;
    if (method == PTD_SSM_ZOH) {
        /* e^{dt [[A, B], [0, 0]]} = [[e^{dt A}, int_0^dt e^{tA} dt B], [0, 1]] */
        size_t m = n + 1;
        ptd_matrix *M = ptd_matrix_alloc(m, m), *E = ptd_matrix_alloc(m, m);
        if (!M || !E) st = ptd_error(PTD_ENOMEM, "ptd_ssm_discretize: out of memory (n = %zu)", n);
        else {
            for (size_t j = 0; j < n; j++)
                for (size_t i = 0; i < n; i++) PTD_AT(M, i, j) = dt * PTD_AT(A, i, j);
            for (size_t i = 0; i < n; i++) PTD_AT(M, i, n) = dt * B->data[i];
            st = ptd_transient_expm(M, 1.0, E);
            if (!st) {
                for (size_t j = 0; j < n; j++)
                    for (size_t i = 0; i < n; i++) PTD_AT(Abar, i, j) = PTD_AT(E, i, j);
                for (size_t i = 0; i < n; i++) Bbar->data[i] = PTD_AT(E, i, n);
            }
        }
        ptd_matrix_free(M);
        ptd_matrix_free(E);
        return st;
    }
    if (method != PTD_SSM_BILINEAR) return ptd_error(PTD_EINVAL, "ptd_ssm_discretize: unknown method %d", (int)method);
    /* (I - dt/2 A) [Abar, Bbar] = [I + dt/2 A, dt B] */
    double complex *M = malloc(n * n * sizeof *M), *R = malloc(n * (n + 1) * sizeof *R);
    lapack_int *ipiv = malloc(n * sizeof *ipiv);
    if (!M || !R || !ipiv) st = ptd_error(PTD_ENOMEM, "ptd_ssm_discretize: out of memory (n = %zu)", n);
    else {
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) {
                double complex a = 0.5 * dt * A->data[i + j * n];
                M[i + j * n] = (i == j) - a;
                R[i + j * n] = (i == j) + a;
            }
        for (size_t i = 0; i < n; i++) R[i + n * n] = dt * B->data[i];
        lapack_int info = LAPACKE_zgesv(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)(n + 1), M, (lapack_int)n, ipiv,
                                        R, (lapack_int)n);
        if (info > 0) st = ptd_error(PTD_ERANGE, "ptd_ssm_discretize: I - dt/2 A is singular (2/dt = %g is an eigenvalue)", 2 / dt);
        else st = ptd_lapack_status("zgesv", (int)info);
        if (!st) {
            memcpy(Abar->data, R, n * n * sizeof *R);
            memcpy(Bbar->data, R + n * n, n * sizeof *R);
        }
    }
    free(M);
    free(R);
    free(ipiv);
    return st;
}

int ptd_ssm_discretize_diag(size_t n, const double complex *lambda, const double complex *b, double dt,
                            ptd_ssm_method method, double complex *abar, double complex *bbar)
{
    ptd_clear_error();
    if (!(dt > 0) || !isfinite(dt)) return ptd_error(PTD_EINVAL, "ptd_ssm_discretize_diag: dt must be > 0 (got %g)", dt);
    if (method != PTD_SSM_ZOH && method != PTD_SSM_BILINEAR)
        return ptd_error(PTD_EINVAL, "ptd_ssm_discretize_diag: unknown method %d", (int)method);
    for (size_t k = 0; k < n; k++) {
        double complex l = lambda[k], bk = b ? b[k] : 1, z = dt * l;
        if (method == PTD_SSM_ZOH) {
            abar[k] = cexp(z);
            /* (e^z - 1)/z dt, accurate for small |z| where e^z - 1 cancels */
            double complex phi;
            if (cabs(z) < 1e-5) phi = 1 + z / 2 + z * z / 6;
            else if (cabs(z) < 0.5) {
                /* e^z - 1 = expm1(x) + e^x (cos y - 1 + i sin y) with cos y - 1 = -2 sin^2(y/2) */
                double x = creal(z), y = cimag(z), sh = sin(y / 2);
                double complex em1 = expm1(x) + exp(x) * CMPLX(-2 * sh * sh, sin(y));
                phi = em1 / z;
            } else
                phi = (abar[k] - 1) / z;
            bbar[k] = dt * phi * bk;
        } else {
            double complex d = 1 - z / 2;
            if (d == 0) return ptd_error(PTD_ERANGE, "ptd_ssm_discretize_diag: 1 - dt lambda/2 = 0 at mode %zu", k);
            abar[k] = (1 + z / 2) / d;
            bbar[k] = dt * bk / d;
        }
    }
    return PTD_OK;
}

int ptd_ssm_kernel(const ptd_matrix *Abar, const ptd_matrix *Bbar, const ptd_matrix *C, size_t L,
                   double complex *K)
{
    ptd_clear_error();
    if (!Abar || Abar->rows != Abar->cols) return ptd_error(PTD_EINVAL, "ptd_ssm_kernel: Abar must be square");
    size_t n = Abar->rows;
    if (!Bbar || Bbar->rows != n || Bbar->cols != 1) return ptd_error(PTD_EINVAL, "ptd_ssm_kernel: Bbar must be %zu x 1", n);
    if (!C || C->rows * C->cols != n || (C->rows != 1 && C->cols != 1))
        return ptd_error(PTD_EINVAL, "ptd_ssm_kernel: C must be 1 x %zu", n);
    double complex *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return ptd_error(PTD_ENOMEM, "ptd_ssm_kernel: out of memory (n = %zu)", n);
    }
    memcpy(x, Bbar->data, n * sizeof *x);
    const double complex one = 1, zero = 0;
    for (size_t l = 0; l < L; l++) {
        double complex k = 0;
        for (size_t i = 0; i < n; i++) k += C->data[i] * x[i];
        K[l] = k;
        if (l + 1 < L) {
            cblas_zgemv(CblasColMajor, CblasNoTrans, (int)n, (int)n, &one, Abar->data, (int)n, x, 1, &zero, y, 1);
            double complex *t = x;
            x = y;
            y = t;
        }
    }
    free(x);
    free(y);
    return PTD_OK;
}

int ptd_ssm_kernel_diag(size_t n, const double complex *abar, const double complex *bbar,
                        const double complex *c, size_t L, double complex *K)
{
    ptd_clear_error();
    double complex *z = malloc((n ? n : 1) * sizeof *z);
    if (!z) return ptd_error(PTD_ENOMEM, "ptd_ssm_kernel_diag: out of memory (n = %zu)", n);
    for (size_t k = 0; k < n; k++) z[k] = (c ? c[k] : 1) * bbar[k];
    for (size_t l = 0; l < L; l++) {
        double complex s = 0;
        for (size_t k = 0; k < n; k++) {
            s += z[k];
            z[k] *= abar[k];
        }
        K[l] = s;
    }
    free(z);
    return PTD_OK;
}

/* Q_0(y) = y, Q_k(y) = (P_{k+1}(y) - P_{k-1}(y))/(2k+1): the integral of P_k from -1. */
static double legs_Q(size_t k, double y)
{
    if (k == 0) return y + 1; /* the constant drops out of differences; y + 1 keeps Q_0(-1) = 0 */
    return (gsl_sf_legendre_Pl((int)k + 1, y) - gsl_sf_legendre_Pl((int)k - 1, y)) / (2.0 * (double)k + 1);
}

int ptd_ssm_legs_zoh_state(size_t n, double dt, size_t l, double *x)
{
    ptd_clear_error();
    if (!(dt > 0) || !isfinite(dt)) return ptd_error(PTD_EINVAL, "ptd_ssm_legs_zoh_state: dt must be > 0 (got %g)", dt);
    if (n > 100000) return ptd_error(PTD_EINVAL, "ptd_ssm_legs_zoh_state: n = %zu is too large", n);
    double y0 = 2 * exp(-(double)l * dt) - 1, y1 = 2 * exp(-(double)(l + 1) * dt) - 1;
    for (size_t k = 0; k < n; k++)
        x[k] = sqrt(2.0 * (double)k + 1) / 2 * (legs_Q(k, y0) - legs_Q(k, y1));
    return PTD_OK;
}
