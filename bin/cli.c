/* cli.c - what the tools share. */
#include "config.h"
#include "cli.h"
#include "ptd.h"

#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "ptd";
/* --format as given: -1 not given (the -o extension decides), 0 gnuplot, 1 tsv */
static int format_given = -1;

void cli_init(const char *p)
{
    const char *slash = strrchr(p, '/');
    prog = slash ? slash + 1 : p;
    ptd_init();
    /* no temporary file and no gnuplot outlives a signal */
    if (ptd_output_handle_signals()) cli_fail("%s", ptd_last_error());
}

const char *cli_prog(void) { return prog; }

__attribute__((format(printf, 1, 0))) static void vmsg(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see %s --help)\n", prog);
    va_end(ap);
    exit(CLI_USAGE);
}

void cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    exit(CLI_FAIL);
}

void cli_note(int quiet, const char *fmt, ...)
{
    if (quiet) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

/* an integer in min..max, the whole string and nothing else */
static int parse_size(const char *s, size_t min, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+' || *s == ' ') return 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno == ERANGE || v < min || v > max) return 0;
    *out = (size_t)v;
    return 1;
}

size_t cli_size(const char *opt, const char *s, size_t min, size_t max)
{
    size_t v;
    if (parse_size(s, min, max, &v)) return v;
    if (*s && strspn(s, "0123456789") == strlen(s) && !parse_size(s, 0, max, &v))
        cli_usage("%s = %s is too large (at most %zu)", opt, s, max);
    cli_usage("%s must be an integer in %zu..%zu (got '%s')", opt, min, max, s);
}

unsigned long cli_ulong(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-') cli_usage("%s must be a non-negative integer (got '%s')", opt, s);
    unsigned long v = strtoul(s, &end, 10);
    if (*end || errno == ERANGE) cli_usage("%s must be a non-negative integer (got '%s')", opt, s);
    return v;
}

/* A finite double, the whole string.  strtod's ERANGE also refuses what underflows into
 * the subnormals: such a value cannot be used as a size or a step. */
static int parse_finite(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

double cli_double(const char *opt, const char *s)
{
    double v;
    if (!parse_finite(s, &v)) cli_usage("%s needs a finite number (got '%s')", opt, s);
    return v;
}

double cli_positive(const char *opt, const char *s)
{
    double v;
    if (!parse_finite(s, &v) || !(v > 0)) cli_usage("%s needs a positive finite number (got '%s')", opt, s);
    return v;
}

double cli_positive_max(const char *opt, const char *s, double max)
{
    double v;
    if (!parse_finite(s, &v) || !(v > 0) || !(v <= max))
        cli_usage("%s needs a number in (0, %g] (got '%s')", opt, max, s);
    return v;
}

void cli_list_check(const char *opt, const char *s, const char *what)
{
    size_t len = strlen(s);
    if (len == 0 || s[0] == ',' || s[len - 1] == ',' || strstr(s, ",,"))
        cli_usage("%s needs %s separated by single commas, with no empty item (got '%s')", opt, what, s);
}

double *cli_positive_list(const char *opt, const char *s, double max, size_t *count)
{
    char what[96];
    snprintf(what, sizeof what, "numbers in (0, %g]", max);
    cli_list_check(opt, s, what);
    size_t cap = 1;
    for (const char *c = s; *c; c++) cap += *c == ',';
    double *v = malloc(cap * sizeof *v);
    char *copy = strdup(s);
    if (!v || !copy) cli_fail("out of memory");
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!parse_finite(tok, &v[n]) || !(v[n] > 0) || !(v[n] <= max))
            cli_usage("%s needs %s separated by commas (got '%s': '%s' is not one)", opt, what, s, tok);
        n++;
    }
    free(copy);
    *count = n;
    return v;
}

/* Split "A<sep>B[<sep>C]" into the parts of a copy in buf: their number (1 to 3), 4 when
 * there are more, 0 when the value does not fit the buffer. */
static int split3(const char *s, char sep, char *buf, size_t size, char *part[3])
{
    if (strlen(s) >= size) return 0;
    memcpy(buf, s, strlen(s) + 1);
    int np = 0;
    part[np++] = buf;
    for (char *c = buf; *c; c++)
        if (*c == sep) {
            if (np == 3) return 4;
            *c = '\0';
            part[np++] = c + 1;
        }
    return np;
}

