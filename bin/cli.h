/* cli.h - what the tools share: argument parsing, messages, progress, output files. */
#ifndef PTD_CLI_H
#define PTD_CLI_H

#include <complex.h>
#include <stddef.h>
#include <stdio.h>

#include "ptd.h"

/* Exit statuses of every tool. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Remember the program name for messages and switch GSL's abort handler off. */
void cli_init(const char *prog);
const char *cli_prog(void);

/* One-line messages on stderr, "PROG: message", then exit 2 (usage) or 1 (failure). */
_Noreturn void cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A note on stderr unless quiet. */
void cli_note(int quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parsers: each exits with status 2 and a message naming the option and quoting its whole
 * value on bad input. */
size_t cli_size(const char *opt, const char *s, size_t min, size_t max);
double cli_double(const char *opt, const char *s);                 /* finite */
double cli_positive(const char *opt, const char *s);               /* finite, > 0 */
double cli_positive_max(const char *opt, const char *s, double max); /* in (0, max] */
unsigned long cli_ulong(const char *opt, const char *s);
/* A comma-separated list has no empty item: no leading, trailing or doubled comma.  `what`
 * names the items for the message. */
void cli_list_check(const char *opt, const char *s, const char *what);
/* Comma-separated numbers in (0, max]; returns a malloc'd array. */
double *cli_positive_list(const char *opt, const char *s, double max, size_t *count);
/* "NX" or "NXxNY", each 2..max. */
void cli_grid(const char *opt, const char *s, size_t max, size_t *nx, size_t *ny);
/* "A:B" or "A:B:STEP" sizes, min <= A <= B <= max, STEP >= 1 (0 when not given). */
void cli_size_range(const char *opt, const char *s, size_t min, size_t max, size_t *a, size_t *b, size_t *step);
/* "A:B", two finite numbers with A < B and B - A finite (A > 0 when `positive`). */
void cli_double_range(const char *opt, const char *s, int positive, double *a, double *b);
/* "A,B,C,D" with A < B and C < D, all finite, B - A and D - C finite. */
void cli_box4(const char *opt, const char *s, double out[4]);
/* `points` equally spaced values from a to b (option opt, value s; the count from option
 * points_opt) must be told apart: a spacing of at least 2 DBL_EPSILON max(|a|, |b|) and at
 * least DBL_MIN. */
void cli_check_spacing(const char *opt, const char *s, double a, double b, size_t points, const char *points_opt);

/* --format: 0 for gnuplot, 1 for tsv; anything else is a usage error.  Remembered for
 * cli_output_kind: an explicit format decides what -o gets, whatever its extension. */
int cli_format(const char *arg);
/* getopt's '?': a missing value (for one of the short options `needs_value`) or an
 * unknown option; a usage error either way. */
_Noreturn void cli_bad_option(char **argv, const char *needs_value);
/* The one positional MATRIX after the options, or a usage error. */
const char *cli_one_matrix(int argc, char **argv);

/* Work ahead: before an O(n^3) computation on a matrix the user gave, a rough estimate of
 * its time and memory, said on stderr when it is long.  The flop counts are the leading
 * terms (real flops) of what the library runs, with constants measured on a 2-core x86-64;
 * they run at about CLI_FLOP_RATE flop/s per thread. */
#define CLI_FLOP_RATE 1e10
double cli_flops_plan(const ptd_matrix *A); /* ptd_pspec_plan_create: zgees (or norm2 only, triangular) */
double cli_flops_eig(size_t n);             /* ptd_cond_eig: zgeev with vectors, kappa(V) */
double cli_flops_crisscross(size_t n);      /* one pseudospectral abscissa or radius */
double cli_flops_point(size_t n, int svd);  /* sigma_min at one point (inverse Lanczos or zgesvd) */
double cli_flops_expm(size_t n, double tnorm1); /* ptd_transient_expm with ||tA||_1 = tnorm1, and a norm2 */
/* n complex n x n matrices take 16 n^2 bytes each. */
double cli_bytes_matrices(size_t n, double count);
/* One line on stderr, unless quiet, when `seconds` exceeds PTD_NOTICE_SECONDS (default 60):
 * "PROG: n = N: about 2.3 h and 5.4 GB ahead (rough estimate)".  Returns 1 when said. */
int cli_notice_work(int quiet, size_t n, double bytes, double seconds);

/* The command line as one string (for provenance); malloc'd. */
char *cli_command_line(int argc, char **argv);

/* Progress bar on stderr, shown only on a terminal, unless quiet, and only once the work
 * has run for more than a second.  Use cli_progress as a ptd progress callback. */
typedef struct {
    double t0;
    int enabled, shown;
    const char *what;
} cli_progress_state;
void cli_progress_start(cli_progress_state *s, int quiet, const char *what);
void cli_progress(void *ctx, size_t done, size_t total);
void cli_progress_end(cli_progress_state *s);
double cli_now(void);

/* Text written to a growing memory buffer (open_memstream); close before reading. */
typedef struct {
    char *buf;
    size_t len;
    FILE *f;
} cli_membuf;
FILE *cli_mem_open(cli_membuf *m);
void cli_mem_close(cli_membuf *m);

/* The names of the zoo, ", "-separated (malloc'd), for messages. */
char *cli_zoo_names(void);
/* ptd_zoo_make with the tools' error handling: unknown names and bad n are usage errors
 * (exit 2) listing the choices, file problems failures (exit 1). */
ptd_system *cli_zoo_make(const char *spec, size_t n, unsigned long seed);

/* Output kinds by -o extension. */
typedef enum { OUT_STDOUT, OUT_IMAGE, OUT_SCRIPT, OUT_DATA } cli_out_kind;
/* Classify -o PATH (NULL or "-" is stdout).  An image extension draws an image; otherwise
 * an explicit --format (cli_format) decides, then the extension (.gp script, .dat/.tsv
 * data), and a device or FIFO takes the default format, the script; anything else exits 2.
 * For a file, checks now that it can be written (exit 1 otherwise) and, for an image, that
 * gnuplot can be found (exit 1 otherwise), so that no work is wasted. */
cli_out_kind cli_output_kind(const char *path);
/* Exit 1 unless PATH can be written (ptd_output_check: a device or FIFO itself, anything
 * else its directory, links followed). */
void cli_check_writable(const char *path);
/* --save FILE: writable (exit 1 otherwise) and not the same file as -o OUT (NULL: standard
 * output) or OUT's companion .pdf (exit 2). */
void cli_check_save(const char *save, const char *out);
/* Write the result: the gnuplot script or the tsv text to stdout or to PATH (atomically),
 * or render the script to an image.  Exits 1 with a message on failure. */
void cli_emit(const char *path, int tsv, const char *script, size_t slen, const char *data,
              size_t dlen);

/* v with the significant digits its absolute error err supports (17 when err is 0, 6 when it
 * is not finite), "%.*g" into buf (at least 32 bytes); returns buf. */
char *cli_digits(char *buf, size_t size, double v, double err);
/* z as "x+yi" with each part to the digits an absolute error err supports; a part within err
 * of 0 is written 0 (the imaginary part of a point on the real axis is rounding). */
char *cli_complex(char *buf, size_t size, double complex z, double err);
/* The library's last error under a context ("numerical range: ..."), the context left out
 * when the message begins with it already: the library names what failed in most messages,
 * and a tool repeating it would print "x: x: ...". */
const char *cli_lib_error(const char *context);

#endif
