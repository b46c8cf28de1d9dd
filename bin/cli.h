/* cli.h - what the tools share: argument parsing, messages, progress, output files. */
#ifndef PTD_CLI_H
#define PTD_CLI_H

#include <complex.h>
#include <getopt.h>
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
/* A complex number written x, x+yi, x-yi or yi: 1, or 0 when s is not one (finite). */
int cli_parse_complex(const char *s, double complex *z);
/* The summary line of a distance to instability (ptd_pspec_stability_radius), on stderr. */
void cli_print_instability(const ptd_pspec_instability *r, int discrete, double floor_);
double cli_flops_crisscross(size_t n);      /* one pseudospectral abscissa or radius */
double cli_flops_point(size_t n, int svd);  /* sigma_min at one point (inverse Lanczos or zgesvd) */
double cli_flops_expm(size_t n, double tnorm1); /* ptd_transient_expm with ||tA||_1 = tnorm1, and a norm2 */
/* n complex n x n matrices take 16 n^2 bytes each. */
double cli_bytes_matrices(size_t n, double count);
/* One line on stderr, unless quiet, when `seconds` exceeds PTD_NOTICE_SECONDS (default 60):
 * "PROG: n = N: about 2.3 h and 5.4 GB ahead (rough estimate)".  Returns 1 when said. */
int cli_notice_work(int quiet, size_t n, double bytes, double seconds);
/* One line on stderr, unless quiet, before a phase estimated to take longer than
 * PTD_PROGRESS_SECONDS (default 5, when progress lines start): "PROG: WHAT: about 40 s (a
 * rough estimate)", for work that has no steps of its own to show.  Returns 1 when said. */
int cli_notice_phase(int quiet, const char *what, double seconds);

/* The command line as one string (for provenance); malloc'd. */
char *cli_command_line(int argc, char **argv);

/* Progress on stderr, unless quiet: on a terminal a bar, once the work has run for a
 * second; otherwise (a file, a pipe) a line "PROG: WHAT: 3/8 (37%), 12 s elapsed, about
 * 20 s left", or "WHAT: 37%, ...", once it has run for PTD_PROGRESS_SECONDS (default 5), then at most one every
 * 10 s and one at the end.  Use cli_progress as a ptd progress callback. */
typedef struct {
    double t0, last;
    int enabled, shown, tty;
    const char *what;
} cli_progress_state;
void cli_progress_start(cli_progress_state *s, int quiet, const char *what);
void cli_progress(void *ctx, size_t done, size_t total);
/* The same for a fraction 0..1 of the work (shown as a percentage). */
void cli_progress_fraction(cli_progress_state *s, double fraction);
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
/* As cli_zoo_make; rect: a file matrix may have more rows than columns (pspec). */
ptd_system *cli_zoo_make_rect(const char *spec, size_t n, unsigned long seed, int rect);

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
/* The same for a message kept from another thread (ptd_last_error is per thread, and the
 * result of both is a static buffer: call them from one thread). */
const char *cli_lib_error_of(const char *context, const char *msg);

/* ---- The options the tools share: one table (cli.c), one meaning, one parser ----
 *
 * A tool names the shared options it takes (CLI_OPT_*, besides -o, --format, --quiet,
 * --help and --version, which every tool takes) and its limits; cli_next parses them and
 * hands the tool only its own options.  The meanings:
 *   -n N              order of a named matrix
 *   --sizes A:B[:S|:xF]  orders A, 2A, 4A, ... <= B (the default step doubles), A, A+S, ...,
 *                     <= B, or round(A F^k) <= B (F > 1)
 *   -eps LIST         absolute eps (comma-separated); --relative: every eps of the tool (its
 *                     -eps and its eps ranges) is relative, multiplied by ||A||_2
 *   --points K        samples of a one-dimensional sweep (times, sizes, frequencies)
 *   --grid NX[xNY]    points per side of a two-dimensional grid
 *   --seed S          the seed of everything random in the run
 *   --threads T       threads (OpenMP loops and BLAS; default all cores) */