void cli_grid(const char *opt, const char *s, size_t max, size_t *nx, size_t *ny)
{
    char buf[64], *part[3];
    int np = split3(s, 'x', buf, sizeof buf, part);
    if (np < 1 || np > 2 || !parse_size(part[0], 2, max, nx) || (np == 2 && !parse_size(part[1], 2, max, ny)))
        cli_usage("%s needs NX or NXxNY, integers in 2..%zu (got '%s')", opt, max, s);
    if (np == 1) *ny = *nx;
}

void cli_size_range(const char *opt, const char *s, size_t min, size_t max, size_t *a, size_t *b, size_t *step)
{
    char buf[96], *part[3];
    int np = split3(s, ':', buf, sizeof buf, part);
    *step = 0;
    if (np < 2 || np > 3 || !parse_size(part[0], min, max, a) || !parse_size(part[1], min, max, b) ||
        (np == 3 && !parse_size(part[2], 1, max, step)) || *a > *b)
        cli_usage("%s needs A:B or A:B:STEP, integers with %zu <= A <= B <= %zu and STEP >= 1 (got '%s')", opt, min,
                  max, s);
}

void cli_double_range(const char *opt, const char *s, int positive, double *a, double *b)
{
    char buf[96], *part[3];
    int np = split3(s, ':', buf, sizeof buf, part);
    if (np != 2 || !parse_finite(part[0], a) || !parse_finite(part[1], b) || !(*a < *b) ||
        (positive && !(*a > 0)) || !isfinite(*b - *a))
        cli_usage("%s needs A:B with finite A < B%s (got '%s')", opt,
                  positive ? ", A > 0 (from 2.2250738585072014e-308 on: smaller values underflow)" : ", B - A finite", s);
}

void cli_box4(const char *opt, const char *s, double out[4])
{
    static const char what[] = "four finite numbers XMIN,XMAX,YMIN,YMAX";
    cli_list_check(opt, s, what);
    char *copy = strdup(s);
    if (!copy) cli_fail("out of memory");
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == 4 || !parse_finite(tok, &out[n])) cli_usage("%s needs %s (got '%s')", opt, what, s);
        n++;
    }
    free(copy);
    if (n != 4) cli_usage("%s needs %s (got '%s')", opt, what, s);
    if (!(out[0] < out[1]) || !(out[2] < out[3]))
        cli_usage("%s needs XMIN < XMAX and YMIN < YMAX (got '%s')", opt, s);
    if (!isfinite(out[1] - out[0]) || !isfinite(out[3] - out[2]))
        cli_usage("%s: the width XMAX - XMIN and the height YMAX - YMIN must be at most %.3g, the largest double "
                  "(got '%s')", opt, DBL_MAX, s);
}

void cli_check_spacing(const char *opt, const char *s, double a, double b, size_t points, const char *points_opt)
{
    double h = (b - a) / (double)(points - 1), need = fmax(DBL_MIN, 2 * DBL_EPSILON * fmax(fabs(a), fabs(b)));
    if (!(h >= need))
        cli_usage("%s '%s' with %s %zu: the points would be %.3g apart, below the %.3g that doubles tell apart "
                  "there (widen the range or take fewer points)", opt, s, points_opt, points, h, need);
}

int cli_format(const char *arg)
{
    if (strcmp(arg, "gnuplot") == 0) return format_given = 0;
    if (strcmp(arg, "tsv") == 0) return format_given = 1;
    cli_usage("--format must be gnuplot or tsv (got '%s')", arg);
}

void cli_bad_option(char **argv, const char *needs_value)
{
    if (optopt && strchr(needs_value, optopt)) cli_usage("option -%c needs a value", optopt);
    cli_usage("unknown option or missing value: '%s'", argv[optind - 1]);
}

const char *cli_one_matrix(int argc, char **argv)
{
    if (optind >= argc) cli_usage("no MATRIX given");
    if (optind + 1 < argc) cli_usage("one MATRIX only (got '%s' and '%s')", argv[optind], argv[optind + 1]);
    return argv[optind];
}

double cli_flops_plan(const ptd_matrix *A)
{
    double n = (double)A->rows;
    /* zgees with Schur vectors and the norm's zgesvd: about 100 n^3 (grcar, n = 1024: 10 s);
     * a triangular matrix is its own Schur form, only the norm is computed */
    return (ptd_matrix_is_upper(A) || ptd_matrix_is_lower(A) ? 10 : 100) * n * n * n;
}

double cli_flops_eig(size_t n) { return 150 * (double)n * (double)n * (double)n; }

/* two or three eigenproblems of order 2n (real ones for a real A), and the verification grid
 * (measured 2026-12-02, pspec grcar -eps 1e-2 --abscissa --radius, n = 150 and 300, at
 * CLI_FLOP_RATE: 285 to 340 n^3 each; 1600 n^3 made transient's notice five times too long) */
