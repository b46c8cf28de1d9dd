/* internal.h - shared by libptd's sources; not installed. */
#ifndef PTD_INTERNAL_H
#define PTD_INTERNAL_H

#include "ptd.h"

#include <float.h>

/* Internal functions share the public ptd_ prefix (they read as part of the funnel) but
 * stay out of the shared library's symbol table. */
#include <stdio.h>
#define PTD_HIDDEN __attribute__((visibility("hidden")))

/* Unit roundoff of IEEE double (half the machine epsilon). */
#define PTD_U (DBL_EPSILON / 2)
/* a log axis over more than this factor gets no minor tics (plot.c, plotxy.c): gnuplot spaces
 * its major tics decades apart there and draws the minor ones of a single decade beside each */
#define PTDI_LOG_MINOR_DECADES 1e10

/* The one error funnel: record a formatted one-line message for ptd_last_error() and
 * return `status`.  Put a breakpoint here to catch every error. */
PTD_HIDDEN int ptd_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forget the last error (start of a public call that may succeed). */
PTD_HIDDEN void ptd_clear_error(void);
/* The line every gnuplot script starts with after its comments: with no interactive terminal
 * (gnuplot-nox's default is "unknown", which draws nothing) fall back to the text terminal and
 * say so on standard error; a rendered figure has its terminal set before, so it is untouched. */
PTD_HIDDEN void ptdi_plot_terminal_fallback(FILE *f);
/* Map a LAPACK info value: < 0 illegal argument; > 0 an exactly singular matrix for the LU
 * and triangular routines (xGESV, xGETRF, xGETRI, xTRTRS, ...), no convergence for the
 * eigenvalue and SVD drivers. */
PTD_HIDDEN int ptd_lapack_status(const char *routine, int info);

/* A zeroed rows x cols buffer of elements of `size` bytes with one spare column after it
 * (NULL when out of memory or the size overflows): every matrix handed to LAPACK's SVD and
 * Hermitian eigenvalue drivers comes from here or ptd_matrix_alloc (lib/lapack.c says why:
 * Debian 12's OpenBLAS reads up to a column past the end of those).  Free with free(). */
PTD_HIDDEN void *ptdi_lapack_alloc(size_t rows, size_t cols, size_t size);
/* A zeroed LAPACK workspace of len elements with a spare column of ld elements (the matrix's
 * leading dimension) and 64 more after it, for the same reason; NULL on overflow or no memory. */
PTD_HIDDEN void *ptdi_lapack_work(size_t len, size_t ld, size_t size);
/* zgesvd, zgesdd, zheev and zheevd with their workspaces padded likewise (lib/lapack.c):
 * LAPACK's info, or PTDI_LAPACK_NOMEM when a workspace could not be allocated. */
#define PTDI_LAPACK_NOMEM (-1010)
PTD_HIDDEN int ptdi_zgesvd(char jobu, char jobvt, size_t m, size_t n, double complex *a, size_t lda, double *s,
                           double complex *u, size_t ldu, double complex *vt, size_t ldvt);
PTD_HIDDEN int ptdi_zgesdd(char jobz, size_t m, size_t n, double complex *a, size_t lda, double *s, double complex *u,
                           size_t ldu, double complex *vt, size_t ldvt);
PTD_HIDDEN int ptdi_zheev(char jobz, char uplo, size_t n, double complex *a, size_t lda, double *w);
PTD_HIDDEN int ptdi_zheevd(char jobz, char uplo, size_t n, double complex *a, size_t lda, double *w);

/* Set OpenBLAS to one thread while OpenMP threads call it; returns the old count. */
PTD_HIDDEN int ptd_blas_threads_single(void);
PTD_HIDDEN void ptd_blas_threads_restore(int old);

/* Make room for `need` elements of `size` bytes in *buf (capacity *cap elements), growing
 * geometrically but never beyond `limit` elements (need <= limit): readers size their
 * buffers by the data that has arrived, not by what a header declares.  0, or -1 when out
 * of memory (*buf is then unchanged). */
PTD_HIDDEN int ptdi_grow(void **buf, size_t *cap, size_t need, size_t limit, size_t size);

/* plot.c's text helpers, for the other writers: a '#' comment line with control
 * characters folded, a gnuplot single-quoted string, LaTeX-escaped text. */
PTD_HIDDEN void ptdi_put_comment(FILE *f, const char *label, const char *text);
PTD_HIDDEN void ptdi_put_quoted(FILE *f, const char *s);
PTD_HIDDEN void ptdi_latex_text(char *buf, size_t n, const char *s);