enum {
    CLI_OPT_N = 1u << 0,
    CLI_OPT_SIZES = 1u << 1,
    CLI_OPT_EPS = 1u << 2,
    CLI_OPT_RELATIVE = 1u << 3,
    CLI_OPT_POINTS = 1u << 4,
    CLI_OPT_GRID = 1u << 5,
    CLI_OPT_SEED = 1u << 6,
    CLI_OPT_THREADS = 1u << 7,
    CLI_NSHARED = 13 /* rows of the table: the eight above and the five every tool takes */
};

typedef struct {
    const char *name;          /* for --version and messages */
    unsigned accept;           /* CLI_OPT_* */
    const struct option *own;  /* the tool's own options, {NULL} ended; codes below 1000, none of n o h q */
    void (*usage)(void);       /* --help: prints the whole text, cli_help_shared included */
    size_t n_default, n_min, n_max;
    size_t sizes_min, sizes_max, sizes_count_max; /* with sizes_default[0..1] = A, B */
    size_t sizes_default[2];
    double eps_max;            /* the largest -eps value */
    int eps_one;               /* -eps takes one value, not a list */
    size_t points_default, points_min, points_max;
    size_t grid_default, grid_max;
    /* --help lines for the shared options (NULL: the table's text), the option column left
     * out: "order of a named matrix (default 64; at most 8192)" */
    const char *help[CLI_NSHARED];
} cli_tool;

/* Indices of cli_tool.help, the order in which cli_help_shared prints them. */
enum { CLI_H_N, CLI_H_SIZES, CLI_H_EPS, CLI_H_RELATIVE, CLI_H_POINTS, CLI_H_GRID, CLI_H_SEED, CLI_H_THREADS,
       CLI_H_OUTPUT, CLI_H_FORMAT, CLI_H_QUIET, CLI_H_HELP };

typedef struct {
    const char *out;          /* -o FILE (NULL: standard output) */
    int tsv, quiet;
    unsigned long seed;       /* default 1 */
    int threads;              /* 0: all */
    size_t n;
    int n_given;              /* -n was on the command line */
    size_t *sizes, nsizes;    /* malloc'd; the default range when not given */
    int sizes_given;
    double *eps;              /* malloc'd, as given (NULL: none given) */
    size_t neps;
    int relative;
    size_t points, nx, ny;
    char *cmd;                /* the command line, for provenance */
} cli_args;

/* cli_init, the defaults, and the command line (before getopt permutes argv). */
void cli_args_init(const cli_tool *t, cli_args *a, int argc, char **argv);
/* The next of the tool's own options (its code; optarg its value), or -1 after the last
 * option: then optind is the first operand and --threads has been applied
 * (ptd_set_threads).  Shared options are parsed here; --help and --version exit 0; an
 * unknown option or a missing value is a usage error. */
int cli_next(const cli_tool *t, cli_args *a, int argc, char **argv);
/* The --help lines of the shared options the tool takes, under a heading. */
void cli_help_shared(const cli_tool *t);
/* Sizes "A:B", "A:B:STEP" or "A:B:xF" (see above) with min <= A <= B <= max, at most
 * count_max of them; returns a malloc'd list. */
size_t *cli_sizes(const char *opt, const char *s, size_t min, size_t max, size_t count_max, size_t *count);
/* "sizes: 4, 8, 16, 32" (up to the first three and the last when there are more:
 * "sizes: 4, 5, 6, ..., 128 (31 sizes)") into buf; returns buf. */
char *cli_sizes_text(char *buf, size_t size, const size_t *v, size_t count);
/* eps for titles and summaries: "1e-3 ||A||_2 = 0.0322" (relative) or "0.001" (absolute),
 * each value to the digits it was given with (%.6g), never the 17 of the product. */
char *cli_eps_text(char *buf, size_t size, double eps, int relative, double norm);

#endif