double cli_flops_crisscross(size_t n) { return 400 * (double)n * (double)n * (double)n; }

/* inverse Lanczos: about 6.5 steps of two triangular solves, done for blocks of points at once
 * (measured 2026-12-02, pspec grcar --grid 150 --threads 1, n = 100 to 400, at CLI_FLOP_RATE: 28 to 42
 * n^2 a point, plan included; 200 n^2 made the notice six times too long); a dense SVD otherwise */
double cli_flops_point(size_t n, int svd) { return svd ? 40 * (double)n * (double)n * (double)n : 45 * (double)n * (double)n; }

/* Pade 13 with s squarings, the solve and the norm's SVD: (6 + s) complex products at zgemm's
 * rate, which is several times CLI_FLOP_RATE (measured 2026-12-02, transient grcar, n = 200 to
 * 400, 2 threads: 24 to 30 n^3 an exponential at CLI_FLOP_RATE with t ||A||_1 up to 50; the
 * model of 8 (6 + s) + 30 n^3 for the largest t at every time announced 1.2 min for 13 s) */
double cli_flops_expm(size_t n, double tnorm1)
{
    double s = tnorm1 > 5.37 ? ceil(log2(tnorm1 / 5.37)) : 0, nn = (double)n;
    return ((6 + fmin(s, 2100)) * 2 + 8) * nn * nn * nn;
}

double cli_bytes_matrices(size_t n, double count) { return 16 * (double)n * (double)n * count; }

static void human(char *buf, size_t len, double v, const char *const *units, const double *scale, int nu)
{
    int u = 0;
    while (u + 1 < nu && v >= scale[u + 1]) u++;
    snprintf(buf, len, "%.3g %s", v / scale[u], units[u]);
}

int cli_notice_work(int quiet, size_t n, double bytes, double seconds)
{
    double limit = 60;
    const char *env = getenv("PTD_NOTICE_SECONDS");
    if (env && *env) {
        char *end;
        double v = strtod(env, &end);
        if (!*end && v >= 0) limit = v;
    }
    if (quiet || !(seconds > limit)) return 0;
    static const char *const tu[] = {"s", "min", "h", "days"}, *const mu[] = {"kB", "MB", "GB", "TB"};
    static const double ts[] = {1, 60, 3600, 86400}, ms[] = {1e3, 1e6, 1e9, 1e12};
    char t[32], m[32];
    human(t, sizeof t, seconds, tu, ts, 4);
    human(m, sizeof m, bytes, mu, ms, 4);
    fprintf(stderr, "%s: n = %zu: about %s of computing and %s of memory ahead (a rough estimate)\n", prog, n, t, m);
    return 1;
}

/* PTD_PROGRESS_SECONDS: when the progress lines start in a file or pipe (default 5) */
static double progress_after(void)
{
    static double after = -1;
    if (after < 0) {
        const char *e = getenv("PTD_PROGRESS_SECONDS");
        char *end;
        double v = e && *e ? strtod(e, &end) : 5;
        after = e && *e && *end == '\0' && v >= 0 && isfinite(v) ? v : 5;
    }
    return after;
}

int cli_notice_phase(int quiet, const char *what, double seconds)
{
    if (quiet || !(seconds > progress_after())) return 0;
    static const char *const tu[] = {"s", "min", "h", "days"};
    static const double ts[] = {1, 60, 3600, 86400};
    char t[32];
    human(t, sizeof t, seconds, tu, ts, 4);
    fprintf(stderr, "%s: %s: about %s (a rough estimate)\n", prog, what, t);
    return 1;
}

char *cli_command_line(int argc, char **argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++) len += strlen(argv[i]) + 3;
    char *s = malloc(len);
    if (!s) cli_fail("out of memory");
    s[0] = '\0';
    for (int i = 0; i < argc; i++) {
        const char *a = i == 0 ? prog : argv[i];
        int quote = strpbrk(a, " \t") != NULL;
        if (i) strcat(s, " ");
        if (quote) strcat(s, "'");
        strcat(s, a);
        if (quote) strcat(s, "'");
    }
    return s;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_start(cli_progress_state *s, int quiet, const char *what)
{
    s->t0 = cli_now();
    s->last = 0;
    s->enabled = !quiet;
    s->tty = isatty(STDERR_FILENO);
    s->shown = 0;
    s->what = what;
}

