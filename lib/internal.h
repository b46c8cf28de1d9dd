/* internal.h - shared by libptd's sources; not installed. */
#ifndef PTD_INTERNAL_H
#define PTD_INTERNAL_H

#include "ptd.h"

#include <float.h>

/* Internal functions share the public ptd_ prefix (they read as part of the funnel) but
 * stay out of the shared library's symbol table. */
#define PTD_HIDDEN __attribute__((visibility("hidden")))

/* Unit roundoff of IEEE double (half the machine epsilon). */
#define PTD_U (DBL_EPSILON / 2)

/* The one error funnel: record a formatted one-line message for ptd_last_error() and
 * return `status`.  Put a breakpoint here to catch every error. */
PTD_HIDDEN int ptd_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forget the last error (start of a public call that may succeed). */
PTD_HIDDEN void ptd_clear_error(void);
/* Map a LAPACK info value: < 0 illegal argument, > 0 no convergence. */
PTD_HIDDEN int ptd_lapack_status(const char *routine, int info);

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

#endif