/* output.c: how every file is written (see the comment at its top). */
#include <sys/types.h>
PTD_HIDDEN const char *ptdi_base_name(const char *path);
PTD_HIDDEN char *ptdi_dir_name(const char *path);       /* "." or "/" at least; malloc'ed */
PTD_HIDDEN char *ptdi_concat3(const char *a, const char *b, const char *c); /* b, c may be NULL */
PTD_HIDDEN int ptdi_write_all(int fd, const void *buf, size_t len);         /* 0 or -1, errno */

/* Where `given` goes: `path` is it with every symbolic link followed, `dir` that path's
 * directory (where temporaries go).  `direct`: a device, FIFO or socket, written in place;
 * otherwise a temporary is renamed onto `path`, keeping an existing regular file's mode and
 * owner (`exists`).  A directory, a link loop or an unreadable link is PTD_EIO. */
typedef struct {
    char *given, *path, *dir;
    int direct, exists;
    mode_t mode;
    uid_t uid;
    gid_t gid;
} ptdi_dest;
PTD_HIDDEN int ptdi_dest_resolve(const char *path, ptdi_dest *d);
PTD_HIDDEN void ptdi_dest_free(ptdi_dest *d);
/* Put the finished file `tmp` (made beside d->path) in place: synced, given d's mode,
 * renamed; copied instead into a device or FIFO or across file systems. */
PTD_HIDDEN int ptdi_dest_install(const ptdi_dest *d, const char *tmp);

/* One file written through: open, write (any number of times), then commit (sync, mode,
 * close, rename: every error reported) or abort (the temporary removed). */
typedef struct {
    ptdi_dest d;
    char *tmp;
    int fd, slot;
} ptdi_out;
PTD_HIDDEN int ptdi_out_open(ptdi_out *o, const char *path);
PTD_HIDDEN int ptdi_out_write(ptdi_out *o, const void *buf, size_t len);
PTD_HIDDEN int ptdi_out_commit(ptdi_out *o);
PTD_HIDDEN void ptdi_out_abort(ptdi_out *o);

/* A new temporary file (fd returned, `mode` less the umask) or directory (0 returned, mode
 * 0700) named DIR/PREFIXxxxxxxxx, entered in the signal handlers' table before it exists;
 * -1 with errno on failure.  ptdi_tmp_remove deletes it (a directory with its contents)
 * and ptdi_tmp_forget drops it from the table once renamed away. */
PTD_HIDDEN int ptdi_tmp_create(const char *dir, const char *prefix, int is_dir, mode_t mode,
                               char **name, int *slot);
PTD_HIDDEN void ptdi_tmp_remove(int slot, const char *name);
PTD_HIDDEN void ptdi_tmp_forget(int slot);
/* A child process the signal handlers kill and reap; forget it before reaping it. */
PTD_HIDDEN int ptdi_child_track(pid_t pid);
PTD_HIDDEN void ptdi_child_forget(int slot);
/* Never returns while a signal handler is cleaning up before the process dies. */
PTD_HIDDEN void ptdi_die_if_signalled(void);

/* perturb.c's dense helpers, shared with optimize.c and matfile.c (n x n, column-major). */
#include <complex.h>
#include <gsl/gsl_rng.h>
PTD_HIDDEN double ptdi_now(void); /* CLOCK_MONOTONIC seconds */
/* C = op(A) op(B), op 'N' or 'C' (conjugate transpose), through BLAS zgemm */
PTD_HIDDEN void ptdi_gemm(size_t n, char ta, char tb, const double complex *A, const double complex *B,
                          double complex *C);
/* eigenvalues and unit-column right eigenvectors of M (overwritten), zgeevx with permutation
 * balancing only */
PTD_HIDDEN int ptdi_eig_unit(size_t n, double complex *M, double complex *lambda, double complex *V);
/* the same for a real M (overwritten), dgeevx: real eigenvalues and conjugate pairs, the one
 * of positive imaginary part first, their eigenvectors exactly conjugate */
PTD_HIDDEN int ptdi_eig_real(size_t n, double *M, double complex *lambda, double complex *V);
PTD_HIDDEN int ptdi_inverse(size_t n, const double complex *V, double complex *Vinv);
/* singular values (descending) and, with U and VT, the singular vectors of X (copied) */
PTD_HIDDEN int ptdi_svd(size_t n, const double complex *X, double *s, double complex *U, double complex *VT);
PTD_HIDDEN double ptdi_norm2_of(size_t n, const double complex *X); /* NaN if the SVD fails */
PTD_HIDDEN gsl_rng *ptdi_rng_seeded(unsigned long seed);
/* Btilde = Vinv B and Ctilde = C V of p (allocated when absent) for the given B, C (either NULL) */
PTD_HIDDEN int ptdi_ptd_project(ptd_ptd *p, const ptd_matrix *B, const ptd_matrix *C);
/* every entry of the n x n X has a zero imaginary part */
PTD_HIDDEN int ptdi_is_real(size_t n, const double complex *X);

#endif
