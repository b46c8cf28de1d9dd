/* ptd.h - libptd: pseudospectra and perturb-then-diagonalize for non-normal matrices.
 *
 * Ownership: every object is created by a ptd_*_alloc / _create / _make / _read call
 * and released by the matching ptd_*_free, which accepts NULL; the library never frees
 * what the caller passes in and never keeps a pointer to it beyond the call (plans keep
 * their own copies).  Functions that can fail return an int status from enum ptd_status
 * (PTD_OK is 0) and write their result through an output pointer; on failure the output
 * is left NULL and ptd_last_error() holds a one-line message naming what went wrong.
 *
 * Matrices are dense, complex double, column-major.  All functions are thread-safe on
 * distinct objects; plans are read-only after creation and may be shared by threads.
 */
#ifndef PTD_H
#define PTD_H

#include <stddef.h>
#include <stdio.h>

/* The complex type of every complex number the library takes or gives: C99's double complex
 * in C and std::complex<double> in C++, which the two standards lay out alike (an array of
 * two doubles, real part first) and the x86-64 and AArch64 calling conventions pass and
 * return alike, so a C++ program includes this header and links the library as it is
 * (tests/test_cxx.cpp). */
#ifdef __cplusplus
#include <complex>
typedef std::complex<double> ptd_complex;
#if defined __clang__
/* ptd_tf_eval1 and ptd_tf_legs_closed return a complex by value: C-compatible, as above */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wreturn-type-c-linkage"
#endif
extern "C" {
#else
#include <complex.h>
typedef double complex ptd_complex;
#endif

/* ------------------------------------------------------------------------------------ */
/* status                                                                                 */
/* ------------------------------------------------------------------------------------ */

enum ptd_status {
    PTD_OK = 0,
    PTD_EINVAL,    /* invalid argument (size, NaN, negative tolerance, ...) */
    PTD_ENOMEM,    /* allocation failed */
    PTD_ENOTFOUND, /* unknown matrix name */
    PTD_EFORMAT,   /* malformed input file */
    PTD_EIO,       /* read or write failed */
    PTD_ELAPACK,   /* LAPACK reported an illegal argument, an exactly singular matrix or
                      an iteration that failed to converge */
    PTD_ENOCONV,   /* an iteration did not converge within its limit */
    PTD_ERANGE,    /* a value over- or underflowed the double range */
    PTD_EEXTERN    /* an external program (gnuplot) failed or is missing */
};

/* Short description of a status code ("invalid argument", ...).  Never NULL. */
const char *ptd_strerror(int status);

/* The message recorded by the last failing call in this thread: one line, no newline.
 * Empty string when nothing failed.  Valid until the next libptd call in this thread. */
const char *ptd_last_error(void);

/* How many significant digits of v an absolute error err supports: the last digit printed is
 * the first one err reaches, 1 at least (a value below its error is rounding: one digit says
 * so), 17 at most (err = 0: exact), 6 when err is not finite.  For "%.*g". */
int ptd_digits(double v, double err);

/* Threads for what the library runs in parallel: its OpenMP loops (grids, transfer functions,
 * training) and OpenBLAS's own threads inside LAPACK.  threads >= 1; 0 restores the defaults
 * (OpenMP's and OpenBLAS's, all cores unless OMP_NUM_THREADS / OPENBLAS_NUM_THREADS say
 * otherwise).  A process-wide setting: call it before the work, from one thread.  Options
 * that take a thread count (ptd_pspec_opts.threads, ...) still decide for their call. */
void ptd_set_threads(int threads);

/* Library version, "MAJOR.MINOR.PATCH". */
const char *ptd_version(void);

/* Switch GSL's abort-on-error handler off (libptd maps GSL errors onto statuses).
 * Tools call this first; calling it more than once is harmless. */
void ptd_init(void);

/* ------------------------------------------------------------------------------------ */
/* matrix: dense complex column-major matrices                                            */
/* ------------------------------------------------------------------------------------ */

typedef struct {
    size_t rows, cols;
    ptd_complex *data; /* element (i, j) at data[i + j * rows] */
} ptd_matrix;

#define PTD_AT(M, i, j) ((M)->data[(size_t)(i) + (size_t)(j) * (M)->rows])

/* A rows x cols matrix of zeros, or NULL when out of memory or rows*cols overflows. */
ptd_matrix *ptd_matrix_alloc(size_t rows, size_t cols);
void ptd_matrix_free(ptd_matrix *m);
ptd_matrix *ptd_matrix_copy(const ptd_matrix *m);

/* Largest singular value (LAPACK zgesvd on a copy; O(n^3), allocates).  PTD_EINVAL when an
 * entry is not finite. */
int ptd_matrix_norm2(const ptd_matrix *m, double *norm);
/* Frobenius norm, overflow-safe.  O(rows cols). */
double ptd_matrix_norm_fro(const ptd_matrix *m);
/* 1 when every entry strictly below (upper) / above (lower) the diagonal is exactly 0. */
int ptd_matrix_is_upper(const ptd_matrix *m);
int ptd_matrix_is_lower(const ptd_matrix *m);
/* 1 when every entry is finite. */
int ptd_matrix_is_finite(const ptd_matrix *m);

/* Matrix Market: read a coordinate or array file (real, integer, complex or pattern;
 * general, symmetric, skew-symmetric or hermitian).  `name` is used in messages
 * ("a.mtx:12: expected 3 numbers").  A malformed file gives PTD_EFORMAT with the line
 * number and the reason in ptd_last_error(). */
int ptd_mm_read(FILE *f, const char *name, ptd_matrix **out);
/* Write `m` as a complex general array file, every entry to 17 significant digits, so
 * that ptd_mm_read gives back the same matrix bit for bit. */
int ptd_mm_write(FILE *f, const ptd_matrix *m);

/* ------------------------------------------------------------------------------------ */
/* zoo: named matrices and state-space systems                                            */
/* ------------------------------------------------------------------------------------ */

typedef struct {
    char name[64];  /* the name it was made from, e.g. "hippo-legs" or "file:a.mtx" */
    size_t n;       /* order of A (its columns) */
    ptd_matrix *A;  /* n x n (m x n, m > n, only from ptd_zoo_make_rect) */
    ptd_matrix *B;  /* n x 1 input vector, or NULL when the matrix has none */
    ptd_matrix *P;  /* n x r rank correction with A + P P^T normal, or NULL */
} ptd_system;

/* Largest order the zoo builds (memory: 16 n^2 bytes per copy). */
#define PTD_ZOO_MAX_N 8192

/* Build a named matrix of order n.  `spec` is a name from the list below, "file:PATH"
 * (a Matrix Market file; n is then ignored and taken from the file) or "-" (Matrix
 * Market on standard input).  `seed` drives the random matrices (ginibre, randtri).
 * Unknown names give PTD_ENOTFOUND; n == 0 or n > PTD_ZOO_MAX_N gives PTD_EINVAL; a
 * file matrix that is not square gives PTD_EFORMAT. */
int ptd_zoo_make(const char *spec, size_t n, unsigned long seed, ptd_system **out);
/* As ptd_zoo_make, but a file matrix may also be m x n with m > n (for ptd_pspec_plan_create's
 * rectangular pseudospectra): then s->A is m x n and s->n = n, its columns. */
int ptd_zoo_make_rect(const char *spec, size_t n, unsigned long seed, ptd_system **out);
void ptd_system_free(ptd_system *s);

/* The catalogue: number of names, the i-th name, and its one-line definition. */
size_t ptd_zoo_count(void);
const char *ptd_zoo_name(size_t i);
const char *ptd_zoo_describe(size_t i);
/* 1 if n is a valid order for the named matrix (e.g. hippo-fout needs n even). */
int ptd_zoo_valid_n(const char *name, size_t n);

/* ------------------------------------------------------------------------------------ */
/* pspec: epsilon-pseudospectra                                                           */
/* ------------------------------------------------------------------------------------ */

/* A plan holds A, its complex Schur form A = Q T Q^* (T upper triangular) and the
 * data every evaluation shares.  Read-only once created; share it between threads.
 * A triangular A is used as its own Schur form (upper as is, lower after reversing the
 * index order, a permutation): no rounding at all, so sigma_min stays accurate far below
 * u ||A||.  Otherwise LAPACK zgees (no balancing: balancing is not unitary).
 *
 * Rectangular A (m x n, m > n; an Arnoldi Hessenberg H~ is (k+1) x k): the pseudospectra are
 * those of the pencil zI~ - A, I~ = [I; 0] the first n columns of the m x m identity:
 * sigma_min(zI~ - A) in every function that takes a plan.  The plan reduces A once (the
 * Schur form A1 = U T U^* of its top n x n block A1, and the QR factor R2 of the rest times U,
 * min(m - n, n) rows); a point then costs a QR of [T - zI; R2] (O(min(m - n, n) n^2), LAPACK
 * ztpqrt2) and inverse Lanczos on its triangular factor.  Grids evaluate rectangular points
 * one at a time (the multi-shift solves need one T for every shift).  Since
 * sigma_min(zI~ - A) >= sigma_min(zI - A1), the eps-pseudospectra of A lie inside those of A1;
 * they may be empty (for eps below sigma_min of the last m - n rows), and need not contain
 * A1's eigenvalues, which ptd_pspec_plan_eigenvalues gives (Arnoldi: the Ritz values).  Not
 * for rectangular plans (PTD_EINVAL): pseudomodes, abscissa, radius, distance to
 * instability, level crossings, tracing, sigma_grad. */
typedef struct ptd_pspec_plan ptd_pspec_plan;
/* Per-thread scratch space for evaluations; one per thread, never shared. */
typedef struct ptd_pspec_work ptd_pspec_work;

typedef enum {
    PTD_PSPEC_LANCZOS = 0, /* inverse Lanczos on the triangular factor, O(n^2) per point; grids
                              solve a block of points at once (multi-shift) and start each point
                              from its row neighbour's vector */
    PTD_PSPEC_SVD = 1,     /* dense SVD of zI - A, O(n^3) per point, for verification */
    PTD_PSPEC_LANCZOS_SINGLE = 2 /* inverse Lanczos one point at a time, two ztrsv a step, from a
                              fixed start: the reference the multi-shift grids are tested against */
} ptd_pspec_method;

/* Cost O(n^3) for the Schur form unless A is triangular; ||A||_2 by Lanczos on A^* A,
 * O(n^2) a step (a dense SVD only when that does not settle).  A is n x n, or m x n with
 * m > n (see above); fewer rows than columns is PTD_EINVAL. */
int ptd_pspec_plan_create(const ptd_matrix *A, ptd_pspec_plan **out);
void ptd_pspec_plan_free(ptd_pspec_plan *p);
/* n, the columns of A (the order of the vectors, the number of eigenvalues). */
size_t ptd_pspec_plan_order(const ptd_pspec_plan *p);
/* m, the rows of A: the order for a square plan, more for a rectangular one. */
size_t ptd_pspec_plan_rows(const ptd_pspec_plan *p);
/* 1 when the Schur form is exact (A was triangular). */
int ptd_pspec_plan_exact(const ptd_pspec_plan *p);
/* ||A||_2, computed when the plan was made. */
double ptd_pspec_plan_norm2(const ptd_pspec_plan *p);
/* The eigenvalues, diag(T); an array of n owned by the plan (rectangular: those of the top
 * n x n block). */
const ptd_complex *ptd_pspec_plan_eigenvalues(const ptd_pspec_plan *p);
/* Rounding floor: sigma_min values below it are not resolved by the plan's data.
 * m u ||A||_2 for a computed Schur form (m = n unless rectangular); 0 for an exact one, where each point carries its
 * own componentwise error estimate instead (ptd_pspec_point.err). */
double ptd_pspec_plan_floor(const ptd_pspec_plan *p);

/* A plan as bytes, to be sent to another process (pspec-mpi broadcasts rank 0's plan): the
 * matrix, the Schur form and the start vector exactly as this plan holds them, so that a
 * plan imported elsewhere gives bit for bit the values this one gives, whatever BLAS kernel
 * that process runs (it never recomputes the Schur form).  *buf is malloc'd (free it), *len
 * is 16 (m n + n^2 + n + k2 n) + 64 bytes, k2 = min(m - n, n).  The format is this build's: same library version and byte
 * order on both sides (import checks both). */
int ptd_pspec_plan_export(const ptd_pspec_plan *p, void **buf, size_t *len);
/* The plan of ptd_pspec_plan_export's bytes.  The header is checked against len before
 * anything is allocated; a wrong size, version, byte order, a non-finite entry or a Schur
 * factor that is not upper triangular is PTD_EFORMAT. */
int ptd_pspec_plan_import(const void *buf, size_t len, ptd_pspec_plan **out);

ptd_pspec_work *ptd_pspec_work_alloc(const ptd_pspec_plan *p);
void ptd_pspec_work_free(ptd_pspec_work *w);

typedef struct {
    double sigma;      /* sigma_min(zI - A) */
    double err;        /* estimated absolute error of sigma (rounding); sigma < err means
                          "below the rounding floor": only an upper bound */
    unsigned iterations; /* Lanczos steps taken (0 for SVD or an exactly singular zI - T) */
} ptd_pspec_point;

/* Options for evaluations; zero-initialise and set what you need. */
typedef struct {
    ptd_pspec_method method;
    double tol;           /* Lanczos stops when its error bound on theta = sigma^-2 is below tol
                             (relative; sigma's is half that); 0 (the default): when the
                             iteration's error is a quarter of the rounding error, so that every
                             digit err allows is right */
    unsigned maxit;       /* Lanczos step limit; 0 means min(n, 200) */
    int threads;          /* grid threads; 0 means all OpenMP threads */
    unsigned block;       /* multi-shift grids: points solved together per thread, rounded up to a
                             multiple of 12 (0: 24, fewer for large n); changes no value */
    /* Called by one thread now and then during a grid: done of total points. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
} ptd_pspec_opts;

/* sigma_min(zI - A) at one point, by the one-point method for either Lanczos method.  Never
 * allocates; `w` must come from this plan.
 * Inverse Lanczos: PTD_ENOCONV if maxit steps did not meet tol (the result then holds
 * the best estimate so far).  PTD_EINVAL for a non-finite z, tol outside [0, 1) or an
 * unknown method.  opts may be NULL (Lanczos, defaults). */
int ptd_pspec_sigma_min(const ptd_pspec_plan *p, ptd_pspec_work *w, ptd_complex z,
                        const ptd_pspec_opts *opts, ptd_pspec_point *res);

/* ptd_pspec_sigma_min by the one-point inverse Lanczos (any Lanczos method; SVD gives no
 * gradient), and the gradient of sigma_min(zI - A) in z = x + iy:
 * *grad = d sigma/dx + i d sigma/dy = v^* u = (z - v^* T v) / sigma, with v the unit Ritz
 * vector (right singular vector of zI - T) and u = (zI - T) v / sigma (docs/mathematics.md
 * section 2, "Tracing").  |*grad| <= 1 (sigma_min is 1-Lipschitz).  *grad = 0 where it is not
 * defined (sigma = 0, or method SVD).  Status as ptd_pspec_sigma_min; O(n^2) beyond it. */
int ptd_pspec_sigma_grad(const ptd_pspec_plan *p, ptd_pspec_work *w, ptd_complex z,
                         const ptd_pspec_opts *opts, ptd_pspec_point *res, ptd_complex *grad);

/* What ptd_pspec_mode found besides the vectors. */
typedef struct {
    double sigma;          /* sigma_min(zI - A) (the one-point value, as ptd_pspec_sigma_min) */
    double sigma_err;      /* its error estimate */
    double residual;       /* ||(zI - A) v - sigma u||_2, computed in double from A: at least
                              the rounding of the product, about n u ||A|| */
    double gap;            /* exact plans: sigma over the inverse iteration's convergence factor's
                              estimate of the next singular value (0: not estimated); SVD: the
                              second smallest singular value */
    unsigned iterations;   /* inverse iterations (0 for the SVD) */
    int exact;             /* 1: by inverse iteration on the exact triangular Schur form, the
                              vector's components accurate to a few n u relative each, however
                              small sigma is; 0: by a dense SVD of zI - A (zgesvd), accurate to
                              about n u ||A|| / gap in angle */
} ptd_pspec_mode_info;

/* The pseudomode at z (EigTool's button): unit vectors v, u (n each, the caller's) with
 * (zI - A) v = sigma u and (zI - A)^* u = sigma v, sigma = sigma_min(zI - A): v is the
 * pseudoeigenvector, ||(A - zI) v|| = sigma.  On an exact plan, inverse iteration with the
 * two triangular solves (started from the one-point Lanczos Ritz vector, until v moves by
 * less than 4 n u; at most 50 steps); else the SVD of zI - A, O(n^3).  PTD_EINVAL for a
 * non-finite z, or a z where zI - T is exactly singular (an eigenvalue of the exact plan);
 * PTD_ENOCONV when inverse iteration did not settle (then v, u hold the last step). */
int ptd_pspec_mode(const ptd_pspec_plan *p, ptd_complex z, ptd_complex *v, ptd_complex *u, ptd_pspec_mode_info *info);

typedef struct {
    double xmin, xmax, ymin, ymax;
} ptd_box;

/* A grid of sigma_min values.  Points include the edges of the box:
 * x_i = xmin + i (xmax - xmin)/(nx - 1), y_j likewise; value (i, j) at index i + j nx. */
typedef struct {
    size_t nx, ny;
    ptd_box box;
    double *sigma;        /* nx ny values */
    double *err;          /* nx ny error estimates, as in ptd_pspec_point */
    unsigned long iterations; /* total Lanczos steps */
    unsigned max_iterations;
    size_t unconverged;   /* points that hit maxit */
    int threads;          /* threads used */
    double seconds;       /* wall time */
} ptd_pspec_grid;

double ptd_pspec_grid_x(const ptd_pspec_grid *g, size_t i);
double ptd_pspec_grid_y(const ptd_pspec_grid *g, size_t j);

/* Evaluate sigma_min on an nx x ny grid over `box` (nx, ny >= 2, at most 1e8 points), in
 * parallel.  The values do not depend on the thread count nor on opts->block (bit for bit);
 * those of PTD_PSPEC_LANCZOS agree with PTD_PSPEC_LANCZOS_SINGLE's within the two errors.
 * Allocates the grid and one workspace per thread.  Points that hit maxit are counted in `unconverged`, not errors.
 * While it runs, OpenBLAS is set to one thread (a process-wide setting, restored after):
 * do not run two grids or auto boxes at once from different threads of one program. */
int ptd_pspec_grid_compute(const ptd_pspec_plan *p, const ptd_box *box, size_t nx,
                           size_t ny, const ptd_pspec_opts *opts, ptd_pspec_grid **out);
void ptd_pspec_grid_free(ptd_pspec_grid *g);

/* A grid over `box` (checked as by ptd_pspec_grid_compute) with every value and error 0 and
 * no statistics: for a caller that fills it with ptd_pspec_grid_rows, by parts (one process
 * of many, say).  Free with ptd_pspec_grid_free. */
int ptd_pspec_grid_create(const ptd_box *box, size_t nx, size_t ny, ptd_pspec_grid **out);

/* Statistics of ptd_pspec_grid_rows, accumulated: iterations and unconverged are added to,
 * max_iterations raised.  Zero-initialise before the first call. */
typedef struct {
    unsigned long iterations;
    unsigned max_iterations;
    size_t unconverged;
} ptd_pspec_grid_stats;

/* Rows j0 .. j1 - 1 (0 <= j0 < j1 <= ny) of the nx x ny grid over `box`: sigma[i + (j - j0) nx]
 * and err[...] (nx (j1 - j0) each) get, bit for bit, the values ptd_pspec_grid_compute gives
 * those points, whatever other rows are computed, where and in what order (a row is
 * independent work: docs/mathematics.md section 2).  For distributing a grid (pspec-mpi);
 * stats may be NULL.  The same threads, BLAS and progress behaviour as ptd_pspec_grid_compute
 * (progress counts the points of these rows). */
int ptd_pspec_grid_rows(const ptd_pspec_plan *p, const ptd_box *box, size_t nx, size_t ny, size_t j0, size_t j1,
                        const ptd_pspec_opts *opts, double *sigma, double *err, ptd_pspec_grid_stats *stats);

/* A box that encloses the whole eps_max-pseudospectrum (eps_max = largest of eps[]):
 * starting from the eigenvalues, grow each side while sigma_min <= eps_max somewhere on
 * that side (sampled at the spacing of an nx x ny grid), never beyond the enclosure
 * rectangle that holds W(A) + eps_max (W the numerical range), then add a margin, keep
 * the box no narrower than half its height (and the reverse), and make it symmetric about
 * the real axis for a real A.  The grid computed on the returned box has
 * sigma_min > eps_max on its whole border.  PTD_ENOCONV if that does not settle in 8
 * rounds (then give a box). */
int ptd_pspec_auto_box(const ptd_pspec_plan *p, const double *eps, size_t neps, size_t nx,
                       size_t ny, const ptd_pspec_opts *opts, ptd_box *box);

/* The largest Re z and |z| over grid points with sigma_min <= eps (the values
 * ptd_pspec_grid_bound turns into bounds that hold; these alone are neither).  Not a status: returns 1 when some grid point is
 * inside the eps-pseudospectrum, else 0 with both set to NAN. */
int ptd_pspec_grid_estimates(const ptd_pspec_grid *g, double eps, double *abscissa,
                             double *radius);

/* What a grid proves about the eps-pseudospectrum (eps absolute), using only that sigma_min
 * is 1-Lipschitz in z, that |computed - true| <= err at each point, and that the disc of
 * radius eps about each eigenvalue lies in it (every component of it holding an eigenvalue):
 *   abscissa_lo = max(alpha + eps, Re z over points with sigma + err <= eps), and likewise
 *   radius_lo; both are attained values (lower bounds, to the plan's rounding floor);
 *   contained = 1 when every eigenvalue is inside the box and every border point has
 *   sigma - err > eps + half the border spacing: the level set then does not meet the border,
 *   so the pseudospectrum lies in the box; only then are the upper bounds finite:
 *   abscissa_hi = max Re z + hx/2 and radius_hi = max |z| + hypot(hx, hy)/2 over points with
 *   sigma - err <= eps + hypot(hx, hy)/2 (every point of the set is that near such a point);
 *   otherwise both are INFINITY.
 * missed counts the eigenvalues that no grid eps-contour encloses: outside the box, or where
 * the bilinear interpolant of log10 sigma_min over the grid cell exceeds log10 eps (the
 * component is narrower than the grid spacing there).  eig holds neig eigenvalues (the
 * plan's).  O(nx ny + neig); never fails for a computed grid (PTD_EINVAL for bad input). */
typedef struct {
    double abscissa_lo, abscissa_hi;
    double radius_lo, radius_hi;
    int contained;
    size_t missed;        /* eigenvalues in no grid contour */
    size_t outside;       /* of those, the ones outside the box */
} ptd_pspec_grid_bounds;

int ptd_pspec_grid_bound(const ptd_pspec_grid *g, double eps, const ptd_complex *eig, size_t neig,
                         ptd_pspec_grid_bounds *out);
/* Per eigenvalue, what ptd_pspec_grid_bound counts in `missed`: flags[q] = 0 when a drawn
 * eps-contour encloses eig[q], 1 when the grid cannot see its component (interpolated values
 * above eps in its cell), 2 when it lies outside the box (flags may be NULL).  Returns how
 * many are missed. */
size_t ptd_pspec_grid_missed(const ptd_pspec_grid *g, double eps, const ptd_complex *eig, size_t neig,
                             unsigned char *flags);

/* Level-curve tracing (lib/trace.c; docs/mathematics.md section 2, "Tracing"): every
 * component of the eps-level set, however small, as a closed polyline, without a grid. */
typedef struct {
    size_t nv;             /* vertices; a closed curve ends with a copy of its first vertex */
    ptd_complex *z;        /* nv points of the curve */
    double *sigma, *err;   /* sigma_min(zI - A) at each, with its error estimate (as a grid's) */
    int closed;            /* 1: the curve closed; 0: it was given up (max_vertices reached, or
                              the step fell below its floor): an open polyline, said so */
    int rays;              /* 1: a component only a few hundred roundings of z across (no
                              double precision path follows it): the polygon of its points on
                              16 rays from the eigenvalue, each on the level set */
    int hole;              /* 1: traversed clockwise (negative area): the inner boundary of a
                              hole of the level set, which holds no eigenvalue */
    size_t start;          /* the eigenvalue (index into ptd_pspec_plan_eigenvalues) traced from */
    size_t neig;           /* eigenvalues enclosed (winding number != 0 about the closed curve) */
    size_t *eig;           /* their indices */
    double area;           /* the enclosed (signed) area, by the shoelace formula */
    double rmin, rmax;     /* min and max |z - lambda_start| over the vertices */
    int near_disc;         /* 1: one eigenvalue, rmax <= 1.1 rmin: a near-disc of radius about
                              eps kappa(lambda) (first order), so kappa(lambda) ~ radius / eps */
    double radius;         /* (rmin + rmax) / 2 */
} ptd_pspec_curve;

typedef struct {
    double eps;
    double tol;            /* relative vertex tolerance: |sigma - eps| <= max(tol eps, 4 err,
                              4 u |z| |grad sigma|) */
    size_t ncurves;
    ptd_pspec_curve *curves;
    size_t components;     /* closed curves that are not holes */
    size_t unclosed;       /* curves given up (closed = 0) */
    size_t missed;         /* eigenvalues enclosed by no closed curve (their start failed) */
    unsigned long evaluations; /* sigma_min evaluations, with the ray searches */
    double seconds;
} ptd_pspec_trace_result;

typedef struct {
    size_t max_vertices;   /* per curve (0: 20000) */
    double max_turn;       /* radians the normal may turn between vertices (0: 0.1) */
    double tol;            /* relative vertex tolerance (0: 1e-10) */
    const unsigned char *starts; /* n flags: start only from the eigenvalues flagged nonzero
                              (e.g. those a grid misses, ptd_pspec_grid_missed); NULL: all.
                              Unflagged ones count as done (not in `missed`). */
} ptd_pspec_trace_opts;

/* Trace the eps-level set { z : sigma_min(zI - A) = eps } (eps absolute, above the plan's
 * rounding floor): from every eigenvalue not yet enclosed by a traced curve, find the level
 * set along a ray (doubling, then Brent), follow it by a tangent predictor and a Newton
 * corrector along the gradient (d sigma/dx + i d sigma/dy = v^* u, the singular vectors from
 * inverse Lanczos), the step adapted to the turn of the normal, until it closes; then mark
 * the eigenvalues it encloses.  Every vertex meets |sigma - eps| <= max(tol eps, 4 err,
 * 4 u |z| |grad|) (the last: sigma's change when z is rounded).
 * Outer curves run counter-clockwise.  A curve that does not close is returned open and
 * counted (never dropped).  O(n^2) per evaluation on the plan's Schur form; no grid.
 * opts may be NULL.  Allocates *out (ptd_pspec_trace_free). */
int ptd_pspec_trace(const ptd_pspec_plan *p, double eps, const ptd_pspec_trace_opts *opts,
                    ptd_pspec_trace_result **out);
void ptd_pspec_trace_free(ptd_pspec_trace_result *r);

/* ------------------------------------------------------------------------------------ */
/* sparse: large sparse matrices (CSR), Arnoldi projection, sparse-LU reference            */
/* ------------------------------------------------------------------------------------ */

/* Compressed sparse rows: the entries of row i are val[rowptr[i] .. rowptr[i+1] - 1], in
 * columns colind[...], increasing, each position once. */
typedef struct {
    size_t rows, cols, nnz;
    size_t *rowptr; /* rows + 1 */
    size_t *colind; /* nnz */
    ptd_complex *val; /* nnz */
} ptd_csr;

/* Largest order ptd_csr_read accepts. */
#define PTD_CSR_MAX_N 10000000

/* A Matrix Market coordinate file (real, integer, complex or pattern; general, symmetric,
 * skew-symmetric or hermitian, mirrored) straight into CSR: memory O(entries), never
 * rows x cols; as strict as ptd_mm_read (errors name the file and line), a position given
 * twice, directly or as a mirror, is PTD_EFORMAT; an array file is PTD_EFORMAT. */
int ptd_csr_read(FILE *f, const char *name, ptd_csr **out);
void ptd_csr_free(ptd_csr *A);
/* The nonzero entries of a dense matrix. */
int ptd_csr_from_dense(const ptd_matrix *M, ptd_csr **out);
/* The dense matrix of A (zeros allocated: both sides at most PTD_ZOO_MAX_N, else PTD_EINVAL). */
int ptd_csr_to_dense(const ptd_csr *A, ptd_matrix **out);
/* y = A x (x: cols, y: rows entries). */
void ptd_csr_matvec(const ptd_csr *A, const ptd_complex *x, ptd_complex *y);
/* sqrt(sum |a_ij|^2) */
double ptd_csr_norm_fro(const ptd_csr *A);

/* The 2-D convection-diffusion operator nu (u_xx + u_yy) - u_x - u_y / 2 on the unit square,
 * nu = 0.02, zero Dirichlet boundary, m x m interior points (n = m^2, h = 1/(m+1)), five-point
 * Laplacian and central differences: I (x) T_x + T_y (x) I with T tridiagonal Toeplitz
 * (diagonal -2 nu/h^2, sub- and superdiagonal nu/h^2 +- w/(2h)), the unknowns numbered x
 * first.  Its eigenvalues are known exactly (ptd_csr_convdiff_eig); it is far from normal
 * (kappa(V) about ((1 + P)/(1 - P))^(m/2), P = h/(2 nu) the cell Peclet number, which must be
 * below 1: m >= 25).  m in 25..3000. */
int ptd_csr_convdiff(size_t m, ptd_csr **out);
/* Its eigenvalue (j, k), 1 <= j, k <= m: -4 nu/h^2 + 2 sqrt(b_x c_x) cos(j pi/(m+1)) +
 * 2 sqrt(b_y c_y) cos(k pi/(m+1)); j = k = 1 is the rightmost. */
double ptd_csr_convdiff_eig(size_t m, size_t j, size_t k);

/* k steps of Arnoldi with full reorthogonalisation (classical Gram-Schmidt twice) from a
 * seeded unit start vector (Gaussian, GSL's mt19937; real when A is, so that H~ is real too,
 * else complex): the (k+1) x k upper Hessenberg
 * H~ with A V_k = V_{k+1} H~, V_{k+1} orthonormal (n x (k+1), into *V when V is not NULL).
 * On breakdown at step j <= k (h_{j+1,j} below 4 n u ||A||_F: an invariant subspace, always at
 * j = n) it stops: H~ is (j+1) x j with its last row 0, *steps = j, and the last column of V is
 * a unit vector orthogonal to the others (0 when j = n).  For any unit y, ||(zI~ - H~) y|| = ||(zI - A) V_k y||, so
 * sigma_min(zI~ - H~) >= sigma_min(zI - A): each value of the projection is an upper bound
 * on A's, and the eps-pseudospectra of H~ (ptd_pspec_plan_create takes it) lie inside A's,
 * close to them near the eigenvalues Arnoldi has found.  Square A, 1 <= k <= n. */
int ptd_csr_arnoldi(const ptd_csr *A, size_t k, unsigned long seed, ptd_matrix **H, ptd_matrix **V, size_t *steps);

/* sigma_min(zI - A) of a square sparse A: a sparse LU factorization of zI - A (UMFPACK,
 * partial pivoting) and inverse Lanczos with full reorthogonalisation on
 * (zI - A)^{-1} (zI - A)^{-*}, from a fixed start, to a quarter of the rounding estimate
 * n u (sqrt(||A||_1 ||A||_inf) + |z|), the first term a bound on ||A||_2 (the error estimate err
 * assumes the LU backward stable, as its pivoting keeps it in practice); at most 300 steps (PTD_ENOCONV, with the estimate so far).  An
 * exactly singular zI - A gives sigma 0.  The reference the projection is tested against. */
int ptd_csr_sigma_min(const ptd_csr *A, ptd_complex z, ptd_pspec_point *res);

/* ------------------------------------------------------------------------------------ */
/* cond: eigendecompositions and conditioning                                             */
/* ------------------------------------------------------------------------------------ */

/* Condition numbers at or above this (1/u) are not resolved in double precision. */
#define PTD_KAPPA_UNRESOLVED 9.007199254740992e15

typedef struct {
    size_t n;
    ptd_complex *lambda;   /* eigenvalues, as LAPACK returns them */
    ptd_matrix *V;            /* right eigenvectors x_i, unit 2-norm columns */
    ptd_matrix *Y;            /* left eigenvectors y_i (y_i^* A = lambda_i y_i^*), unit columns */
    double *eig_cond;         /* kappa(lambda_i) = 1 / |y_i^* x_i| (infinite when y^* x = 0) */
    size_t eig_cond_unresolved; /* how many eig_cond are >= PTD_KAPPA_UNRESOLVED */
    double kappa_V;           /* kappa_2(V) = sigma_max(V) / sigma_min(V) */
    int kappa_V_resolved;     /* 0: kappa_V >= 1/u, only "at least 1/u" is known */
    double norm2, norm_fro;   /* ||A||_2, ||A||_F */
    double henrici;           /* departure from normality sqrt(||A||_F^2 - sum |lambda_i|^2) */
    double numerical_abscissa;/* lambda_max((A + A^*)/2) */
    double spectral_abscissa; /* max Re lambda_i */
} ptd_eig;

/* Eigendecomposition of a square A by LAPACK zgeevx with permutation balancing only
 * (scaling would change V), eigenvalue condition numbers, kappa_2(V) (by SVD), Henrici's
 * departure from normality and the numerical abscissa.  O(n^3); allocates. */
int ptd_cond_eig(const ptd_matrix *A, ptd_eig **out);
void ptd_eig_free(ptd_eig *e);
/* kappa_2(V) = sigma_max / sigma_min of any square V, by SVD (infinite if singular). */
int ptd_cond_kappa(const ptd_matrix *V, double *kappa);
/* lambda_max((A + A^*)/2), by zheev. */
int ptd_cond_numerical_abscissa(const ptd_matrix *A, double *omega);

/* Extended precision (MPFR) for a triangular A (upper, or lower after reversing the
 * index order): eigenvectors by back substitution, then kappa_2(V) and every eigenvalue
 * condition number, correct to `digits` significant digits.  The working precision is
 * chosen from the size of the answer (`bits` = 0) or given, and the result is confirmed by
 * repeating at a higher precision until two runs agree to `digits`.  A repeated eigenvalue
 * (equal diagonal entries) is decided exactly, in integer arithmetic, to be defective or not:
 * defective, its eig_cond are inf and so is kappa_V; semisimple, V holds an orthonormal basis
 * of its eigenspace (which makes kappa_V unique) and its eig_cond is the norm of its
 * spectral projector. */
typedef struct {
    size_t n;
    double kappa_V;            /* kappa_2(V), V with unit columns; inf if defective */
    double log10_kappa_V;      /* the same, usable beyond the double range */
    double *eig_cond;          /* n values, in the order of the diagonal of A */
    ptd_complex *lambda;    /* the eigenvalues: the diagonal of A */
    unsigned long bits;        /* the precision of the reported run (0: none was needed) */
    int digits;                /* significant digits on which the two last runs agreed */
    double seconds;
    size_t repeated;           /* eigenvalues, with multiplicity, that are not simple */
    size_t defective;          /* of those, how many belong to a defective eigenvalue */
    unsigned char *defective_at; /* n flags, diagonal order: 1 where the eigenvalue is defective */
} ptd_eig_mp;

/* PTD_EINVAL for a matrix that is not triangular ("extended precision needs a triangular
 * matrix"). */
int ptd_cond_mp(const ptd_matrix *A, unsigned long bits, int digits, ptd_eig_mp **out);
void ptd_eig_mp_free(ptd_eig_mp *e);

/* ------------------------------------------------------------------------------------ */
/* perturb: perturb-then-diagonalize (PTD)                                                */
/* ------------------------------------------------------------------------------------ */

typedef enum {
    PTD_OBJ_KAPPA = 0,  /* kappa_2(V(A+E)) + weight ||E||_2 (the paper's objective) */
    PTD_OBJ_KAPPA2_FRO  /* kappa_2(V(A+E))^2 + weight ||E||_F (the authors' code) */
} ptd_perturb_objective;

typedef enum {
    PTD_OPT_LBFGS = 0,  /* the default: L-BFGS on smooth surrogates of log kappa_2 with a
                           barrier for the size and a penalty for stability
                           (docs/mathematics.md section 9) */
    PTD_OPT_ADAM,       /* Adam on `objective` under the size, as the authors did */
    PTD_OPT_BFGS        /* GSL multimin vector BFGS on `objective` (no constraint: weight only) */
} ptd_perturb_optimizer;

struct ptd_ptd_s;

/* L-BFGS starts by default: from single starts, one seed in five fell into a local minimum
 * 20 to 30 % worse at n = 64 (real E) on every OpenBLAS kernel; see bench/bench_ptd [2] */
#define PTD_PERTURB_STARTS 3

typedef struct {
    ptd_perturb_objective objective; /* Adam and BFGS only */
    ptd_perturb_optimizer optimizer;
    double weight;        /* Adam, BFGS: gamma or lambda in the objective (0: kappa alone) */
    double max_rel;       /* the size: ||E||_2 <= max_rel ||A||_2 (L-BFGS: < ; Adam: kept by
                             projection, singular values clipped); 0 = no constraint (BFGS) */
    unsigned steps;       /* L-BFGS: iterations over all phases, per start (0 = 1200);
                             Adam, BFGS: steps (0 = 3000) */
    double lr;            /* Adam learning rate, cosine-decayed to lr/100; 0 = 1.5 u_A with
                             u_A = ||A||_2 / (20 n) (u_A is about 1 for LegS n = 32) */
    unsigned long seed;   /* the starting E */
    double start_scale;   /* Adam, BFGS: entries of the start E are U[0, s) + i U[0, s);
                             0 = 0.1 u_A (the authors' 0.1 for LegS n = 32) */
    void (*progress)(void *ctx, unsigned step, unsigned steps, double kappa, double rel_E);
    void *progress_ctx;
    int real;             /* L-BFGS: a real E (A must be real): n^2 variables, the spectrum
                             of A + E closed under conjugation */
    double margin;        /* L-BFGS: keep every Re lambda(A + E) <= -margin (the point
                             returned meets it whenever one evaluated did); 0 = half the
                             distance of A's spectral abscissa to 0 when A is stable, else
                             none; < 0 = none */
    unsigned starts;      /* L-BFGS: starts, the best kept (0 = PTD_PERTURB_STARTS); with
                             a start E, it is the first of them */
    const ptd_matrix *start; /* a start E instead of the first random one (NULL: none) */
    /* ptd_perturb_optimize_path: called after size i of k with its result and the seconds
     * since the path began (ctx: progress_ctx) */
    void (*size_done)(void *ctx, size_t i, size_t k, const struct ptd_ptd_s *p, double seconds);
} ptd_perturb_opts;

/* A diagonalization of A + E: the PTD system (Lambda, V^{-1} B, C V). */
typedef struct ptd_ptd_s {
    size_t n;
    ptd_matrix *E;             /* the perturbation */
    ptd_complex *lambda;    /* eigenvalues of A + E, real parts reflected to <= 0 */
    size_t reflected;          /* how many had a positive real part */
    ptd_matrix *V, *Vinv;      /* unit-column eigenvectors of A + E and the inverse */
    ptd_matrix *Btilde;        /* V^{-1} B (n x 1), or NULL */
    ptd_matrix *Ctilde;        /* C V (1 x n), or NULL */
    double norm_A, norm_E;     /* ||A||_2, ||E||_2 */
    double rel_E;              /* ||E||_2 / ||A||_2 */
    double backward_error;     /* ||A - V Lambda V^{-1}||_2 / ||A||_2 of the system returned
                                  (Lambda = lambda, reflected), measured, not assumed; NaN
                                  when loaded from a version-1 file with reflected > 0 */
    double kappa_V;
    unsigned steps;            /* optimiser steps taken (0 for random) */
    double seconds;
    double backward_error_unreflected; /* the same before the reflection: of the
                                  diagonalization of A + E, about rel_E */
    int real;                  /* A and E real, diagonalized in real arithmetic: lambda holds
                                  real eigenvalues and conjugate pairs (the one of positive
                                  imaginary part first), V's columns for a pair conjugate */
} ptd_ptd;

/* Diagonalize A + E for a given E (B and C may be NULL).  Fills every field. */
int ptd_perturb_diagonalize(const ptd_matrix *A, const ptd_matrix *E, const ptd_matrix *B,
                            const ptd_matrix *C, ptd_ptd **out);
/* Random PTD: complex Ginibre E scaled to ||E||_2 = rel ||A||_2, seeded. */
int ptd_perturb_random(const ptd_matrix *A, const ptd_matrix *B, const ptd_matrix *C,
                       double rel, unsigned long seed, ptd_ptd **out);
/* Optimised PTD: minimise kappa_2(V(A + E)) over E (complex, or real with opts->real) with
 * the analytic gradient of the eigenvectors (dV = V (F o (V^{-1} dE V)), F_ij =
 * 1/(l_j - l_i), then the column normalisation), by the method opts->optimizer (NULL opts:
 * an error, the size is needed).  Needs distinct eigenvalues of A + E along the way.  Cost:
 * O(n^3) per evaluation, about 1.6 evaluations per L-BFGS iteration; one BLAS thread. */
int ptd_perturb_optimize(const ptd_matrix *A, const ptd_matrix *B, const ptd_matrix *C,
                         const ptd_perturb_opts *opts, ptd_ptd **out);
/* The objective and its gradient with respect to E (dF = Re tr(G^* dE)), for tests and
 * callers with their own optimiser.  grad may be NULL. */
int ptd_perturb_objective_eval(const ptd_matrix *A, const ptd_matrix *E,
                               ptd_perturb_objective obj, double weight, double *f,
                               double *kappa, ptd_matrix *grad);
/* The default optimiser's objective (docs/mathematics.md section 9):
 *   phi(E) = log[(sum s_i^p)^(1/p) (sum s_i^-p)^(1/p)]  (s_i: singular values of V(A + E),
 *                                                       unit columns; p = 0: log kappa_2)
 *          - (mu/n) sum_i log(1 - sigma_i(E)^2 / r^2)    (sigma_i: of E; +inf when ||E|| >= r;
 *                                                       no term when r = 0)
 *          + (penalty/n) sum_j (max(0, Re lambda_j + margin) / margin)^2 */
typedef struct {
    double p, radius, mu, margin, penalty;
    int real;             /* A and E real: the gradient along real E only (Re of the complex
                             one), the eigen-system in real arithmetic */
} ptd_perturb_surrogate;
/* phi, kappa_2(V) and max Re lambda(A + E) at E and the gradient (dphi = Re tr(G^* dE)), grad
 * and the outputs but f may be NULL; phi = +inf (kappa, max_re NaN) outside the ball. */
int ptd_perturb_surrogate_eval(const ptd_matrix *A, const ptd_matrix *E, const ptd_perturb_surrogate *s,
                               double *f, double *kappa, double *max_re, ptd_matrix *grad);
/* The optimised PTD at the increasing sizes rel[0..k-1] (opts->max_rel ignored), each size
 * started from the previous one's E; out[i] is never worse conditioned than out[i - 1] (the
 * previous E is kept when the new one is worse): a monotone curve.  On failure every
 * out[i] is NULL. */
int ptd_perturb_optimize_path(const ptd_matrix *A, const ptd_matrix *B, const ptd_matrix *C,
                              const double *rel, size_t k, const ptd_perturb_opts *opts,
                              ptd_ptd **out);
void ptd_ptd_free(ptd_ptd *p);

/* ||A - V diag(lambda) V^{-1}||_2 / ||A||_2 of p against A (by SVD, O(n^3)): the backward
 * error of a loaded system against the matrix it is used for. */
int ptd_perturb_backward_error(const ptd_matrix *A, const ptd_ptd *p, double *berr);

/* Save and load a PTD system: a text format with a version line (see libptd(3)), every
 * number to 17 digits.  Saving writes version 2; loading reads versions 1 and 2 and rejects
 * a malformed file with PTD_EFORMAT and the line. */
int ptd_perturb_save(FILE *f, const ptd_ptd *p);
int ptd_perturb_load(FILE *f, const char *name, ptd_ptd **out);

/* PTD systems as MATLAB files (libmatio), the format the PTD authors' code reads
 * (scipy.io.loadmat): variables Lam (n x 1), V, Vinv (n x n, V diag(Lam) Vinv = A + E when
 * nothing was reflected), E, A (when given) and the scalars kappa, rel_E, backward_error,
 * reflected.  version: 5 (what scipy.io.loadmat reads) or 73 (v7.3, HDF5).  Written through
 * ptd_plot_write_file (a temporary beside the target, renamed). */
int ptd_perturb_save_mat(const char *path, const ptd_ptd *p, const ptd_matrix *A, int version);
/* Read a MAT file of PTD variables: Lam, V and Vinv are needed; E, A and reflected are
 * optional.  The system is measured against A (the caller's; else the file's; a file's A
 * must equal the caller's to 100 n u ||A||): E = V diag(Lam) Vinv - A when the file has none
 * (the authors' files), kappa_V, norm_E, rel_E and backward_error recomputed, never read;
 * V's columns scaled to unit norm when they are not (Vinv's rows inversely).  Btilde, Ctilde
 * from B, C when given (either may be NULL).  Every size is checked against PTD_ZOO_MAX_N
 * and the file's size before data is read; a malformed file is PTD_EFORMAT with a one-line
 * message naming the variable. */
int ptd_perturb_load_mat(const char *path, const ptd_matrix *A, const ptd_matrix *B,
                         const ptd_matrix *C, ptd_ptd **out);
/* 1 if the file at `path` begins with a MATLAB v5 or v7.3 header. */
int ptd_perturb_is_mat(const char *path);
/* A PTD file of either kind: MAT (by its header) through ptd_perturb_load_mat, else the text
 * format through ptd_perturb_load; Btilde, Ctilde filled from B, C when the file has none. */
int ptd_perturb_read(const char *path, const ptd_matrix *A, const ptd_matrix *B,
                     const ptd_matrix *C, ptd_ptd **out);
/* The order n of the system in a PTD file of either kind, without reading its data. */
int ptd_perturb_file_order(const char *path, size_t *n);
/* One line (no newline) on what p holds: n, kappa_2(V), ||E||/||A||, the backward error, the
 * range of Re lambda and how many are positive. */
int ptd_perturb_describe(const ptd_ptd *p, char *buf, size_t len);

/* ------------------------------------------------------------------------------------ */
/* plot: gnuplot scripts, data files, rendered images                                     */
/* ------------------------------------------------------------------------------------ */

/* Text in figures.  meta->title is plain text, shown as given (it may name a file: never
 * read as markup, escaped for LaTeX).  Axis labels and key titles (ptd_plot_axes,
 * ptd_plot_series, ptd_plot_curve, ptd_plot_overlay) are markup the caller writes for the
 * output: gnuplot enhanced text for .png/.svg/.pdf ("|v_k|", "σ_{min}", "10^{-3}"; a
 * literal _ ^ { } @ & ~ or backslash written with a backslash before it), LaTeX when
 * meta->latex ("$|v_k|$"). */
typedef struct {
    const char *title;          /* plot title, e.g. "hippo-legs, n = 64" */
    const char *command;        /* the command line that made the data (provenance) */
    const char *const *notes;   /* further "key: value" lines for the header, or NULL */
    size_t nnotes;
    int latex;                  /* 1: labels in LaTeX markup (cairolatex output) */
    double eps_unit;            /* pseudospectra: 0, or the norm the user's eps were relative
                                 * to (eps = e ||A||_2): the title, key and colour bar then
                                 * show e, as given, with "||A||_2"; the contours stay at eps */
} ptd_plot_meta;

/* Write a complete gnuplot script, data inline as datablocks: contour lines of
 * log10 sigma_min at log10 eps[k], eigenvalues as points, equal axis scales, labelled
 * axes, a title, and '#' provenance lines.  No terminal is set: pipe to gnuplot -p, or
 * use ptd_plot_render.  Values are written as log10(max(sigma, DBL_TRUE_MIN)): never inf
 * or nan. */
int ptd_plot_pspec_gnuplot(FILE *f, const ptd_pspec_grid *g, const double *eps,
                           size_t neps, const ptd_complex *eig, size_t neig,
                           const ptd_plot_meta *meta);
/* Data only: '#' header lines (command, version, parameters, "# columns: x y sigma_min err"),
 * then one line "x y sigma_min err" per grid point, a blank line after each grid row (fixed
 * y); sigma_min with the digits err supports (ptd_digits), err to two.  A grid without error
 * estimates (g->err NULL, made by hand) gives the three columns x y sigma_min, 17 digits. */
int ptd_plot_pspec_tsv(FILE *f, const ptd_pspec_grid *g, const ptd_plot_meta *meta);
/* Traced curves as data: '#' header lines (command, version, notes, one line per curve: its
 * eps, vertices, closed or OPEN, hole, start eigenvalue, eigenvalues enclosed, near-disc radius),
 * then "eps curve x y sigma_min err" per vertex (sigma_min with the digits err supports), a
 * blank line after each curve. */
int ptd_plot_trace_tsv(FILE *f, const ptd_pspec_trace_result *const *traces, size_t ntraces,
                       const ptd_plot_meta *meta);

/* x-y figures: one or more series, optional error bars, log axes, a reference line. */
typedef struct {
    const char *title;        /* key entry (NULL: none) */
    const double *x, *y;      /* n points; points with a non-finite value, or <= 0 on a log
                                 axis, are left out (and counted in a comment) */
    const double *ylo, *yhi;  /* error bar ends, or NULL */
    size_t n;
    const char *style;        /* "points" (open rings), "dots" (small filled dots, no line:
                                 drawn after a "points" series, each dot sits inside its
                                 ring where the two agree), "lines" or "linespoints" (NULL) */
    const char *colour;       /* "#rrggbb", or NULL for the next of a fixed sequence */
    int dashed;               /* 1: a dashed line (guides, fitted growth rates) */
} ptd_plot_series;

typedef struct {
    const char *xlabel, *ylabel;
    int logx, logy;
    double hline;             /* a horizontal reference line at y = hline (NAN: none) */
    const char *hline_label;
    const char *key;          /* where the key sits inside the plot: "top right" (NULL),
                                 "top left", "bottom left", "bottom right"; or "below" it */
    double ymax;              /* > 0: the top of the y range (what is above leaves the frame);
                                 0: automatic */
} ptd_plot_axes;

int ptd_plot_series_gnuplot(FILE *f, const ptd_plot_series *s, size_t ns, const ptd_plot_axes *ax,
                            const ptd_plot_meta *meta);
/* Grey images (0 white, 1 black) as a grid of panels: count images of h x w pixels, image k
 * row-major at img + k h w, row 0 at the top, titles[k] over each (titles may be NULL),
 * meta's title over all.  At most 64 images. */
int ptd_plot_images_gnuplot(FILE *f, const float *img, size_t count, size_t h, size_t w, const char *const *titles,
                            const ptd_plot_meta *meta);
/* A table: '#' provenance lines, "# columns: NAME ...", then nrows rows of ncols numbers
 * (row-major), %.17g.  Infinities are written as +-DBL_MAX; a NaN is refused (EINVAL):
 * a data set never holds inf or nan. */
int ptd_plot_table_tsv(FILE *f, const char *const *columns, size_t ncols, const double *rows,
                       size_t nrows, const ptd_plot_meta *meta);

/* Render a gnuplot script (text without a terminal) into `path`, the terminal chosen by
 * the extension: .png (pngcairo), .svg, .pdf (pdfcairo), .tex (cairolatex: path and its
 * companion .pdf beside it).  gnuplot runs in a temporary directory beside `path`; the
 * image is checked to be complete (PNG's IEND chunk, PDF's %%EOF, SVG's </svg>, the .tex's
 * closing \endgroup: gnuplot exits 0 after a failed write), synced and put in place as
 * ptd_plot_write_file puts a file, so a failure leaves nothing behind.  PTD_EEXTERN when
 * gnuplot is missing, fails or writes an incomplete image (its first error line in the
 * message); PTD_EIO when the image cannot be put in place; PTD_EINVAL for an unknown
 * extension.  Not thread-safe with fork() elsewhere in the program (it runs gnuplot). */
int ptd_plot_render(const char *script, const char *path);
/* 1 if `path` has an extension ptd_plot_render can draw. */
int ptd_plot_is_image(const char *path);
/* Write `len` bytes to `path` so that a reader sees the old file or the whole new one:
 * symbolic links are followed (the link stays, its target is written); a regular file or a
 * new path is written to a temporary file beside it, synced and renamed into place, an
 * existing file's mode (and, for root, owner) kept, a new one 0666 less the umask; a
 * device, FIFO or socket is written in place.  Every write error is PTD_EIO (ENOSPC from
 * /dev/full included), with no temporary file left. */
int ptd_plot_write_file(const char *path, const char *text, size_t len);

/* ------------------------------------------------------------------------------------ */
/* output: checks and clean-up shared by every file libptd writes (lib/output.c)          */
/* ------------------------------------------------------------------------------------ */

/* PTD_OK if `path` can be written as ptd_plot_write_file would write it (a device or FIFO:
 * the file itself is writable; anything else: its directory, links followed); PTD_EIO with
 * the reason otherwise, PTD_EINVAL for a NULL or empty path.  Creates nothing. */
int ptd_output_check(const char *path);
/* Install handlers for the signals that end a process from outside (SIGHUP, SIGINT,
 * SIGQUIT, SIGTERM, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2, SIGVTALRM, SIGXCPU, SIGXFSZ) that
 * kill and reap libptd's gnuplot children, remove its temporary files and directories, and
 * then die of the signal (the default action, so the exit status says so).  They work in
 * whichever thread the signal arrives.  A signal that is ignored, or has a handler, when this
 * is called is left alone.  For programs (the tools call it first); a library using libptd
 * should leave the choice to its program.  PTD_EINVAL if sigaction fails. */
int ptd_output_handle_signals(void);

/* ------------------------------------------------------------------------------------ */
/* pspec extremes: pseudospectral abscissa and radius by criss-cross (lib/crisscross.c)    */
/* ------------------------------------------------------------------------------------ */

/* The matrix A the plan was made from (the plan's own copy). */
const ptd_matrix *ptd_pspec_plan_matrix(const ptd_pspec_plan *p);

typedef struct {
    double value;          /* alpha_eps = max Re z, or rho_eps = max |z|, over Lambda_eps(A) */
    ptd_complex z;      /* a point of the eps-level set where the value is attained */
    double sigma;          /* sigma_min(zI - A) at z (inverse Lanczos): eps to rounding */
    double sigma_err;      /* its error estimate */
    unsigned evaluations;  /* sigma_min evaluations (local steps and interval tests) */
    unsigned eigensolves;  /* 2n x 2n Hamiltonian (or symplectic) eigenproblems solved */
    unsigned rounds;       /* global searches (vertical lines or circles) made */
    double grid_value;     /* the verification grid's own estimate (max over its points with
                              sigma_min + err <= eps), NAN when no grid point is inside or none ran */
    size_t grid_points;    /* points of the verification grid (0: none ran) */
    double value_err;      /* estimated absolute error of value: Brent's bracket plus the error of
                              sigma_min over the outward slope (NAN when the slope is not positive) */
    int certified;         /* 1: a global maximum, proven by the 2n eigenproblems (eps above
                              ptd_pspec_extreme_floor); 0: eps below that floor on an exact plan:
                              the largest local maximum over the components of all eigenvalues,
                              attained (so a lower bound), with nothing proven beyond it */
} ptd_pspec_extreme;

typedef struct {
    int pure;              /* 1: every step by a 2n eigenproblem, as Burke-Lewis-Overton and
                              Mengi-Overton publish it (slow, the reference); 0: local steps by
                              root-finding on sigma_min, global searches by eigenproblems */
    size_t verify;         /* verification grid points per side: 0 means 24; 1 means none */
    unsigned maxit;        /* global rounds; 0 means 30 */
} ptd_pspec_extreme_opts;

/* The eps-pseudospectral abscissa alpha_eps(A) = max { Re z : sigma_min(zI - A) <= eps } by
 * the criss-cross method of Burke, Lewis and Overton (2003): a vertical line Re z = x meets
 * the eps-level set where i y is an eigenvalue of the 2n x 2n Hamiltonian matrix
 * [[A - xI, eps I], [-eps I, xI - A^*]]; every component of Lambda_eps beyond x crosses that
 * line (it holds an eigenvalue, and x >= alpha(A)), so a line that meets no interval of
 * Lambda_eps proves x maximal.  Each vertical search costs one 2n eigenproblem (zgeev),
 * O(n^3); local steps cost O(n^2) each.  The answer is checked: sigma_min(zI - A) = eps at
 * res->z, and no point of a verification grid over W(A) + eps with sigma_min <= eps lies
 * beyond res->value (PTD_ENOCONV if one does, naming it).  eps must exceed the plan's
 * rounding floor (PTD_EINVAL otherwise).  Between that floor and ptd_pspec_extreme_floor
 * (only an exact plan has such eps) the global searches prove nothing: the result is then
 * the best local maximum from every eigenvalue, with res->certified = 0 (opts->pure gives
 * PTD_EINVAL there).  opts may be NULL.  Allocates O(n^2); one thread
 * for the search (OpenBLAS may use its own), the verification grid on all. */
int ptd_pspec_abscissa(const ptd_pspec_plan *p, double eps, const ptd_pspec_extreme_opts *opts,
                       ptd_pspec_extreme *res);

/* 4 n u ||A||_2: below this eps the 2n eigenproblems of the global searches (backward stable
 * to about n u ||A||) cannot tell the eps-level set of A from that of a neighbour. */
double ptd_pspec_extreme_floor(const ptd_pspec_plan *p);

/* The eps-pseudospectral radius rho_eps(A) = max { |z| : sigma_min(zI - A) <= eps } by the
 * analogue of Mengi and Overton (2005): the circle |z| = r meets the level set at the
 * unimodular eigenvalues lambda of the symplectic pencil
 * [[A, eps I], [0, r^2 I]] - lambda [[I, 0], [eps I, A^*]], found as a standard 2n
 * eigenproblem after a Moebius shift checked to be well conditioned (QZ on the pencil when
 * no shift is: the pencil is singular on a circle that is the level curve); radial steps.  Checks and costs as for
 * ptd_pspec_abscissa. */
int ptd_pspec_radius(const ptd_pspec_plan *p, double eps, const ptd_pspec_extreme_opts *opts,
                     ptd_pspec_extreme *res);

/* The distance to instability of a stable A (the complex stability radius): the smallest
 * ||E||_2 with A + E unstable, which is d = min over real w of sigma_min(iwI - A), the eps at
 * which alpha_eps(A) = 0.  discrete = 1: the discrete-time analogue for rho(A) < 1,
 * d = min over angles w of sigma_min(e^{iw} I - A), the eps at which rho_eps(A) = 1.
 * An A with an eigenvalue on or beyond the axis (circle) gets d = 0 and stable = 0. */
typedef struct {
    int stable;            /* 0: alpha(A) >= 0 (rho(A) >= 1): value 0, nothing computed */
    double value;          /* sigma_min at the point found: the distance, attained (so an upper
                              bound on it, within sigma_err) */
    double sigma_err;      /* the error estimate of value (as ptd_pspec_point.err) */
    double lower;          /* a proven lower bound on the distance (0 when none is proven) */
    double w;              /* where: z = i w, or z = e^{i w} (w in [-pi, pi]) */
    int certified;         /* 1: lower comes from a level-set test by a 2n eigenproblem, value
                              within a few units of rounding of it; 0: see method */
    int below_floor;       /* 1: value is at or below the plan's rounding floor n u ||A||: only
                              an upper bound, its digits unresolved */
    const char *method;    /* what certified the value, a static string */
    unsigned evaluations;  /* sigma_min evaluations */
    unsigned eigensolves;  /* 2n eigenproblems (level-set tests) */
} ptd_pspec_instability;

/* The distance to instability by a level-set method (Byers 1988; Boyd and Balakrishnan
 * 1990, for the minimum instead of the H-infinity maximum): from the best of sigma_min at
 * the eigenvalues' frequencies (angles) and 0, one 2n eigenproblem finds every w where
 * sigma_min(iwI - A) equals a level L just below the best value so far (the imaginary
 * eigenvalues of [[A, L I], [-L I, -A^*]]; on the circle the symplectic pencil of
 * ptd_pspec_radius), each interval below L is minimised by Brent's method on sigma_min
 * (O(n^2) a step), and this repeats until an eigenproblem shows no interval below L:
 * then lower = L, within 4 sigma_err + 64 u value of value (certified = 1, method
 * "level sets").  The 2n eigenproblems resolve levels above ptd_pspec_extreme_floor only.
 * Below it an exact (triangular) plan scans the axis (circle) at 4096 points and refines
 * the 8 lowest local minima by Brent's method, each value accurate as the exact plan's
 * values are; lower is then the 1-Lipschitz bound min (s_j - err_j) - h/2 of the scan
 * (spacing h), usually 0 (certified = 0, method "axis scan of the exact Schur form"); a
 * computed Schur form gives value <= floor with below_floor = 1.  O(n^3) per eigenproblem,
 * usually two to four; allocates. */
int ptd_pspec_stability_radius(const ptd_pspec_plan *p, int discrete, ptd_pspec_instability *res);

/* The intersections of the eps-level set with the vertical line Re z = x (which = 0: y
 * values, sorted) or with the circle |z| = x (which = 1: angles in [-pi, pi), sorted): the
 * eigenvalues of the 2n matrix that lie on the line or circle within a relative 1e-6, so it
 * may hold points where another singular value than sigma_min equals eps, and near-tangent
 * points twice.  out must hold 2n values; *count gets their number.  O(n^3), allocates. */
int ptd_pspec_level_crossings(const ptd_pspec_plan *p, double eps, int which, double x,
                              double *out, size_t *count);

/* ------------------------------------------------------------------------------------ */
/* fov: the numerical range (field of values) W(A) = { x^* A x : ||x||_2 = 1 } (lib/fov.c)  */
/* ------------------------------------------------------------------------------------ */

/* m >= 3 points of the boundary of W(A) by Johnson's method: at angle t_k = 2 pi k / m the
 * largest eigenvalue of the Hermitian part of e^{-i t_k} A gives the support line with outward
 * normal e^{i t_k}, and its unit eigenvector x the boundary point x^* A x written to pts[k]
 * (counter-clockwise from the rightmost point).  The polygon of these points lies inside
 * W(A); the support lines enclose it.  Cost m Hermitian eigenproblems (zheevr, one
 * eigenpair), O(m n^3); allocates. */
int ptd_fov_boundary(const ptd_matrix *A, size_t m, ptd_complex *pts);

/* The bounding box of W(A): [lambda_min, lambda_max] of (A + A^*)/2 by that of
 * (A - A^*)/(2i).  Lambda_eps(A) lies within eps of W(A). */
int ptd_fov_box(const ptd_matrix *A, ptd_box *box);

/* The numerical abscissa omega(A) = lambda_max((A + A^*)/2) = max Re W(A): the initial
 * growth rate, ||e^{tA}||_2 <= e^{t omega} for t >= 0. */
int ptd_fov_abscissa(const ptd_matrix *A, double *omega);

/* ------------------------------------------------------------------------------------ */
/* plot additions: overlays on the pseudospectra figure, line plots (lib/plot.c)          */
/* ------------------------------------------------------------------------------------ */

#define PTD_PLOT_MAX_MARKS 4
/* A set of more marks than this (without eps) is drawn with small symbols. */
#define PTD_PLOT_MANY_MARKS 100

/* What may be drawn over the contours: up to PTD_PLOT_MAX_MARKS sets of marked points (e.g.
 * where the pseudospectral abscissa is attained), each with a key title and a symbol of its
 * own, in the colour of its eps when given, and the boundary of
 * the numerical range as a closed dashed polygon (nfov points, 0 for none). */
typedef struct {
    struct {
        const ptd_complex *z;
        size_t n;
        const char *title;
        const double *eps; /* NULL, or the eps of each point: drawn in its contour's colour
                              (several levels), each set then told apart by its symbol */
    } sets[PTD_PLOT_MAX_MARKS];
    size_t nsets;
    const ptd_complex *fov;
    size_t nfov;
    /* traced level curves (ptd_pspec_trace, one result per eps), drawn as lines coloured by
     * their eps as the contours are (gnuplot datablock $traced: x y log10 eps, a blank line
     * between curves).  traced_only: the grid's contours are not drawn, and the grid may be
     * NULL, `box` then giving the region. */
    const ptd_pspec_trace_result *const *traces;
    size_t ntraces;
    int traced_only;
    const ptd_box *box;
    const char *eig_title; /* the eigenvalues' key title (markup, as every key title);
                              NULL: "eigenvalues" */
} ptd_plot_overlay;

/* ptd_plot_pspec_gnuplot with an overlay (NULL: the same script as without).  g may be NULL
 * when ov->traced_only and ov->box are set. */
int ptd_plot_pspec_gnuplot_overlay(FILE *f, const ptd_pspec_grid *g, const double *eps,
                                   size_t neps, const ptd_complex *eig, size_t neig,
                                   const ptd_plot_overlay *ov, const ptd_plot_meta *meta);

/* ------------------------------------------------------------------------------------ */
/* transient: ||e^{tA}||_2, ||A^k||_2 and their bounds (lib/transient.c)                   */
/* ------------------------------------------------------------------------------------ */

/* E = e^{tA} by scaling and squaring with the [13/13] Pade approximant (Higham 2005).
 * E is n x n, allocated by the caller.  PTD_ERANGE when an entry of e^{tA} is beyond the
 * double range.  O(n^3 (6 + s)), s = log2(||tA||_1 / 5.37); allocates 7 n^2. */
int ptd_transient_expm(const ptd_matrix *A, double t, ptd_matrix *E);
/* out[k] = ||e^{t[k] A}||_2 for k < nt (an expm and an SVD each).  The exponentials are
 * kept scaled by powers of two, so every norm within the double range is computed, however
 * far outside it e^{tA} itself is; a norm beyond the range is +INFINITY, one below it 0 (or
 * subnormal).  PTD_EINVAL for a non-finite A or t[k]. */
int ptd_transient_norms(const ptd_matrix *A, const double *t, size_t nt, double *out);
/* The same, calling progress(ctx, done, nt) now and then from the calling thread (progress
 * may be NULL). */
int ptd_transient_norms_progress(const ptd_matrix *A, const double *t, size_t nt, double *out,
                                 void (*progress)(void *ctx, size_t done, size_t total), void *ctx);
/* out[k] = ||A^k||_2 for k = 0..kmax (out holds kmax + 1), by repeated products kept scaled
 * by powers of two (exact), so the powers never overflow: a norm beyond the double range is
 * +INFINITY, one below it 0 (or subnormal), every other is computed.  PTD_EINVAL for a
 * non-finite A.  O(kmax n^3). */
int ptd_transient_power_norms(const ptd_matrix *A, size_t kmax, double *out);
/* The same, calling progress(ctx, k, kmax) after each power (progress may be NULL). */
int ptd_transient_power_norms_progress(const ptd_matrix *A, size_t kmax, double *out,
                                       void (*progress)(void *ctx, size_t done, size_t total), void *ctx);
/* Lower bounds from the pseudospectra (Trefethen and Embree, ch. 15-16): continuous,
 * sup_{t >= 0} ||e^{tA}|| >= alpha_eps / eps; discrete (discrete = 1),
 * sup_{k >= 0} ||A^k|| >= (rho_eps - 1) / eps; the best over eps[] (values at or below the
 * rounding floor skipped) and 1 (t = 0), into *bound, the eps attaining it into *at_eps
 * (NAN when 1 is best).  Each eps costs one criss-cross. */
int ptd_transient_kreiss(const ptd_pspec_plan *p, const double *eps, size_t neps, int discrete, double *bound,
                         double *at_eps);

/* A curve y(x) for the line-plot writers. */
typedef struct {
    const double *y;       /* one value per x; NAN where it does not exist (written '?') */
    const char *name;      /* tsv column name, one word */
    const char *title;     /* key title (NULL: name) */
    const char *style;     /* gnuplot "with" clause, e.g. "lines lw 2 lc rgb '#0060ad'" (NULL: lines) */
    int scale_y;           /* 1: the y range is chosen to show this curve whole */
} ptd_plot_curve;

/* A gnuplot script with the data inline: ns curves against x (nx >= 2), optional log y axis
 * (values <= 0 are then left out), the key below the plot.  Never writes inf or nan. */
int ptd_plot_lines_gnuplot(FILE *f, const double *x, size_t nx, const ptd_plot_curve *s, size_t ns,
                           const char *xlabel, const char *ylabel, int logy, const ptd_plot_meta *meta);
/* The same data as '#' header lines, "# columns: XNAME NAME...", and one row per x. */
int ptd_plot_lines_tsv(FILE *f, const double *x, size_t nx, const char *xname, const ptd_plot_curve *s,
                       size_t ns, const ptd_plot_meta *meta);

/* ------------------------------------------------------------------------------------ */
/* tf: transfer functions G(s) = C (sI - A)^{-1} B of single-input single-output systems,  */
/* strong and weak error measures between two systems (lib/tf.c)                          */
/* ------------------------------------------------------------------------------------ */

/* A system prepared for evaluating G(s) at many s; read-only once made, share it between
 * threads.  Three forms:
 *   dense: one Hessenberg reduction A = Q H Q^* (zgehrd, zunmhr applied to B and C), then
 *          each s costs one O(n^2) Hessenberg solve (no fresh LU);
 *   diag:  G(s) = sum_k c_k b_k / (s - lambda_k), O(n) per s;
 *   nplr:  A = A_N - P P^T with A_N normal (P has r <= 4 columns, the zoo's HiPPO rank
 *          correction): A_N = W Lambda W^{-1} once (zheevd on -i(A_N - cI) when the Hermitian
 *          part of A_N is cI, W unitary; zgeev otherwise), then the Woodbury formula
 *          G(s) = C R B - (C R P)(I + P^T R P)^{-1}(P^T R B), R = (sI - A_N)^{-1},
 *          O(n r^2) per s. */
typedef struct ptd_tf ptd_tf;

typedef enum { PTD_TF_DENSE = 0, PTD_TF_DIAG, PTD_TF_NPLR } ptd_tf_kind;

/* B is n x 1, C is 1 x n (or n x 1, read as a row).  O(n^3); allocates. */
int ptd_tf_dense_create(const ptd_matrix *A, const ptd_matrix *B, const ptd_matrix *C, ptd_tf **out);
/* n modes; the arrays are copied.  b or c NULL means all ones. */
int ptd_tf_diag_create(size_t n, const ptd_complex *lambda, const ptd_complex *b,
                       const ptd_complex *c, ptd_tf **out);
/* PTD_EINVAL when A + P P^T is not normal to within 1e3 n u ||A||_F (measured as
 * ||A_N A_N^* - A_N^* A_N||_F / ||A_N||_F^2).  O(n^3); allocates. */
int ptd_tf_nplr_create(const ptd_matrix *A, const ptd_matrix *P, const ptd_matrix *B, const ptd_matrix *C,
                       ptd_tf **out);
/* The S4D system of an nplr system: the eigen-system of its normal part, (Lambda, W^{-1} B,
 * C W), the rank-r term dropped.  All n modes are kept (for a real A_N they come in conjugate
 * pairs; S4D's halving to n/2 modes with 2 Re gives the same G on the imaginary axis). */
int ptd_tf_s4d_create(const ptd_tf *nplr, ptd_tf **out);
void ptd_tf_free(ptd_tf *t);

ptd_tf_kind ptd_tf_get_kind(const ptd_tf *t);
size_t ptd_tf_order(const ptd_tf *t);
/* For diag systems the modes (lambda, b, c); for nplr systems the eigenvalues of A_N (and
 * NULL b, c): arrays of n owned by t.  For dense systems all three are NULL. */
void ptd_tf_modes(const ptd_tf *t, const ptd_complex **lambda, const ptd_complex **b,
                  const ptd_complex **c);

/* G(s[k]) for k < m into G.  s at an eigenvalue gives a non-finite value.  Parallel over s
 * (OpenMP) when m is large; allocates O(n^2) scratch per thread for dense systems. */
int ptd_tf_eval(const ptd_tf *t, const ptd_complex *s, size_t m, ptd_complex *G);
/* One value, the same arithmetic as ptd_tf_eval (allocates for dense systems). */
ptd_complex ptd_tf_eval1(const ptd_tf *t, ptd_complex s);

/* Reference: one LU of sI - A per s (zgesv), O(n^3) per point; for tests and benchmarks. */
int ptd_tf_eval_lu(const ptd_matrix *A, const ptd_matrix *B, const ptd_matrix *C, const ptd_complex *s,
                   size_t m, ptd_complex *G);
/* The closed form of hippo-legs (docs/mathematics.md section 8):
 * [(sI - A)^{-1} B]_n = p_n prod_{k<n} (s - k) / prod_{k=1}^{n+1} (s + k), by the stable
 * ratio recursion; G = c^T x (c NULL: all ones).  O(n). */
ptd_complex ptd_tf_legs_closed(size_t n, const ptd_complex *c, ptd_complex s);

/* Strong error: sup over w of f(w) for f(w) = |G1(iw) - G2(iw)| or any f >= 0.  The search
 * covers w = 0 and both w0 <= |w| <= w1: f on a log-spaced grid of `grid` points on each side
 * (0 means 2000), every local maximum of the grid refined by Brent's method (GSL gsl_min), and
 * around each pole seed lambda (a narrow peak at w = Im lambda, of half-width about |Re lambda|)
 * f sampled at 17 points over Im lambda +- 4 max(|Re lambda|, 1e-12 |Im lambda|) and the best
 * refined likewise, from the highest sample down while it is at least half the best value so
 * far (a Lorentzian peak sampled every half-width shows 0.8 of its height).  A peak no grid
 * point and no seed comes near can be missed: the seeds are what make the search reliable for
 * poles close to the axis.  f must be cheap and thread-safe; it is called serially. */
typedef double (*ptd_tf_absfn)(void *ctx, double w);

typedef struct {
    double value;          /* the sup found */
    double w;              /* where it is attained */
    double grid_value;     /* the largest grid value alone (before refinement and seeds) */
    double grid_w;
    size_t evaluations;    /* f evaluations */
    size_t refined;        /* Brent searches run */
} ptd_tf_sup;

int ptd_tf_sup_search(ptd_tf_absfn f, void *ctx, double w0, double w1, size_t grid,
                      const ptd_complex *seeds, size_t nseeds, ptd_tf_sup *res);
/* ptd_tf_sup_search on |G1(iw) - G2(iw)| with the poles of the diag and nplr systems among
 * t1, t2 as seeds (eigenvalues of A_N for nplr). */
int ptd_tf_strong_error(const ptd_tf *t1, const ptd_tf *t2, double w0, double w1, size_t grid,
                        ptd_tf_sup *res);

/* Inputs for the weak error, by their energy spectrum |u_hat(w)|^2:
 *   impulse: delta(t), 1;
 *   exp:     e^{-t} (t >= 0), 1/(1 + w^2);
 *   gauss:   e^{-(t-4)^2/2}, a smooth pulse, 2 pi e^{-w^2};
 *   step:    the unit box on [0, 1) (a step switched on, then off, so that the output error
 *            has finite energy), 4 sin^2(w/2) / w^2. */
typedef enum { PTD_INPUT_IMPULSE = 0, PTD_INPUT_EXP, PTD_INPUT_GAUSS, PTD_INPUT_STEP } ptd_tf_input;
double ptd_tf_input_energy(ptd_tf_input u, double w);
/* Parse "impulse", "exp", "gauss", "step"; -1 when unknown. */
int ptd_tf_input_parse(const char *name);
const char *ptd_tf_input_name(ptd_tf_input u);

/* Weak error: the L2 norm of the output difference for input u, by Parseval,
 * ( 1/(2 pi) int_R |G1(iw) - G2(iw)|^2 |u_hat(w)|^2 dw )^(1/2).  The line is split at the
 * imaginary parts of the poles of t1 and t2 (diag and nplr systems; merged when closer than
 * 0.25); each piece gets one 21-point Kronrod rule, and where its error estimate exceeds both
 * 1e-8 of the whole / (number of pieces) and 1e-7 of the piece, GSL's qags; the tails by
 * qagiu and qagil.  *abserr
 * gets the estimated absolute error of the result (may be NULL).  PTD_ENOCONV when the
 * quadrature does not reach its tolerance (the result is then still written). */
int ptd_tf_weak_error(const ptd_tf *t1, const ptd_tf *t2, ptd_tf_input u, double *err, double *abserr);

/* ------------------------------------------------------------------------------------ */
/* ssm: discretisation (ZOH, bilinear) and convolution kernels K_l = C Abar^l Bbar          */
/* (lib/ssm.c)                                                                            */
/* ------------------------------------------------------------------------------------ */

typedef enum { PTD_SSM_ZOH = 0, PTD_SSM_BILINEAR } ptd_ssm_method;

/* Dense: ZOH Abar = e^{dt A}, Bbar = int_0^dt e^{tA} dt B, both from one exponential of the
 * (n+1) x (n+1) matrix dt [[A, B], [0, 0]] (ptd_transient_expm); bilinear
 * Abar = (I - dt/2 A)^{-1} (I + dt/2 A), Bbar = dt (I - dt/2 A)^{-1} B (one zgesv).  Abar
 * (n x n) and Bbar (n x 1) are allocated by the caller.  O(n^3). */
int ptd_ssm_discretize(const ptd_matrix *A, const ptd_matrix *B, double dt, ptd_ssm_method method,
                       ptd_matrix *Abar, ptd_matrix *Bbar);
/* Diagonal, per mode: ZOH abar = e^{dt l}, bbar = (e^{dt l} - 1)/l b (dt b when l = 0,
 * expm1 for small dt l); bilinear abar = (1 + dt l/2)/(1 - dt l/2), bbar = dt b/(1 - dt l/2).
 * b NULL means all ones.  O(n). */
int ptd_ssm_discretize_diag(size_t n, const ptd_complex *lambda, const ptd_complex *b, double dt,
                            ptd_ssm_method method, ptd_complex *abar, ptd_complex *bbar);
/* K_l = C Abar^l Bbar, l < L, by L matrix-vector products x <- Abar x (O(L n^2), never a
 * matrix power).  C is 1 x n (or n x 1). */
int ptd_ssm_kernel(const ptd_matrix *Abar, const ptd_matrix *Bbar, const ptd_matrix *C, size_t L,
                   ptd_complex *K);
/* K_l = sum_k c_k bbar_k abar_k^l, l < L, the Vandermonde product with running powers
 * (O(n L)).  c NULL means all ones. */
int ptd_ssm_kernel_diag(size_t n, const ptd_complex *abar, const ptd_complex *bbar,
                        const ptd_complex *c, size_t L, ptd_complex *K);
/* The exact ZOH state of hippo-legs (docs/mathematics.md section 8):
 * [Abar^l Bbar]_k = p_k/2 [Q_k(y_l) - Q_k(y_{l+1})], y_l = 2 e^{-l dt} - 1, Q_0(y) = y,
 * Q_k = (P_{k+1} - P_{k-1})/(2k+1) (Legendre P by gsl_sf_legendre_Pl); x holds n values. */
int ptd_ssm_legs_zoh_state(size_t n, double dt, size_t l, double *x);
/* data: sequence classification data sets (lib/data.c)                                  */
/* ------------------------------------------------------------------------------------ */

/* n sequences of len steps with din features each (float, x[(i len + t) din + k]) and a
 * class label in [0, nclass) each. */
typedef struct {
    size_t n, len, din, nclass;
    float *x;
    int *y;
    char name[32];
} ptd_dataset;

void ptd_dataset_free(ptd_dataset *d);
/* Rows idx[0..m) of d, copied (idx may repeat). */
int ptd_dataset_subset(const ptd_dataset *d, const size_t *idx, size_t m, ptd_dataset **out);
/* A seeded random split: the last nval of a permutation go to *val, the rest to *train. */
int ptd_dataset_split(const ptd_dataset *d, size_t nval, unsigned long seed, ptd_dataset **train,
                      ptd_dataset **val);

/* Read an IDX file (plain or gzip, through zlib) of unsigned bytes (type 0x08): dims[0..*ndims)
 * (at most 4) and the data, malloc'd.  A bad magic number, a type other than 0x08, a size that
 * does not match the file, or a gzip error gives PTD_EFORMAT naming the file and the reason;
 * a missing file PTD_EIO.  At most 2^32 data bytes; the buffer grows with the bytes that
 * arrive, so a header that declares more than the file holds allocates nothing. */
int ptd_data_idx_read(const char *path, size_t *dims, size_t *ndims, unsigned char **data);

/* Default location of the Debian package dataset-fashion-mnist. */
#define PTD_FMNIST_DIR "/usr/share/datasets/fashion-mnist"
/* Sequential Fashion-MNIST: {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz from dir (NULL:
 * PTD_FMNIST_DIR), each image read row by row as a length-784 sequence of one feature,
 * grey values scaled to [0, 1] and then normalised with the training set's mean and standard
 * deviation (PTD_FMNIST_MEAN, PTD_FMNIST_STD, computed from the 60000 training images). */
#define PTD_FMNIST_MEAN 0.2860405969887955
#define PTD_FMNIST_STD 0.35302424451492237
int ptd_data_fmnist_load(const char *dir, int test, ptd_dataset **out);

/* ListOps (Long Range Arena), generated: tokens 0-9 digits, PTD_LISTOPS_MIN .. _SM, ']' and a
 * padding token; each sequence is padded to max_len with PTD_LISTOPS_PAD and one-hot encoded
 * (din = PTD_LISTOPS_VOCAB), the label is its value (10 classes). */
enum { PTD_LISTOPS_MIN = 10, PTD_LISTOPS_MAX, PTD_LISTOPS_MED, PTD_LISTOPS_SM, PTD_LISTOPS_CLOSE,
       PTD_LISTOPS_PAD, PTD_LISTOPS_VOCAB };
typedef struct {
    size_t min_len, max_len;   /* kept when min_len <= length <= max_len */
    unsigned max_depth;        /* the root has depth 1; nodes at max_depth are digits */
    unsigned max_args;         /* an operator has 2..max_args arguments */
} ptd_listops_opts;
/* One expression, tokens into tok (room for max_len), its length into *len and value into
 * *value; rejection sampling (PTD_ENOCONV after 1e6 tries). */
int ptd_data_listops_sample(const ptd_listops_opts *o, void *rng /* gsl_rng */, int *tok,
                            size_t *len, int *value);
/* n expressions as a data set, seeded. */
int ptd_data_listops_generate(const ptd_listops_opts *o, size_t n, unsigned long seed,
                              ptd_dataset **out);
/* Evaluate a token sequence (padding ignored at the end).  PTD_EFORMAT when it is not a
 * well-formed expression. */
int ptd_data_listops_eval(const int *tok, size_t len, int *value);

/* Pathfinder (Long Range Arena), generated: a size x size image (0 background, 1 ink) read
 * row by row as a sequence of size^2 pixels with one feature; two markers (3 x 3 squares)
 * sit at path ends, label 1 when one path joins them, 0 when they end two different paths;
 * every image has 2 + distractors paths (the unmarked ones are distractors), so that the
 * amount of ink does not tell the classes apart.  A path is a walk of `dashes` dashes of dash_len
 * pixels with gaps of `gap` pixels, turning by up to max_turn radians at each dash.  Paths
 * never come within gap + 1 pixels (Chebyshev) of each other, so that the drawn ink of one
 * path is connected when pixels up to gap + 1 apart count as neighbours, and two paths
 * never are: a flood fill of that reach decides the label from the image alone. */
typedef struct {
    size_t size;               /* image side (PTD_PATHFINDER_DEFAULTS: 32) */
    unsigned dashes, dash_len, gap, distractors;
    double max_turn;
} ptd_pathfinder_opts;
#define PTD_PATHFINDER_DEFAULTS {.size = 32, .dashes = 8, .dash_len = 2, .gap = 1, .distractors = 2, .max_turn = 0.5236}
/* One image into img (size^2 floats) and its label; rejection sampling (PTD_ENOCONV after
 * 10^5 random walks when the paths do not fit). */
int ptd_data_pathfinder_sample(const ptd_pathfinder_opts *o, void *rng /* gsl_rng */, float *img, int *label);
/* n images as a data set (2 classes), seeded. */
int ptd_data_pathfinder_generate(const ptd_pathfinder_opts *o, size_t n, unsigned long seed, ptd_dataset **out);

/* ------------------------------------------------------------------------------------ */
/* train: small S4D / S4-PTD and S5 / S5-PTD sequence classifiers with hand-written
 * gradients (lib/train.c; the layers in lib/s4layer.c and lib/s5layer.c)                 */
/* ------------------------------------------------------------------------------------ */

/* With PTD_LAYER_S5 the same three initialisations mean: the eigenvectors of LegS's normal
 * part (S5's own), S4D-Lin's spectrum with V = I, and the eigenvectors of LegS + E (S5-PTD),
 * each per block. */
typedef enum { PTD_INIT_S4D_LEGS = 0, PTD_INIT_S4D_LIN, PTD_INIT_S4_PTD } ptd_train_init;
/* The SSM layer: S4 (one diagonal SSM per channel, FFT convolution with its kernel) or S5
 * (one diagonal SSM of M complex states shared by the H channels, x_k = Lbar x_{k-1} +
 * Bbar u_k, y_k = cf Re(C~ x_k) + D u_k, by a scan; cf = 2 with conjugate symmetry). */
typedef enum { PTD_LAYER_S4 = 0, PTD_LAYER_S5 } ptd_train_layer;

typedef struct {
    size_t din, nclass, len;   /* input features, classes, sequence length */
    size_t layers, width;      /* H = width channels */
    size_t state;              /* N, the LegS order; each channel has N/2 complex modes */
    size_t modes;              /* modes per channel: 0 = N/2.  ptd_train_model_create sets it
                                  (ptd_train_model_config shows it): an s4-ptd model from a
                                  real-E system with r real eigenvalues has N/2 + r/2, every
                                  eigenvalue with Im >= 0, so that 2 Re is exact */
    ptd_train_init init;
    const ptd_ptd *ptd;        /* s4-ptd: a loaded PTD system of order N (NULL: computed
                                  with ptd_perturb_optimize on the fly) */
    unsigned ptd_steps;        /* optimiser steps for the on-the-fly PTD (0: 1000) */
    double ptd_rel;            /* its ||E||/||A|| bound (0: 0.04) */
    double dt_min, dt_max;     /* 0: 1e-3 and 1e-1 (log-uniform per channel; s5: per state) */
    unsigned long seed;
    ptd_train_layer layer;     /* PTD_LAYER_S4 (0, the default) or PTD_LAYER_S5 */
    size_t blocks;             /* s5: J diagonal blocks of order N/J, each from LegS of that
                                  order (0: 1); N/J even */
    int s5_full;               /* s5: every eigenvalue of each block a state, y = Re(C~ x) (N
                                  states); 0: conjugate symmetry, the eigenvalues with
                                  Im >= 0 and y = 2 Re(C~ x) (N/2, or more for real
                                  eigenvalues of a real E, each with half its input) */
} ptd_train_config;

typedef struct ptd_train_model ptd_train_model;

/* Limits of a model's configuration (ptd_train_model_create refuses more with PTD_EINVAL, a
 * checkpoint that claims more is refused with PTD_EFORMAT): far above what ssm-train builds
 * (din 1 or 16, 10 classes, len 784) and within them no product of sizes wraps.  A
 * checkpoint's epochs and optimiser steps are bounded too (steps stay exact in a double). */
#define PTD_TRAIN_MAX_DIN 4096
#define PTD_TRAIN_MAX_NCLASS 4096
#define PTD_TRAIN_MAX_LEN 100000
#define PTD_TRAIN_MAX_LAYERS 16
#define PTD_TRAIN_MAX_WIDTH 4096
#define PTD_TRAIN_MAX_STATE 1024
#define PTD_TRAIN_MAX_EPOCHS 1000000000ULL
#define PTD_TRAIN_MAX_STEPS (1ULL << 53)

/* The model: linear encoder; per layer a diagonal SSM convolution per channel (ZOH kernel,
 * FFT of length 2 len) plus D u, GELU, output linear, residual, LayerNorm; mean pooling;
 * linear decoder.  Parameters live in one flat array (see ptd_train_model_params). */
int ptd_train_model_create(const ptd_train_config *c, ptd_train_model **out);
/* The PTD system an s4-ptd model is made from when c->ptd is NULL: ptd_perturb_optimize on
 * LegS of order c->state (c->ptd_rel, c->ptd_steps, c->seed), a real E.  The model keeps, for
 * a real-E system, every eigenvalue with Im >= 0 (a real one with half its input); for a
 * complex E the N/2 of largest imaginary part; real parts at most -1e-4. */
int ptd_train_ptd_create(const ptd_train_config *c, ptd_ptd **out);
/* How far an initialisation's modes, as the model uses them (the N/2 kept, each with its
 * conjugate through 2 Re, real parts clipped at -1e-4), are from LegS of order c->state: at
 * each frequency w[i], the relative strong error
 *   err[i] = ||x_model(i w) - (i w I - A)^{-1} B||_2 / ||(i w I - A)^{-1} B||_2,
 *   x_model(s) = sum_k V_k b_k / (s - lambda_k) + conj(V_k b_k) / (s - conj lambda_k),
 * the worst case over unit output rows C of |C x_model - C (sI - A)^{-1} B| relative to
 * LegS's (V_k: the eigenvector of A_N, or of A + E, the mode belongs to).  s4-ptd needs
 * c->ptd; s4d-lin is no model of LegS (NaN). */
int ptd_train_init_strong_error(const ptd_train_config *c, const double *w, size_t nw, double *err);
/* The eigen-system an s5 model's blocks are made from (c->state N, c->blocks J, c->init,
 * c->s5_full; pp: the PTD system of order N/J for s4-ptd, NULL otherwise): *mb states per
 * block, their eigenvalues lam, the eigenvectors V (N/J x *mb, column-major) and the rows W
 * (*mb x N/J, row-major; room for N/J each) that make Btilde = W B and C~ = C V from a real B
 * and C per block.  V diag(lam) W is the block's matrix (LegS's normal part with Re lambda
 * = -1/2, or LegS + E), with conjugate symmetry 2 Re(V diag(lam) W) (W halved for a real
 * eigenvalue).  s5's initialisation draws B ~ N(0, 1/H) and C ~ N(0, 1) per layer. */
int ptd_train_s5_block_system(const ptd_train_config *c, const ptd_ptd *pp, ptd_complex *lam, ptd_complex *V,
                               ptd_complex *W, size_t *mb);
void ptd_train_model_free(ptd_train_model *m);
const ptd_train_config *ptd_train_model_config(const ptd_train_model *m);
size_t ptd_train_model_nparams(const ptd_train_model *m);
/* The parameters, read-write (tests perturb them). */
double *ptd_train_model_params(ptd_train_model *m);
/* 1 if parameter i belongs to the SSM's Lambda, Btilde or log dt (frozen by freeze_ssm). */
int ptd_train_param_is_ssm(const ptd_train_model *m, size_t i);
/* Name of the tensor holding parameter i ("layer1.C", ...). */
const char *ptd_train_param_name(const ptd_train_model *m, size_t i);
/* w_max: the largest frequency of the LegS normal part A_N of order N. */
double ptd_train_model_wmax(const ptd_train_model *m);

/* Where the noise goes: the raw input; each layer's input (the convolution and the
 * feedthrough D u both see it); or the SSM's input in each layer (the convolution K * (u + n),
 * the feedthrough D u clean: the perturbation of the state equation x' = A x + B (u + n) the
 * transfer-function theory is about). */
typedef enum { PTD_NOISE_NONE = 0, PTD_NOISE_INPUT, PTD_NOISE_LAYERS, PTD_NOISE_SSM } ptd_noise_at;
/* Fourier-mode noise a U[0,1) cos(w t_j): a fresh U per sample and channel (a hash of seed,
 * sample index, layer and channel, so independent of threads); t_j = j dt in each channel's
 * own time units (layers, ssm) or t_j = j 1e-2, the geometric middle of the dt range (input). */
typedef struct {
    ptd_noise_at at;
    double amp, freq;
    unsigned long seed;
} ptd_train_noise;

/* Time split of the last calls (seconds summed over threads). */
typedef struct {
    double fft, dense, kernel, rest;
} ptd_train_timing;

/* Mean cross-entropy over the samples idx[0..nb) of d (idx NULL: 0..nb), the number
 * classified correctly, and, when grad is not NULL, the gradient of the mean loss (nparams
 * values, overwritten).  Parallel over samples on `threads` threads (0: all; at most 16
 * share a batch): the batch is summed in min(nb, 16) fixed parts, part s the samples s,
 * s + 16, ... in order, the parts in order, so every thread count gives the same bits.
 * Not thread-safe on one model (it owns the workspaces). */
int ptd_train_loss_grad(ptd_train_model *m, const ptd_dataset *d, const size_t *idx, size_t nb,
                        const ptd_train_noise *noise, int threads, double *loss, size_t *correct,
                        double *grad);
/* The SSM of layer l (0-based) applied to u (L x H, time-major): y = K * u + D u of the s4
 * layer's channels (FFT convolution), or y_k = cf Re(C~ x_k) + D u_k of the s5 layer (scan). */
int ptd_train_ssm_apply(ptd_train_model *m, size_t l, const double *u, double *y);
void ptd_train_timing_get(const ptd_train_model *m, ptd_train_timing *t);
/* The transforms of the convolutions: FFTW's real-to-complex plans (the default; made once
 * per model, executed from every thread) or GSL's mixed-radix complex FFT carrying two
 * channels each (the reference the FFTW path is tested and benchmarked against).  Results
 * agree to rounding; for a fixed choice and thread count they are reproducible to the bit. */
typedef enum { PTD_TRAIN_FFT_FFTW = 0, PTD_TRAIN_FFT_GSL } ptd_train_fft;
int ptd_train_set_fft(ptd_train_model *m, ptd_train_fft fft);
ptd_train_fft ptd_train_get_fft(const ptd_train_model *m);
void ptd_train_timing_reset(ptd_train_model *m);

typedef struct {
    double lr, ssm_lr;         /* 0: 5e-3 and 1e-3 */
    double wd;                 /* AdamW decoupled weight decay on matrices (not SSM, biases) */
    double clip;               /* global gradient norm clip (0: none) */
    double warmup;             /* fraction of all steps with linear warm-up (0: 0.05) */
    size_t batch, epochs;      /* the cosine schedule spans epochs * ceil(n / batch) steps */
    int freeze_ssm;            /* train only C, D and the dense layers */
    int threads;
    unsigned long seed;        /* shuffling */
    void (*progress)(void *ctx, size_t done, size_t total, double running_loss);
    void *progress_ctx;
} ptd_train_opts;

typedef struct {
    double loss, acc, seconds, samples_per_s, grad_norm;
} ptd_train_epoch_stats;

/* One epoch of AdamW over a seeded shuffle of d (epoch number e, 0-based). */
int ptd_train_epoch(ptd_train_model *m, const ptd_train_opts *o, const ptd_dataset *d, size_t e,
                    ptd_train_epoch_stats *st);
/* Loss and accuracy over all of d (ptd_train_loss_grad without a gradient), optionally with noise. */
int ptd_train_evaluate(ptd_train_model *m, const ptd_dataset *d, const ptd_train_noise *noise,
                       int threads, double *loss, double *acc);

/* Checkpoints: a binary file "PTDSSM", a version, the configuration, the epochs done, the
 * parameters and the optimiser state, then a CRC-32 of everything before it.  Loading
 * validates everything before it allocates the model: magic, version, the file's size
 * against the parameter count, the checksum, every configuration field within the
 * PTD_TRAIN_MAX_* limits, the parameter count against the configuration, parameters and
 * moments finite, second moments >= 0, w_max finite and positive; anything else gives
 * PTD_EFORMAT with a one-line message naming the field. */
int ptd_train_model_save(const ptd_train_model *m, const char *path);
int ptd_train_model_load(const char *path, ptd_train_model **out);
size_t ptd_train_model_epochs_done(const ptd_train_model *m);

#ifdef __cplusplus
}
#if defined __clang__
#pragma clang diagnostic pop
#endif
#endif

#endif /* PTD_H */