/* fraction f of the work done; done/total when total > 0, else a percentage */
static void progress_show(cli_progress_state *s, double f, size_t done, size_t total)
{
    if (!s->enabled || !(f >= 0)) return;
    if (f > 1) f = 1;
    double el = cli_now() - s->t0;
    double eta = f > 0 ? el * (1 - f) / f : 0;
    char count[64] = "";
    if (total) snprintf(count, sizeof count, " %zu/%zu", done, total);
    char where[96];
    if (total) snprintf(where, sizeof where, "%s (%d%%)", count, (int)(100.0 * f));
    else snprintf(where, sizeof where, " %d%%", (int)(100.0 * f));
    if (s->tty) {
        if (el < 1.0 && !s->shown) return;
        s->shown = 1;
        int width = 30, fill = (int)((double)width * f);
        fprintf(stderr, "\r%s: %s [%.*s%*s] %3d%%%s, %.0f s left ", prog, s->what, fill,
                "##############################", width - fill, "", (int)(100.0 * f), count, eta);
        fflush(stderr);
        return;
    }
    if (el < progress_after()) return;
    if (s->shown && f < 1 && el - s->last < 10) return;
    if (s->shown && f >= 1 && s->last >= el) return;
    s->shown = 1;
    s->last = el;
    if (f < 1)
        fprintf(stderr, "%s: %s:%s, %.0f s elapsed, about %.0f s left\n", prog, s->what, where, el, eta);
    else
        fprintf(stderr, "%s: %s:%s done, %.0f s elapsed\n", prog, s->what, count, el);
}

void cli_progress(void *ctx, size_t done, size_t total)
{
    if (total == 0) return;
    progress_show(ctx, (double)done / (double)total, done, total);
}

void cli_progress_fraction(cli_progress_state *s, double fraction) { progress_show(s, fraction, 0, 0); }

void cli_progress_end(cli_progress_state *s)
{
    if (s->shown && s->tty) fprintf(stderr, "\r%*s\r", 79, "");
}

static const char *extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash)) return "";
    return dot;
}

static int find_gnuplot(void)
{
    const char *env = getenv("PTD_GNUPLOT");
    if (env && *env) return strchr(env, '/') ? access(env, X_OK) == 0 : 1;
    const char *path = getenv("PATH");
    if (!path) return 0;
    char *copy = strdup(path), *save = NULL;
    int found = 0;
    for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char buf[PATH_MAX];
        snprintf(buf, sizeof buf, "%s/gnuplot", *d ? d : ".");
        found = access(buf, X_OK) == 0;
    }
    free(copy);
    return found;
}

void cli_check_writable(const char *path)
{
    if (ptd_output_check(path)) cli_fail("%s", ptd_last_error());
}

/* a device, FIFO or socket (links followed): written like standard output */
static int is_special(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode);
}

cli_out_kind cli_output_kind(const char *path)
{
    if (!path || strcmp(path, "-") == 0) return OUT_STDOUT;
    const char *ext = extension(path);
    cli_out_kind k;
    if (ptd_plot_is_image(path)) k = OUT_IMAGE; /* --format tsv there: each tool refuses it */
    else if (format_given >= 0) k = format_given ? OUT_DATA : OUT_SCRIPT;
    else if (strcmp(ext, ".gp") == 0) k = OUT_SCRIPT;
    else if (strcmp(ext, ".dat") == 0 || strcmp(ext, ".tsv") == 0) k = OUT_DATA;
    else if (is_special(path)) k = OUT_SCRIPT; /* /dev/null, a FIFO: the default format */
    else
        cli_usage("-o %s: unknown extension '%s' (accepted: .png .svg .pdf .tex .gp .dat .tsv, or any "
                  "name with --format gnuplot|tsv)", path, *ext ? ext : "(none)");
    cli_check_writable(path); /* fail before the computation */
    if (k == OUT_IMAGE && !find_gnuplot())
        cli_fail("cannot draw %s: gnuplot not found (install the Debian package gnuplot-nox, or use -o FILE.gp)", path);
    return k;
}

/* Whether two output paths name one file: the same inode where both exist, the same
 * directory and name where neither does.  A character device (/dev/null) can take any
 * number of outputs; NULL or "-" is standard output, compared by what it is open on. */
