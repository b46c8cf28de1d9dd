/* pspec.h - the pspec tool as a function, shared by pspec and pspec-mpi: the same options,
 * summary and files, with the grid evaluation left to a driver (MPI ranks, say). */
#ifndef PTD_PSPEC_TOOL_H
#define PTD_PSPEC_TOOL_H

#include <stddef.h>

#include "ptd.h"

typedef struct {
    /* Computes the grid in ptd_pspec_grid_compute's place, with its contract (the same values
     * to the bit, *out allocated, a PTD status; opts->progress called now and then).  On
     * failure the one-line message goes into err (errlen bytes; left empty: the library's
     * last error).  NULL: ptd_pspec_grid_compute. */
    int (*grid)(void *ctx, const ptd_pspec_plan *p, const ptd_box *box, size_t nx, size_t ny,
                const ptd_pspec_opts *opts, ptd_pspec_grid **out, char *err, size_t errlen);
    void *ctx;
    /* One more provenance line for the output's header (NULL: none). */
    const char *note;
    /* One more summary line, read after the grid (NULL or empty: none). */
    const char *summary;
    /* Processes that share the grid (0 or 1: this one alone), for the long-run notice. */
    int ranks;
} pspec_driver;

/* --sparse K (bin/pspec-sparse.c) */
#define PSPEC_CONVDIFF_N 2025  /* convdiff's default order, m = 45 */
#define PSPEC_CONVDIFF_MMIN 25 /* the cell Peclet number h / (2 nu) below 1 */
#define PSPEC_CONVDIFF_MMAX 3000
#define PSPEC_SPARSE_KMAX 4000 /* Arnoldi steps: the (K+1) x K projection is dense */
typedef struct {
    ptd_csr *A;
    size_t k, steps;  /* steps asked and taken (fewer on breakdown) */
    ptd_matrix *H;    /* (steps + 1) x steps */
    double norm_fro;  /* ||A||_F */
    double resid;     /* ||A V_k - V_{k+1} H~||_F, measured */
    double orth;      /* ||V^* V - I||_F, measured (V_k alone when H~'s last row is 0) */
    double seconds, seconds_check; /* Arnoldi; the two measurements */
} pspec_sparse;
/* MATRIX as CSR: convdiff (-n m^2, default PSPEC_CONVDIFF_N; *side = m), file:PATH or - (a
 * coordinate file, never densified), or a zoo name (built dense, then its nonzeros).  Usage
 * errors and failures exit as every tool does. */
ptd_csr *pspec_sparse_matrix(const char *spec, size_t n, int n_given, unsigned long seed, size_t *side);
/* convdiff as a dense matrix (n <= PTD_ZOO_MAX_N; *side = m), for pspec without --sparse. */
ptd_system *pspec_convdiff_dense(size_t n, int n_given, size_t *side);
/* Arnoldi's flops, for the long-run notice: k steps, the residual and the Gram matrix. */
double pspec_sparse_flops(const ptd_csr *A, size_t k);
/* k steps from the seeded start, then the residual and orthogonality measured (s->A set). */
void pspec_sparse_arnoldi(pspec_sparse *s, size_t k, unsigned long seed);
/* How far sigma_min(zI - A) may exceed a value sigma of the projection: the upper bound is
 * sigma + slack (from the measured residual and orthogonality). */
double pspec_sparse_slack(const pspec_sparse *s, double sigma);

/* pspec's main (argv[0] names the program in messages); drv NULL is pspec itself.  Returns
 * the exit status, or exits with it (usage errors, failures) as every tool does. */
int pspec_run(int argc, char **argv, const pspec_driver *drv);

#endif