static int same_output(const char *a, const char *b)
{
    struct stat sa, sb;
    int ea = strcmp(a, "-") == 0 ? fstat(STDOUT_FILENO, &sa) : stat(a, &sa);
    int eb = strcmp(b, "-") == 0 ? fstat(STDOUT_FILENO, &sb) : stat(b, &sb);
    if (ea == 0 && eb == 0) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && !S_ISCHR(sa.st_mode);
    if (ea == 0 || eb == 0 || strcmp(a, "-") == 0 || strcmp(b, "-") == 0) return 0;
    char *na = NULL, *nb = NULL;
    const char *p[2] = {a, b};
    char **out[2] = {&na, &nb};
    for (int k = 0; k < 2; k++) {
        const char *slash = strrchr(p[k], '/');
        char dir[PATH_MAX], real[PATH_MAX];
        snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - p[k]) + 1 : 1, slash ? p[k] : ".");
        if (realpath(dir, real)) {
            *out[k] = malloc(strlen(real) + strlen(p[k]) + 2);
            if (*out[k]) sprintf(*out[k], "%s/%s", real, slash ? slash + 1 : p[k]);
        }
    }
    int same = na && nb && strcmp(na, nb) == 0;
    free(na);
    free(nb);
    return same;
}

void cli_check_save(const char *save, const char *out)
{
    cli_check_writable(save);
    const char *o = out ? out : "-";
    if (same_output(save, o)) cli_usage("--save %s and -o %s are the same file: give two names", save, o);
    /* a .tex brings its companion .pdf */
    if (out && ptd_plot_is_image(out) && strcasecmp(extension(out), ".tex") == 0) {
        char pdf[PATH_MAX];
        snprintf(pdf, sizeof pdf, "%.*s.pdf", (int)(strlen(out) - 4), out);
        if (same_output(save, pdf))
            cli_usage("--save %s is the same file as %s, the companion of -o %s: give two names", save, pdf, out);
    }
}

void cli_emit(const char *path, int tsv, const char *script, size_t slen, const char *data, size_t dlen)
{
    cli_out_kind k = cli_output_kind(path);
    int st = PTD_OK;
    switch (k) {
    case OUT_STDOUT:
        if (tsv ? fwrite(data, 1, dlen, stdout) != dlen : fwrite(script, 1, slen, stdout) != slen)
            cli_fail("writing to standard output: %s", strerror(errno));
        if (fflush(stdout) != 0) cli_fail("writing to standard output: %s", strerror(errno));
        return;
    case OUT_IMAGE: st = ptd_plot_render(script, path); break;
    case OUT_SCRIPT: st = ptd_plot_write_file(path, script, slen); break;
    case OUT_DATA: st = ptd_plot_write_file(path, data, dlen); break;
    }
    if (st) cli_fail("%s", ptd_last_error());
}

FILE *cli_mem_open(cli_membuf *m)
{
    m->buf = NULL;
    m->len = 0;
    m->f = open_memstream(&m->buf, &m->len);
    if (!m->f) cli_fail("out of memory");
    return m->f;
}

void cli_mem_close(cli_membuf *m)
{
    if (fclose(m->f) != 0) cli_fail("out of memory");
    m->f = NULL;
}

char *cli_zoo_names(void)
{
    size_t len = 1;
    for (size_t i = 0; i < ptd_zoo_count(); i++) len += strlen(ptd_zoo_name(i)) + 2;
    char *s = calloc(len, 1);
    if (!s) cli_fail("out of memory");
    for (size_t i = 0; i < ptd_zoo_count(); i++) {
        if (i) strcat(s, ", ");
        strcat(s, ptd_zoo_name(i));
    }
    return s;
}

ptd_system *cli_zoo_make(const char *spec, size_t n, unsigned long seed) { return cli_zoo_make_rect(spec, n, seed, 0); }

ptd_system *cli_zoo_make_rect(const char *spec, size_t n, unsigned long seed, int rect)
{
    ptd_system *sys = NULL;
    int st = rect ? ptd_zoo_make_rect(spec, n, seed, &sys) : ptd_zoo_make(spec, n, seed, &sys);
    if (st == PTD_ENOTFOUND) {
        char *names = cli_zoo_names();
        cli_usage("unknown matrix '%s' (known: %s; or file:PATH, or - for standard input)", spec, names);
    }
    if (st == PTD_EINVAL && strncmp(spec, "file:", 5) != 0 && strcmp(spec, "-") != 0) cli_usage("%s", ptd_last_error());
    if (st) cli_fail("%s", ptd_last_error());
    return sys;
}

char *cli_digits(char *buf, size_t size, double v, double err)
{
    snprintf(buf, size, "%.*g", ptd_digits(v, err), v);
    return buf;
}

char *cli_complex(char *buf, size_t size, double complex z, double err)
{
    double re = creal(z), im = cimag(z);
    if (isfinite(err) && fabs(re) <= err) re = 0;
    if (isfinite(err) && fabs(im) <= err) im = 0;
    snprintf(buf, size, "%.*g%+.*gi", ptd_digits(re, err), re, ptd_digits(im, err), im);
    return buf;
}

const char *cli_lib_error(const char *context) { return cli_lib_error_of(context, ptd_last_error()); }

const char *cli_lib_error_of(const char *context, const char *msg)
{
    static char buf[640];
    size_t k = strlen(context);
    if (strncmp(msg, context, k) == 0 && (msg[k] == ':' || msg[k] == ' ' || msg[k] == '\0')) return msg;
    snprintf(buf, sizeof buf, "%s: %s", context, msg);
    return buf;
}

/* ---- the shared options ---- */

enum { C_SIZES = 1000, C_EPS, C_RELATIVE, C_POINTS, C_GRID, C_SEED, C_THREADS, C_FORMAT, C_VERSION };

/* The table: name, argument, code, the tools that take it (0: every tool), the option column
 * of --help and the text when the tool gives none. */
static const struct {
    struct option opt;
    unsigned flag;
    const char *column, *help;
} shared[CLI_NSHARED] = {
    [CLI_H_N] = {{"n", required_argument, NULL, 'n'}, CLI_OPT_N, "-n N", "order of a named matrix"},
    [CLI_H_SIZES] = {{"sizes", required_argument, NULL, C_SIZES}, CLI_OPT_SIZES, "--sizes A:B[:S]",
                     "orders A, 2A, 4A, ... up to B; A:B:S steps by S, A:B:xF multiplies by F"},
    [CLI_H_EPS] = {{"eps", required_argument, NULL, C_EPS}, CLI_OPT_EPS, "-eps LIST",
                   "comma-separated eps, absolute (with --relative: times ||A||_2)"},
    [CLI_H_RELATIVE] = {{"relative", no_argument, NULL, C_RELATIVE}, CLI_OPT_RELATIVE, "--relative",
                        "every eps given is relative: multiplied by ||A||_2"},
    [CLI_H_POINTS] = {{"points", required_argument, NULL, C_POINTS}, CLI_OPT_POINTS, "--points K",
                      "samples of the sweep"},
    [CLI_H_GRID] = {{"grid", required_argument, NULL, C_GRID}, CLI_OPT_GRID, "--grid NX[xNY]",
                    "grid points per side, edges included"},
    [CLI_H_SEED] = {{"seed", required_argument, NULL, C_SEED}, CLI_OPT_SEED, "--seed S",
                    "seed of everything random (default 1)"},
    [CLI_H_THREADS] = {{"threads", required_argument, NULL, C_THREADS}, CLI_OPT_THREADS, "--threads T",
                       "threads (default: all cores)"},
    [CLI_H_OUTPUT] = {{"output", required_argument, NULL, 'o'}, 0, "-o FILE",
                      ".png .svg .pdf .tex (image, by gnuplot), .gp (script),\n"
                      ".dat or .tsv (data); default: the gnuplot script on stdout"},
    [CLI_H_FORMAT] = {{"format", required_argument, NULL, C_FORMAT}, 0, "--format F",
                      "gnuplot (default) or tsv, whatever the name given to -o"},
    [CLI_H_QUIET] = {{"quiet", no_argument, NULL, 'q'}, 0, "--quiet", "no summary or progress on standard error"},
    [CLI_H_HELP] = {{"help", no_argument, NULL, 'h'}, 0, "--help, --version", "this text; the version"},
    [CLI_H_HELP + 1] = {{"version", no_argument, NULL, C_VERSION}, 0, NULL, NULL},
};

static int takes(const cli_tool *t, int row) { return !shared[row].flag || (t->accept & shared[row].flag); }

static char *cmd_to_free;
static void free_cmd(void) { free(cmd_to_free); }

void cli_args_init(const cli_tool *t, cli_args *a, int argc, char **argv)
{
    cli_init(argv[0]);
    memset(a, 0, sizeof *a);
    a->cmd = cmd_to_free = cli_command_line(argc, argv);
    atexit(free_cmd);
    a->seed = 1;
    a->n = t->n_default;
    a->points = t->points_default;
    a->nx = a->ny = t->grid_default;
    if (t->accept & CLI_OPT_SIZES)
        a->sizes = cli_sizes("--sizes", "", t->sizes_default[0], t->sizes_default[1], t->sizes_count_max, &a->nsizes);
}

/* the options getopt sees: the tool's own, then the shared ones it takes */
static struct option *merged_options(const cli_tool *t)
{
    size_t own = 0;
    while (t->own && t->own[own].name) own++;
    struct option *o = calloc(own + CLI_NSHARED + 1, sizeof *o);
    if (!o) cli_fail("out of memory");
    size_t k = 0;
    for (size_t i = 0; i < own; i++) o[k++] = t->own[i];
    for (int r = 0; r < CLI_NSHARED; r++) {
        if (!takes(t, r)) continue;
        for (size_t i = 0; i < own; i++)
            if (strcmp(t->own[i].name, shared[r].opt.name) == 0)
                cli_fail("internal error: --%s is a shared option and one of %s's own", t->own[i].name, t->name);
        o[k++] = shared[r].opt;
    }
    return o;
}

static void free_options(struct option **o)
{
    free(*o);
    *o = NULL;
}

/* getopt_long_only takes an unambiguous prefix of a long option for it: in a tool without
 * -eps, "-eps 0.1" would be ptd-sweep's --eps-range.  A shared option's full name given to a
 * tool that does not take it is refused instead, as every tool refuses it, whatever its own
 * options happen to begin with.  `matched`: the long option getopt chose. */
static void refuse_shared_prefix(const cli_tool *t, char **argv, const char *matched)
{
    /* the element just read: the option, or its value when that came separately */
    const char *el = argv[optind - 1];
    if (optarg && optarg == el && optind >= 2) el = argv[optind - 2];
    if (el[0] != '-') return;
    const char *name = el + (el[1] == '-' ? 2 : 1);
    size_t len = strcspn(name, "=");
    if (strlen(matched) == len && strncmp(name, matched, len) == 0) return; /* given in full */
    for (int r = 0; r < CLI_NSHARED; r++)
        if (!takes(t, r) && strlen(shared[r].opt.name) == len && strncmp(name, shared[r].opt.name, len) == 0)
            cli_usage("unknown option '%.*s': %s does not take the shared %.*s (ptdkit(7)); for --%s, write it in full",
                      (int)(len + (size_t)(name - el)), el, t->name, (int)strcspn(shared[r].column, " "),
                      shared[r].column, matched);
}

int cli_next(const cli_tool *t, cli_args *a, int argc, char **argv)
{
    static struct option *opts;
    static const cli_tool *built;
    if (built != t) {
        free(opts);
        opts = merged_options(t);
        built = t;
    }
    opterr = 0;
    for (;;) {
        int li = -1;
        int c = getopt_long_only(argc, argv, t->accept & CLI_OPT_N ? "n:o:hq" : "o:hq", opts, &li);
        if (li >= 0) refuse_shared_prefix(t, argv, opts[li].name);
        switch (c) {
        case -1:
            if (a->threads) ptd_set_threads(a->threads);
            free_options(&opts);
            built = NULL;
            return -1;
        case 'n':
            a->n = cli_size("-n", optarg, t->n_min, t->n_max);
            a->n_given = 1;
            break;
        case C_SIZES:
            free(a->sizes);
            a->sizes = cli_sizes("--sizes", optarg, t->sizes_min, t->sizes_max, t->sizes_count_max, &a->nsizes);
            a->sizes_given = 1;
            break;
        case C_EPS:
            free(a->eps);
            a->eps = cli_positive_list("-eps", optarg, t->eps_max, &a->neps);
            if (t->eps_one && a->neps != 1) cli_usage("-eps takes one value here (got '%s')", optarg);
            break;
        case C_RELATIVE: a->relative = 1; break;
        case C_POINTS:
            a->points = cli_size("--points", optarg, t->points_min, t->points_max);
            break;
        case C_GRID: cli_grid("--grid", optarg, t->grid_max, &a->nx, &a->ny); break;
        case C_SEED: a->seed = cli_ulong("--seed", optarg); break;
        case C_THREADS: a->threads = (int)cli_size("--threads", optarg, 1, 1024); break;
        case 'o': a->out = optarg; break;
        case C_FORMAT: a->tsv = cli_format(optarg); break;
        case 'q': a->quiet = 1; break;
        case 'h':
            t->usage();
            exit(CLI_OK);
        case C_VERSION:
            printf("%s (ptdkit) %s\n", t->name, ptd_version());
            exit(CLI_OK);
        case '?': cli_bad_option(argv, t->accept & CLI_OPT_N ? "no" : "o");
        default: return c;
        }
    }
}

void cli_help_shared(const cli_tool *t)
{
    printf("\nShared options (the same meaning in every ptdkit tool):\n");
    for (int r = 0; r < CLI_NSHARED; r++) {
        if (!shared[r].column || !takes(t, r)) continue;
        const char *h = t->help[r] ? t->help[r] : shared[r].help;
        printf("  %-18s ", shared[r].column);
        for (const char *p = h; *p; p++) {
            putchar(*p);
            if (*p == '\n') printf("%21s", "");
        }
        putchar('\n');
    }
}

size_t *cli_sizes(const char *opt, const char *s, size_t min, size_t max, size_t count_max, size_t *count)
{
    char buf[96], *part[3];
    size_t a = min, b = max, step = 0;
    double factor = 2;
    int np = *s ? split3(s, ':', buf, sizeof buf, part) : -1; /* "": the default range min:max */
    if (np >= 0) {
        int ok = (np == 2 || np == 3) && parse_size(part[0], min, max, &a) && parse_size(part[1], min, max, &b) && a <= b;
        if (ok && np == 3) {
            if (part[2][0] == 'x') ok = parse_finite(part[2] + 1, &factor) && factor > 1 && factor <= 1e6;
            else ok = parse_size(part[2], 1, max, &step);
        }
        if (!ok)
            cli_usage("%s needs A:B (A, 2A, 4A, ...), A:B:STEP or A:B:xF (F > 1), integers %zu <= A <= B <= %zu "
                      "(got '%s')", opt, min, max, s);
    }
    size_t *v = malloc(count_max * sizeof *v), k = 0;
    if (!v) cli_fail("out of memory");
    double x = (double)a;
    for (size_t m = a; m <= b;) {
        if (k == count_max) {
            free(v); /* nothing leaks, not even into a usage error */
            cli_usage("%s '%s' gives more than %zu sizes (a larger step or factor, or a narrower range)", opt, s, count_max);
        }
        v[k++] = m;
        if (step) {
            if (m > b - step) break;
            m += step;
        } else {
            /* the next rounded multiple that differs: x1.1 from 4 gives 4, 5, 6, ... */
            size_t next = m;
            while (next <= m && x <= (double)b) {
                x *= factor;
                next = (size_t)llround(x);
            }
            if (next <= m || next > b) break;
            m = next;
        }
    }
    *count = k;
    return v;
}

char *cli_sizes_text(char *buf, size_t size, const size_t *v, size_t count)
{
    size_t len = (size_t)snprintf(buf, size, "sizes:");
    for (size_t k = 0; k < count && len < size; k++) {
        if (count > 5 && k == 3) {
            len += (size_t)snprintf(buf + len, size - len, " ...,");
            k = count - 1;
        }
        len += (size_t)snprintf(buf + len, size - len, " %zu%s", v[k], k + 1 < count ? "," : "");
    }
    if (count > 5 && len < size) snprintf(buf + len, size - len, " (%zu sizes)", count);
    return buf;
}

char *cli_eps_text(char *buf, size_t size, double eps, int relative, double norm)
{
    if (relative) snprintf(buf, size, "%.6g ||A||_2 = %.3g", eps, eps * norm);
    else snprintf(buf, size, "%.6g", eps);
    return buf;
}

void cli_print_instability(const ptd_pspec_instability *r, int discrete, double floor_)
{
    const char *what = discrete ? "distance to instability (discrete, unit circle)"
                                : "distance to instability (continuous, imaginary axis)";
    if (!r->stable) {
        fprintf(stderr, "  %s: 0 (%s)\n", what, r->method);
    } else if (r->below_floor) {
        fprintf(stderr, "  %s: below the rounding floor %.3g (%s)\n", what, floor_, r->method);
    } else if (r->certified) {
        /* the digits the bracket [lower, value + err] supports */
        int dg = ptd_digits(r->value, fmax(r->value - r->lower, r->sigma_err));
        fprintf(stderr, "  %s: %.*g at %s = %.6g, certified: >= %.*g (%s)\n", what, dg, r->value,
                discrete ? "angle" : "w", r->w, dg + 1, r->lower, r->method);
    } else {
        fprintf(stderr, "  %s: %.*g at %s = %.6g, not certified: the smallest minimum found (%s; proven >= %.3g)\n",
                what, ptd_digits(r->value, r->sigma_err), r->value, discrete ? "angle" : "w", r->w, r->method, r->lower);
    }
}

int cli_parse_complex(const char *s, double complex *z)
{
    char *end;
    errno = 0;
    double re = strtod(s, &end), im = 0;
    if (end == s || errno) return 0;
    if (*end == 'i' && end[1] == 0) { /* "yi" */
        *z = CMPLX(0, re);
        return isfinite(re);
    }
    if (*end == '+' || *end == '-') {
        const char *p = end;
        im = strtod(p, &end);
        if (end == p || errno || *end != 'i' || end[1] != 0) return 0;
    } else if (*end != 0) {
        return 0;
    }
    *z = CMPLX(re, im);
    return isfinite(re) && isfinite(im);
}
