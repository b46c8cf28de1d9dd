/* test_plot.c - the plot module: tsv and gnuplot writers, rendering through gnuplot.
 *
 * The grids are synthetic with a known sigma_min: sigma = |z - c| is sigma_min(zI - A)
 * for the 1 x 1 matrix A = c, so its eps-contour is the circle |z - c| = eps.  Tests that
 * run gnuplot skip (with a message) when it is not on PATH.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------ */
/* helpers                                                                                */
/* ------------------------------------------------------------------------------------ */

static double coord(double lo, double hi, size_t i, size_t n)
{
    if (i + 1 == n) return hi;
    return lo + (double)i * (hi - lo) / (double)(n - 1); /* as ptd_pspec_grid_x */
}

/* sigma = |z - c| on an nx x ny grid over box; free with free_grid. */
static ptd_pspec_grid *circle_grid(size_t nx, size_t ny, ptd_box box, double complex c)
{
    ptd_pspec_grid *g = calloc(1, sizeof *g);
    ck_assert_ptr_nonnull(g);
    g->nx = nx;
    g->ny = ny;
    g->box = box;
    g->sigma = malloc(nx * ny * sizeof *g->sigma);
    ck_assert_ptr_nonnull(g->sigma);
    for (size_t j = 0; j < ny; j++)
        for (size_t i = 0; i < nx; i++) {
            double complex z = coord(box.xmin, box.xmax, i, nx) +
                               I * coord(box.ymin, box.ymax, j, ny);
            g->sigma[i + j * nx] = cabs(z - c);
        }
    return g;
}

static void free_grid(ptd_pspec_grid *g)
{
    if (g) free(g->sigma);
    free(g);
}

/* Everything a writer puts on a stream, as a NUL-terminated string the caller frees. */
typedef struct {
    char *buf;
    size_t len;
    FILE *f;
} membuf;

static void mem_open(membuf *m)
{
    m->buf = NULL;
    m->len = 0;
    m->f = open_memstream(&m->buf, &m->len);
    ck_assert_ptr_nonnull(m->f);
}

static char *mem_close(membuf *m)
{
    ck_assert_int_eq(fclose(m->f), 0);
    return m->buf;
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return 1;
    return 0;
}

/* No inf and no nan in a script, but for gnuplot's NaN as a key's sample ("NaN with ...",
 * "NaN notitle"), which draws nothing. */
static int no_inf_nan(const char *s)
{
    if (contains_ci(s, "inf")) return 0;
    for (const char *p = s; *p; p++)
        if (strncasecmp(p, "nan", 3) == 0 && strncmp(p, "NaN with ", 9) != 0 && strncmp(p, "NaN notitle", 11) != 0)
            return 0;
    return 1;
}

/* A fresh directory per test: make check runs the suites in parallel. */
static char *make_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/ptd-test-plot-XXXXXX", t && *t ? t : "/tmp");
    char *d = mkdtemp(tmpl);
    ck_assert_msg(d != NULL, "mkdtemp %s: %s", tmpl, strerror(errno));
    return strdup(d);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Names in dir (without . and ..), space-separated into list; returns their count. */
static size_t list_dir(const char *dir, char *list, size_t n)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "opendir %s: %s", dir, strerror(errno));
    size_t count = 0;
    list[0] = '\0';
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        count++;
        size_t m = strlen(list);
        snprintf(list + m, n - m, "%s%s", m ? " " : "", e->d_name);
    }
    closedir(d);
    return count;
}

static void remove_dir(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char *p = join(dir, e->d_name);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

static int have_gnuplot(void)
{
    const char *path = getenv("PATH");
    if (!path) return 0;
    char *copy = strdup(path), *save = NULL;
    int found = 0;
    for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char *p = join(*d ? d : ".", "gnuplot");
        found = access(p, X_OK) == 0;
        free(p);
    }
    free(copy);
    return found;
}

#define SKIP_WITHOUT_GNUPLOT()                                                              \
    do {                                                                                    \
        if (!have_gnuplot()) {                                                              \
            fprintf(stderr, "%s: SKIP: gnuplot not on PATH\n", __func__);                   \
            return;                                                                         \
        }                                                                                   \
    } while (0)

/* The file's first bytes begin with magic. */
static int has_magic(const char *path, const char *magic, size_t skip_ws)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char buf[512] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    if (skip_ws) return n > 0 && strstr(buf, magic) != NULL;
    return n >= strlen(magic) && memcmp(buf, magic, strlen(magic)) == 0;
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static char *script_for(const ptd_pspec_grid *g, const double *eps, size_t neps,
                        const double complex *eig, size_t neig, int latex)
{
    const char *notes[] = {"matrix: 1 x 1", "seed: 7"};
    ptd_plot_meta meta = {.title = "circle test", .command = "test_plot --eps 0.5", .notes = notes, .nnotes = 2, .latex = latex};
    membuf m;
    mem_open(&m);
    int st = ptd_plot_pspec_gnuplot(m.f, g, eps, neps, eig, neig, &meta);
    char *s = mem_close(&m);
    ck_assert_msg(st == PTD_OK, "ptd_plot_pspec_gnuplot: %s", ptd_last_error());
    return s;
}

static const ptd_box unit_box = {-1, 1, -1, 1};

/* ------------------------------------------------------------------------------------ */
/* tsv                                                                                    */
/* ------------------------------------------------------------------------------------ */

START_TEST(test_tsv_layout_and_values)
{
    /* 9 x 7 over [-1,1]^2: the origin is a grid point, so one sigma is exactly 0 */
    size_t nx = 9, ny = 7;
    ptd_pspec_grid *g = circle_grid(nx, ny, unit_box, 0);
    ck_assert(g->sigma[4 + 3 * nx] == 0.0);
    ptd_plot_meta meta = {.title = "t", .command = "test_plot tsv"};
    membuf m;
    mem_open(&m);
    ck_assert_int_eq(ptd_plot_pspec_tsv(m.f, g, &meta), PTD_OK);
    char *s = mem_close(&m);
    ck_assert_str_eq(ptd_last_error(), "");
    ck_assert(no_inf_nan(s));
    ck_assert_ptr_nonnull(strstr(s, "# columns: x y sigma_min\n"));
    ck_assert_ptr_nonnull(strstr(s, "# command: test_plot tsv\n"));
    char ver[64];
    snprintf(ver, sizeof ver, "# ptdkit %s\n", ptd_version());
    ck_assert_ptr_nonnull(strstr(s, ver));

    size_t ndata = 0, nblank = 0, k = 0;
    int header_done = 0;
    /* strtok would fold blank lines: walk the lines by hand */
    for (char *line = s; *line;) {
        char *nl = strchr(line, '\n');
        ck_assert_msg(nl != NULL, "last line not terminated");
        *nl = '\0';
        if (line[0] == '#') {
            ck_assert_msg(!header_done, "comment after the data: %s", line);
        } else if (line[0] == '\0') {
            nblank++;
            ck_assert_msg(ndata == nblank * nx, "blank line after %zu data lines", ndata);
        } else {
            header_done = 1;
            double x, y, sg;
            char extra;
            ck_assert_msg(sscanf(line, "%lf %lf %lf %c", &x, &y, &sg, &extra) == 3,
                          "bad data line: %s", line);
            size_t i = k % nx, j = k / nx;
            ck_assert(x == coord(-1, 1, i, nx));
            ck_assert(y == coord(-1, 1, j, ny));
            ck_assert(sg == g->sigma[k]); /* %.17g: bit for bit */
            k++;
            ndata++;
        }
        line = nl + 1;
    }
    ck_assert_uint_eq(ndata, nx * ny);
    ck_assert_uint_eq(nblank, ny);
    free(s);
    free_grid(g);
}
END_TEST

START_TEST(test_tsv_never_inf)
{
    ptd_pspec_grid *g = circle_grid(3, 3, unit_box, 0);
    g->sigma[0] = INFINITY;
    membuf m;
    mem_open(&m);
    ck_assert_int_eq(ptd_plot_pspec_tsv(m.f, g, NULL), PTD_OK);
    char *s = mem_close(&m);
    ck_assert(no_inf_nan(s));
    ck_assert_ptr_nonnull(strstr(s, "# columns: x y sigma_min\n"));
    free(s);
    free_grid(g);
}
END_TEST

START_TEST(test_bad_arguments)
{
    ptd_pspec_grid *g = circle_grid(4, 4, unit_box, 0);
    double eps[] = {0.5}, bad_eps[] = {0.5, -1};
    FILE *f = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(f);

    ck_assert_int_eq(ptd_plot_pspec_tsv(f, NULL, NULL), PTD_EINVAL);
    ck_assert_int_eq(ptd_plot_pspec_gnuplot(f, NULL, eps, 1, NULL, 0, NULL), PTD_EINVAL);
    ck_assert_int_eq(ptd_plot_pspec_gnuplot(f, g, eps, 0, NULL, 0, NULL), PTD_EINVAL);
    ck_assert_int_eq(ptd_plot_pspec_gnuplot(f, g, bad_eps, 2, NULL, 0, NULL), PTD_EINVAL);
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), "eps[1]"));

    g->nx = 1;
    ck_assert_int_eq(ptd_plot_pspec_tsv(f, g, NULL), PTD_EINVAL);
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), "nx and ny must be >= 2"));
    g->nx = 4;
    g->box.xmax = g->box.xmin;
    ck_assert_int_eq(ptd_plot_pspec_tsv(f, g, NULL), PTD_EINVAL);
    g->box.xmax = 1;
    g->sigma[5] = NAN;
    ck_assert_int_eq(ptd_plot_pspec_gnuplot(f, g, eps, 1, NULL, 0, NULL), PTD_EINVAL);
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), "(1, 1)"));
    g->sigma[5] = 1;
    ck_assert_int_eq(ptd_plot_pspec_gnuplot(f, g, eps, 1, NULL, 0, NULL), PTD_OK);
    ck_assert_str_eq(ptd_last_error(), "");
    fclose(f);
    free_grid(g);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* the script as text                                                                     */
/* ------------------------------------------------------------------------------------ */

START_TEST(test_script_text)
{
    size_t nx = 11, ny = 5;
    ptd_pspec_grid *g = circle_grid(nx, ny, unit_box, 0); /* contains sigma = 0 */
    double eps[] = {1e-4};
    double complex eig[] = {0, INFINITY};
    char *s = script_for(g, eps, 1, eig, 2, 0);
    ck_assert(no_inf_nan(s));
    /* the terminal is the renderer's: the script sets one only when gnuplot has none that
     * draws (gnuplot-nox's "unknown"), and then the text terminal, once, before any plot */
    const char *fb = "if (GPVAL_TERM eq \"unknown\") { set terminal dumb ";
    const char *t = strstr(s, "set terminal");
    ck_assert_ptr_nonnull(strstr(s, fb));
    ck_assert_ptr_eq(t, strstr(s, fb) + strlen("if (GPVAL_TERM eq \"unknown\") { "));
    ck_assert_ptr_null(strstr(t + 1, "set terminal"));
    for (const char *l = s; l < strstr(s, fb); l = strchr(l, '\n') + 1) ck_assert_int_eq(*l, '#'); /* comments only before it */
    ck_assert_ptr_null(strstr(s, "set output"));
    ck_assert_ptr_nonnull(strstr(s, "# command: test_plot --eps 0.5\n"));
    ck_assert_ptr_nonnull(strstr(s, "\n# matrix: 1 x 1\n# seed: 7\n"));
    ck_assert_ptr_nonnull(strstr(s, "# grid: 11 x 5 points, box [-1, 1] x [-1, 1]\n"));
    ck_assert_ptr_nonnull(strstr(s, "set size ratio -1\n"));
    ck_assert_ptr_nonnull(strstr(s, "set xrange [-1:1]\n"));
    ck_assert_ptr_nonnull(strstr(s, "set xlabel 'Re z'\n"));
    ck_assert_ptr_nonnull(strstr(s, "set ylabel 'Im z'\n"));
    ck_assert_ptr_nonnull(strstr(s, "'ε = 1e-04'"));
    ck_assert_ptr_nonnull(strstr(s, "set cntrparam levels discrete -4\n"));
    ck_assert_ptr_nonnull(strstr(s, "(1 not finite, not drawn)"));

    /* $sigma: nx*ny rows of three numbers, a blank line after each row of fixed y;
     * sigma = 0 is written as log10(DBL_TRUE_MIN) */
    char *b = strstr(s, "$sigma << EOD\n");
    ck_assert_ptr_nonnull(b);
    b = strchr(b, '\n') + 1;
    size_t ndata = 0, nblank = 0;
    double lowest = 0;
    while (strncmp(b, "EOD\n", 4) != 0) {
        char *nl = strchr(b, '\n');
        ck_assert_ptr_nonnull(nl);
        if (nl == b) nblank++;
        else {
            double x, y, l;
            ck_assert_int_eq(sscanf(b, "%lf %lf %lf", &x, &y, &l), 3);
            lowest = fmin(lowest, l);
            ndata++;
        }
        b = nl + 1;
    }
    ck_assert_uint_eq(ndata, nx * ny);
    ck_assert_uint_eq(nblank, ny);
    assert_close(lowest, log10(DBL_TRUE_MIN), 0, 1e-9); /* %.10g */

    /* $eig: the finite eigenvalue only, and its dot's size: the full 0.6, since the contour
     * gnuplot draws from this coarse grid (log10 sigma interpolated between 0 and 0.2) lies
     * at 0.198, far from the dot */
    b = strstr(s, "$eig << EOD\n");
    ck_assert_ptr_nonnull(b);
    b = strchr(b, '\n') + 1;
    double ps = 0;
    ck_assert_int_eq(strncmp(b, "0 0 ", 4), 0);
    ck_assert_int_eq(sscanf(b + 4, "%lf", &ps), 1);
    assert_close(ps, 0.6, 0, 0);
    ck_assert_int_eq(strncmp(strchr(b, '\n') + 1, "EOD\n", 4), 0);
    free(s);
    free_grid(g);
}
END_TEST

START_TEST(test_script_newline_in_meta)
{
    /* a newline or a trailing backslash in a note must not escape the comment */
    ptd_pspec_grid *g = circle_grid(4, 4, unit_box, 0);
    const char *notes[] = {"a\nset output 'evil'", "ends in \\"};
    ptd_plot_meta meta = {.title = "t\nx", .command = "cmd\rline", .notes = notes, .nnotes = 2};
    double eps[] = {0.5};
    membuf m;
    mem_open(&m);
    ck_assert_int_eq(ptd_plot_pspec_gnuplot(m.f, g, eps, 1, NULL, 0, &meta), PTD_OK);
    char *s = mem_close(&m);
    ck_assert_ptr_nonnull(strstr(s, "\n# a set output 'evil'\n"));
    ck_assert_ptr_nonnull(strstr(s, "\n# ends in \\ \n"));
    ck_assert_ptr_nonnull(strstr(s, "# command: cmd line\n"));
    ck_assert_ptr_null(strstr(s, "\nset output"));
    free(s);
    free_grid(g);
}
END_TEST

START_TEST(test_script_latex_and_levels)
{
    ptd_pspec_grid *g = circle_grid(5, 5, unit_box, 0);
    double eps[] = {1e-1, 1e-3, 1e-2, 1e-2}; /* unsorted, one repeat */
    const char *notes[] = {NULL};
    ptd_plot_meta meta = {.title = "file:a_b.mtx", .command = "cmd", .notes = notes, .nnotes = 1, .latex = 1};
    membuf m;
    mem_open(&m);
    ck_assert_int_eq(ptd_plot_pspec_gnuplot(m.f, g, eps, 4, NULL, 0, &meta), PTD_OK);
    char *s = mem_close(&m);
    ck_assert_ptr_nonnull(strstr(s, "set xlabel '$\\mathrm{Re}\\,z$'"));
    ck_assert_ptr_nonnull(strstr(s, "file:a\\_b.mtx: $\\varepsilon = 10^{-3}, 10^{-2}, 10^{-1}$"));
    ck_assert_ptr_nonnull(strstr(s, "set cntrparam levels discrete -3, -2, -1\n"));
    /* a decade ladder: a discrete bar, a band centred on each level, the tics the eps values */
    ck_assert_msg(strstr(s, "set palette defined (0 '#1f3c99', 0.33333333333333331 '#1f3c99', "
                            "0.33333333333333331 '#2ca02c', 0.66666666666666663 '#2ca02c', "
                            "0.66666666666666663 '#c0111f', 1 '#c0111f')\n") != NULL,
                  "%s", strstr(s, "set palette"));
    ck_assert_ptr_nonnull(strstr(s, "set cbrange [-3.5:-0.5]\n"));
    ck_assert_ptr_nonnull(strstr(s, "set cbtics out nomirror ('$10^{-3}$' -3, '$10^{-2}$' -2, '$10^{-1}$' -1)"));
    ck_assert_ptr_nonnull(strstr(s, "set cblabel '$\\varepsilon$'"));
    ck_assert_ptr_nonnull(strstr(s, "lc palette"));
    ck_assert_ptr_null(strstr(s, "ε")); /* LaTeX gets no UTF-8 epsilon */
    free(s);
    free_grid(g);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* files                                                                                  */
/* ------------------------------------------------------------------------------------ */

/* Relative eps: the contours at eps ||A||, what the reader sees the eps given; unevenly
 * spaced levels keep a gradient bar; markers in their level's colour. */
START_TEST(test_script_relative_and_markers)
{
    ptd_pspec_grid *g = circle_grid(5, 5, unit_box, 0);
    double unit = 3.2223, eps[] = {1e-3 * unit, 3e-2 * unit, 1e-1 * unit};
    ptd_plot_meta meta = {.title = "t", .command = "cmd", .eps_unit = unit};
    double complex z[2] = {0.5, 0.25 * I};
    double ze[2] = {eps[0], eps[2]};
    ptd_plot_overlay ov = {.nsets = 1};
    ov.sets[0].z = z, ov.sets[0].n = 2, ov.sets[0].title = "abscissa attained", ov.sets[0].eps = ze;
    membuf m;
    mem_open(&m);
    ck_assert_int_eq(ptd_plot_pspec_gnuplot_overlay(m.f, g, eps, 3, NULL, 0, &ov, &meta), PTD_OK);
    char *s = mem_close(&m);
    /* the title: 1e-03, not 3.2223e-03 nor 1.0000000000000002e-03 */
    ck_assert_msg(strstr(s, "set title 't: ε = 1e-03, 3e-02, 1e-01 (× ||A||₂)'") != NULL, "%s", strstr(s, "set title"));
    ck_assert_ptr_nonnull(strstr(s, "set cblabel 'ε/||A||₂'"));
    /* uneven levels: a gradient over the levels, no bands */
    ck_assert_ptr_nonnull(strstr(s, "set palette defined (0 '#1f3c99', 0.25"));
    char want[128];
    snprintf(want, sizeof want, "set cbrange [%.17g:%.17g]\n", log10(eps[0]), log10(eps[2]));
    ck_assert_msg(strstr(s, want) != NULL, "want %s", want);
    /* the contour levels are the absolute ones */
    snprintf(want, sizeof want, "set cntrparam levels discrete %.17g,", log10(eps[0]));
    ck_assert_msg(strstr(s, want) != NULL, "want %s", want);
    /* the markers: log10 of their eps in a third column, drawn with the palette */
    snprintf(want, sizeof want, "0.5 0 %.17g\n", log10(eps[0]));
    ck_assert_msg(strstr(s, want) != NULL, "want %s", want);
    ck_assert_ptr_nonnull(strstr(s, "$mark0 using 1:2:3 with points pt 9 ps 1.6 lw 2 lc palette notitle"));
    free(s);
    free_grid(g);
}
END_TEST

/* x-y figures: a log x axis over the data, its values as tics; rings for points; the key
 * below; ymax */
START_TEST(test_series_axes)
{
    double x[3] = {8, 16, 128}, y[3] = {1, 0.1, 0.01}, yb[3] = {10, 100, 1000};
    ptd_plot_series s[2] = {{.title = "a", .x = x, .y = y, .n = 3, .style = "points"},
                            {.title = "b", .x = x, .y = yb, .n = 3, .style = "lines"}};
    ptd_plot_axes ax = {.xlabel = "n", .logx = 1, .logy = 1, .hline = NAN, .key = "below", .ymax = 20};
    membuf m;
    mem_open(&m);
    ck_assert_int_eq(ptd_plot_series_gnuplot(m.f, s, 2, &ax, NULL), PTD_OK);
    char *t = mem_close(&m);
    double r = pow(128.0 / 8.0, 0.04);
    char want[128];
    snprintf(want, sizeof want, "set xrange [%.17g:%.17g]\n", 8 / r, 128 * r);
    ck_assert_msg(strstr(t, want) != NULL, "want %s", want);
    ck_assert_ptr_nonnull(strstr(t, "set xtics (8, 16, 128)\n"));
    ck_assert_ptr_nonnull(strstr(t, "set yrange [:20]\n"));
    ck_assert_ptr_nonnull(strstr(t, "set key outside below"));
    ck_assert_ptr_nonnull(strstr(t, "$s1 using 1:2 with points lw 2 pt 6 ps 1.3"));
    ck_assert_ptr_nonnull(strstr(t, "$s2 using 1:2 with lines lw 2 lc"));
    free(t);
    ax.key = "outside left";
    mem_open(&m);
    ck_assert_int_eq(ptd_plot_series_gnuplot(m.f, s, 2, &ax, NULL), PTD_EINVAL);
    free(mem_close(&m));
}
END_TEST

/* A traced near-disc |z - c| = r of 64 vertices, closed (the last the first again). */
static void disc_curve(ptd_pspec_curve *cv, double complex c, double r)
{
    memset(cv, 0, sizeof *cv);
    cv->nv = 65;
    cv->z = malloc(cv->nv * sizeof *cv->z);
    ck_assert_ptr_nonnull(cv->z);
    for (size_t k = 0; k < cv->nv; k++) cv->z[k] = c + r * cexp(2 * M_PI * I * (double)(k % 64) / 64);
    cv->closed = 1;
    cv->neig = 1;
}

/* the numbers of a datablock's rows, ncol each, into v; the rows read */
static size_t datablock(const char *s, const char *name, double *v, size_t ncol, size_t max)
{
    char head[64];
    snprintf(head, sizeof head, "%s << EOD\n", name);
    const char *b = strstr(s, head);
    if (!b) return 0;
    b = strchr(b, '\n') + 1;
    size_t n = 0;
    while (strncmp(b, "EOD\n", 4) != 0 && n < max) {
        char *end = (char *)b;
        for (size_t c = 0; c < ncol; c++) v[n * ncol + c] = strtod(end, &end);
        n++;
        b = strchr(b, '\n') + 1;
    }
    return n;
}

/* Nested levels read as nested (HiPPO-LegS-normal n = 8 at eps 0.3, 0.1, 0.01 in a box 48
 * across): about an eigenvalue the grid draws the 0.3-contour, a ring of radius 0.3, and the
 * 0.1 and 0.01 components are traced discs below the figure's resolution (a 150th of the
 * box).  The 0.1 disc is circled inside the 0.3 ring; the 0.01 disc, inside the 0.1 one,
 * gets no circle of its own; the dot is smaller than the circle; the rings are drawn over
 * the circles and the dots over the rings.  Then the 0.3 ring alone: a dot inside it. */
START_TEST(test_nested_levels_read_nested)
{
    const ptd_box box = {-24, 24, -24, 24};
    ptd_pspec_grid *g = circle_grid(200, 200, box, 0.5 + 0.25 * I);
    ptd_pspec_curve cv[2];
    disc_curve(&cv[0], 0.5 + 0.25 * I, 0.1);
    disc_curve(&cv[1], 0.5 + 0.25 * I, 0.01);
    ptd_pspec_trace_result r[2] = {{.eps = 0.1, .ncurves = 1, .curves = &cv[0], .components = 1},
                                   {.eps = 0.01, .ncurves = 1, .curves = &cv[1], .components = 1}};
    const ptd_pspec_trace_result *tr[2] = {&r[0], &r[1]};
    double eps[3] = {0.3, 0.1, 0.01}, v[16];
    double complex eig[1] = {0.5 + 0.25 * I};
    ptd_plot_overlay ov = {.traces = tr, .ntraces = 2};
    membuf m;
    mem_open(&m);
    ck_assert_int_eq(ptd_plot_pspec_gnuplot_overlay(m.f, g, eps, 3, eig, 1, &ov, NULL), PTD_OK);
    char *t = mem_close(&m);
    /* one circle, the 0.1 disc's, well inside the 0.3 ring (about half way to it) */
    ck_assert_uint_eq(datablock(t, "$tiny", v, 4, 4), 1);
    assert_close(v[2], -1, 1e-12, 0);
    ck_assert_msg(v[3] > 0.1 && v[3] < 0.6 * 0.3, "the circle's radius %g", v[3]); /* the drawn ring: 0.31 */
    ck_assert_ptr_nonnull(strstr(t, "# 1 more below resolution, not circled: inside a larger eps's component"));
    /* the dot: smaller than the circle (ps 0.6 is a radius of about 0.0055 of the box) */
    ck_assert_uint_eq(datablock(t, "$eig", v + 4, 3, 1), 1);
    ck_assert_msg(v[6] / 0.6 * 0.0055 * 48 < v[3], "the dot's size %g against the circle's radius %g", v[6], v[3]);
    /* drawn: circles, then the rings, then the dots */
    const char *pc = strstr(t, "    plot $tiny using 1:2:4:3 with circles"), *pr = strstr(t, "$contours using 1:2:3 with lines"),
               *pd = strstr(t, "$eig using 1:2:3 with points pt 7 ps variable");
    ck_assert_msg(pc && pr && pd && pc < pr && pr < pd, "%s", strstr(t, "if (ptd_ncontour)"));
    free(t);

    /* the 0.3 ring alone (no traced curves): the dot fits inside it */
    mem_open(&m);
    ck_assert_int_eq(ptd_plot_pspec_gnuplot(m.f, g, eps, 1, eig, 1, NULL), PTD_OK);
    t = mem_close(&m);
    ck_assert_uint_eq(datablock(t, "$eig", v, 3, 1), 1);
    ck_assert_msg(v[2] / 0.6 * 0.0055 * 48 < 0.3 - 0.1, "the dot's size %g in a ring of radius 0.3", v[2]);
    ck_assert_ptr_null(strstr(t, "$tiny"));
    free(t);
    free(cv[0].z);
    free(cv[1].z);
    free_grid(g);
}
END_TEST

/* Text: the title is plain (a file name keeps its underscore: noenhanced, or escaped for
 * LaTeX); labels and key titles are markup, passed as given (enhanced text, or LaTeX), in
 * the x-y figures, the line plots and the pseudospectra alike. */
START_TEST(test_text_plain_title_markup_keys)
{
    double x[2] = {1, 2}, y[2] = {1, 2};
    ptd_plot_series s[1] = {{.title = "|v_k| (σ_{min})", .x = x, .y = y, .n = 2}};
    ptd_plot_axes ax = {.ylabel = "|v_k|", .hline = 1.5, .hline_label = "10^{-3}", .key = "top left"};
    ptd_plot_curve c[1] = {{.y = y, .name = "v", .title = "|v_k|"}};
    ptd_pspec_grid *g = circle_grid(5, 5, unit_box, 0);
    double eps[1] = {0.5};
    double complex eig[1] = {0};
    for (int latex = 0; latex <= 1; latex++) {
        ptd_plot_meta meta = {.title = "file:a_b.mtx", .latex = latex};
        membuf m;
        for (int w = 0; w < 3; w++) {
            mem_open(&m);
            if (w == 0) ck_assert_int_eq(ptd_plot_series_gnuplot(m.f, s, 1, &ax, &meta), PTD_OK);
            else if (w == 1) ck_assert_int_eq(ptd_plot_lines_gnuplot(m.f, x, 2, c, 1, "k", "|v_k|", 0, &meta), PTD_OK);
            else {
                ptd_plot_overlay ov = {.eig_title = "λ_k"};
                ck_assert_int_eq(ptd_plot_pspec_gnuplot_overlay(m.f, g, eps, 1, eig, 1, &ov, &meta), PTD_OK);
            }
            char *t = mem_close(&m);
            ck_assert_msg(strstr(t, latex ? "set title 'file:a\\_b.mtx" : "set title 'file:a_b.mtx") != NULL, "%d %d: %s", latex, w,
                          strstr(t, "set title"));
            if (!latex) ck_assert_msg(strstr(t, ": ε = 0.5' noenhanced\n") || strstr(t, "file:a_b.mtx' noenhanced\n"),
                                      "%d: %s", w, strstr(t, "set title"));
            const char *key = strstr(t, "\nset key ");
            ck_assert_ptr_nonnull(key);
            ck_assert_msg(strncmp(key, "\nset key ", 9) == 0 && !strstr(key + 1, "noenhanced"), "%d %d: %s", latex, w, key);
            ck_assert_ptr_nonnull(strstr(t, w == 2 ? "title 'λ_k'" : w == 1 ? "title '|v_k|'" : "title '|v_k| (σ_{min})'"));
            if (w == 0) ck_assert_ptr_nonnull(strstr(t, "set label 1 '10^{-3}' at graph 0.02, first 1.5 offset 0, 0.7 tc rgb '#555555'\n"));
            free(t);
        }
    }
    free_grid(g);
}
END_TEST

/* rings under dots: a "dots" series is points (no line), smaller than the rings of a "points"
 * one, so that drawn after them both show where they agree; minor tics only over few decades */
START_TEST(test_series_dots_and_decades)
{
    double x[3] = {1, 2, 3}, y[3] = {1, 1e20, 1e40}, ys[3] = {1, 10, 100};
    ptd_plot_series s[2] = {{.title = "double", .x = x, .y = y, .n = 3, .style = "points"},
                            {.title = "extended", .x = x, .y = y, .n = 3, .style = "dots"}};
    ptd_plot_axes ax = {.logy = 1, .hline = NAN};
    membuf m;
    mem_open(&m);
    ck_assert_int_eq(ptd_plot_series_gnuplot(m.f, s, 2, &ax, NULL), PTD_OK);
    char *t = mem_close(&m);
    const char *ring = strstr(t, "$s1 using 1:2 with points lw 2 pt 6 ps 1.3");
    const char *dot = strstr(t, "$s2 using 1:2 with points lw 2 pt 7 ps 0.6");
    ck_assert_msg(ring && dot && ring < dot, "%s", strstr(t, "\nplot "));
    ck_assert_ptr_null(strstr(t, "with dots")); /* gnuplot's own dots are single pixels */
    ck_assert_ptr_nonnull(strstr(t, "unset mytics\n")); /* 40 decades */
    ck_assert_ptr_null(strstr(t, "unset mxtics"));
    free(t);
    s[0].y = s[1].y = ys; /* 2 decades: gnuplot's minor tics stay */
    mem_open(&m);
    ck_assert_int_eq(ptd_plot_series_gnuplot(m.f, s, 2, &ax, NULL), PTD_OK);
    t = mem_close(&m);
    ck_assert_ptr_null(strstr(t, "unset mytics"));
    free(t);
}
END_TEST

START_TEST(test_is_image)
{
    ck_assert_int_eq(ptd_plot_is_image("a.png"), 1);
    ck_assert_int_eq(ptd_plot_is_image("dir/a.svg"), 1);
    ck_assert_int_eq(ptd_plot_is_image("/x/a.b.pdf"), 1);
    ck_assert_int_eq(ptd_plot_is_image("fig.tex"), 1);
    ck_assert_int_eq(ptd_plot_is_image("FIG.PNG"), 1);
    ck_assert_int_eq(ptd_plot_is_image("a.gp"), 0);
    ck_assert_int_eq(ptd_plot_is_image("a.tsv"), 0);
    ck_assert_int_eq(ptd_plot_is_image("png"), 0);
    ck_assert_int_eq(ptd_plot_is_image(".png"), 0);
    ck_assert_int_eq(ptd_plot_is_image("d.png/x"), 0);
    ck_assert_int_eq(ptd_plot_is_image(NULL), 0);
}
END_TEST

START_TEST(test_write_file)
{
    char *dir = make_tmpdir(), list[4096];
    char *p = join(dir, "out.gp");
    ck_assert_int_eq(ptd_plot_write_file(p, "first\n", 6), PTD_OK);
    ck_assert_int_eq(ptd_plot_write_file(p, "second", 6), PTD_OK); /* replaces */
    FILE *f = fopen(p, "r");
    char buf[64] = {0};
    ck_assert_uint_eq(fread(buf, 1, sizeof buf - 1, f), 6);
    fclose(f);
    ck_assert_str_eq(buf, "second");
    ck_assert_uint_eq(list_dir(dir, list, sizeof list), 1);
    ck_assert_str_eq(list, "out.gp");
    ck_assert_int_eq(ptd_plot_write_file(p, "", 0), PTD_OK);
    ck_assert_int_eq(file_size(p), 0);

    /* a directory in the way: the rename fails, the temporary goes */
    char *sub = join(dir, "sub");
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_eq(ptd_plot_write_file(sub, "x", 1), PTD_EIO);
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), sub));
    ck_assert_uint_eq(list_dir(dir, list, sizeof list), 2);
    rmdir(sub);

    char *missing = join(dir, "no/such/dir/out.gp");
    ck_assert_int_eq(ptd_plot_write_file(missing, "x", 1), PTD_EIO);
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), missing));
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), strerror(ENOENT)));
    ck_assert_uint_eq(list_dir(dir, list, sizeof list), 1);
    free(missing);
    free(sub);
    free(p);
    remove_dir(dir);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* rendering                                                                              */
/* ------------------------------------------------------------------------------------ */

START_TEST(test_render_formats)
{
    SKIP_WITHOUT_GNUPLOT();
    ptd_pspec_grid *g = circle_grid(41, 31, (ptd_box){-1.2, 1.2, -0.9, 0.9}, 0.1);
    double eps1[] = {0.5}, eps3[] = {0.1, 0.3, 0.6};
    double complex eig[] = {0.1};
    char *one = script_for(g, eps1, 1, eig, 1, 0);
    char *three = script_for(g, eps3, 3, eig, 1, 0);
    char *latex = script_for(g, eps3, 3, eig, 1, 1);
    char *dir = make_tmpdir(), list[4096];
    static const struct {
        const char *name, *magic;
        int anywhere;
    } cases[] = {
        {"one.png", "\x89PNG\r\n", 0},
        {"three.png", "\x89PNG\r\n", 0},
        {"three.svg", "<svg", 1},
        {"three.pdf", "%PDF-", 0},
        {"it's.pdf", "%PDF-", 0}, /* a quote in the name: gnuplot string quoting */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *p = join(dir, cases[k].name);
        const char *s = k == 0 ? one : three;
        ck_assert_msg(ptd_plot_render(s, p) == PTD_OK, "%s: %s", p, ptd_last_error());
        ck_assert_msg(file_size(p) > 0, "%s empty or missing", p);
        ck_assert_msg(has_magic(p, cases[k].magic, (size_t)cases[k].anywhere),
                      "%s: wrong magic", p);
        free(p);
    }
    ck_assert_uint_eq(list_dir(dir, list, sizeof list), 5);

    char *tex = join(dir, "fig.tex"), *pdf = join(dir, "fig.pdf");
    ck_assert_msg(ptd_plot_render(latex, tex) == PTD_OK, "%s", ptd_last_error());
    ck_assert(file_size(tex) > 0 && has_magic(pdf, "%PDF-", 0));
    /* the .tex names its companion by the bare base name */
    FILE *f = fopen(tex, "r");
    char line[1024];
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "\\includegraphics[") && strstr(line, "]{fig}}")) found = 1;
    fclose(f);
    ck_assert_msg(found, "fig.tex does not include {fig}");
    ck_assert_uint_eq(list_dir(dir, list, sizeof list), 7);
    ck_assert_msg(strstr(list, ".ptd") == NULL, "temporary left behind: %s", list);
    free(tex);
    free(pdf);
    free(one);
    free(three);
    free(latex);
    free_grid(g);
    remove_dir(dir);
}
END_TEST

START_TEST(test_render_relative_tex)
{
    /* a bare relative name: the render directory is made in "." */
    SKIP_WITHOUT_GNUPLOT();
    ptd_pspec_grid *g = circle_grid(21, 21, unit_box, 0);
    double eps[] = {0.5};
    char *s = script_for(g, eps, 1, NULL, 0, 1);
    char *dir = make_tmpdir(), list[4096], cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(dir), 0);
    int st = ptd_plot_render(s, "rel.tex");
    int e = chdir(cwd);
    ck_assert_msg(st == PTD_OK, "%s", ptd_last_error());
    ck_assert_int_eq(e, 0);
    ck_assert_uint_eq(list_dir(dir, list, sizeof list), 2);
    ck_assert_msg(strstr(list, "rel.tex") && strstr(list, "rel.pdf"), "%s", list);
    free(s);
    free_grid(g);
    remove_dir(dir);
}
END_TEST

/* The contour points gnuplot traced: render with the $contours block printed to a
 * file, then read "x y level" triples.  Returns their count. */
static size_t traced_contours(const char *script, const char *dir, double *pts, size_t max)
{
    char *out = join(dir, "contours.txt"), *png = join(dir, "c.png");
    size_t n = strlen(script) + strlen(out) + 128;
    char *s = malloc(n);
    snprintf(s, n, "%s\nset print '%s'\nprint $contours\nunset print\n", script, out);
    ck_assert_msg(ptd_plot_render(s, png) == PTD_OK, "%s", ptd_last_error());
    FILE *f = fopen(out, "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    size_t k = 0;
    while (fgets(line, sizeof line, f)) {
        double x, y, z;
        if (line[0] != '#' && sscanf(line, "%lf %lf %lf", &x, &y, &z) == 3 && k < max) {
            pts[3 * k] = x;
            pts[3 * k + 1] = y;
            pts[3 * k + 2] = z;
            k++;
        }
    }
    fclose(f);
    unlink(out);
    unlink(png);
    free(out);
    free(png);
    free(s);
    return k;
}

START_TEST(test_contour_is_circle)
{
    SKIP_WITHOUT_GNUPLOT();
    size_t nx = 41, ny = 41;
    double complex c = 0.1 - 0.05 * I;
    ptd_pspec_grid *g = circle_grid(nx, ny, unit_box, c);
    double h = 2.0 / (double)(nx - 1);
    double eps[] = {0.3, 0.6};
    char *s = script_for(g, eps, 2, &c, 1, 0);
    char *dir = make_tmpdir();
    static double pts[3 * 20000];
    size_t n = traced_contours(s, dir, pts, 20000);
    ck_assert_uint_gt(n, 40);
    size_t per_level[2] = {0, 0};
    int quadrants[2][4] = {{0}};
    for (size_t k = 0; k < n; k++) {
        double x = pts[3 * k], y = pts[3 * k + 1], z = pts[3 * k + 2];
        /* gnuplot's table has 6 significant digits */
        int l = fabs(z - log10(eps[0])) < 1e-5 ? 0 : 1;
        assert_close(z, log10(eps[l]), 1e-5, 0);
        double r = cabs(x + I * y - c);
        /* linear interpolation of |z - c| along grid edges errs by about h^2/(8 eps) */
        assert_close(r, eps[l], h / 4, 0);
        per_level[l]++;
        quadrants[l][(x > creal(c)) + 2 * (y > cimag(c))] = 1;
    }
    for (int l = 0; l < 2; l++) {
        ck_assert_uint_gt(per_level[l], 20);
        for (int q = 0; q < 4; q++) ck_assert_msg(quadrants[l][q], "level %d misses a quadrant", l);
    }
    free(s);
    free_grid(g);
    remove_dir(dir);
}
END_TEST

START_TEST(test_render_no_contour)
{
    /* eps below every grid value: no contour at all, still a valid figure */
    SKIP_WITHOUT_GNUPLOT();
    ptd_pspec_grid *g = circle_grid(11, 11, (ptd_box){2, 3, 2, 3}, 0); /* sigma >= 2.8 */
    double eps[] = {1e-3}, eps2[] = {1e-3, 1e-2};
    double complex eig[] = {0};
    char *dir = make_tmpdir(), list[4096];
    char *p = join(dir, "none.png");
    char *s = script_for(g, eps, 1, NULL, 0, 0);
    ck_assert_msg(ptd_plot_render(s, p) == PTD_OK, "%s", ptd_last_error());
    ck_assert(has_magic(p, "\x89PNG", 0));
    free(s);
    s = script_for(g, eps2, 2, eig, 1, 0);
    ck_assert_msg(ptd_plot_render(s, p) == PTD_OK, "%s", ptd_last_error());
    static double pts[300];
    ck_assert_uint_eq(traced_contours(s, dir, pts, 100), 0);
    ck_assert_uint_eq(list_dir(dir, list, sizeof list), 1);
    free(s);
    free(p);
    free_grid(g);
    remove_dir(dir);
}
END_TEST

START_TEST(test_render_failures_leave_nothing)
{
    char *dir = make_tmpdir(), list[4096];
    char *p = join(dir, "x.png");

    /* unknown extension */
    char *q = join(dir, "x.jpg");
    ck_assert_int_eq(ptd_plot_render("plot x", q), PTD_EINVAL);
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), ".png .svg .pdf .tex"));
    free(q);

    /* gnuplot missing */
    ck_assert_int_eq(setenv("PTD_GNUPLOT", "/nonexistent/gnuplot", 1), 0);
    ck_assert_int_eq(ptd_plot_render("plot x", p), PTD_EEXTERN);
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), "gnuplot not found"));
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), "gnuplot-nox"));
    ck_assert_uint_eq(list_dir(dir, list, sizeof list), 0);

    /* a "gnuplot" that fails without a word */
    ck_assert_int_eq(setenv("PTD_GNUPLOT", "false", 1), 0);
    ck_assert_int_eq(ptd_plot_render("plot x", p), PTD_EEXTERN);
    ck_assert_uint_eq(list_dir(dir, list, sizeof list), 0);
    /* one that succeeds and draws nothing */
    ck_assert_int_eq(setenv("PTD_GNUPLOT", "true", 1), 0);
    ck_assert_int_eq(ptd_plot_render("plot x", p), PTD_EEXTERN);
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), "no image"));
    ck_assert_uint_eq(list_dir(dir, list, sizeof list), 0);
    ck_assert_int_eq(unsetenv("PTD_GNUPLOT"), 0);

    if (have_gnuplot()) {
        /* a syntax error on line 3 of the caller's script */
        ck_assert_int_eq(ptd_plot_render("set xrange [0:1]\nset yrange [0:1]\nplot sin(\n", p),
                         PTD_EEXTERN);
        ck_assert_msg(strstr(ptd_last_error(), "script line 3") != NULL, "message: %s",
                      ptd_last_error());
        ck_assert_uint_eq(list_dir(dir, list, sizeof list), 0);
        /* an error after the image was started */
        ck_assert_int_eq(ptd_plot_render("plot x\nundefined_command_xyz\n", p), PTD_EEXTERN);
        ck_assert_ptr_nonnull(strstr(ptd_last_error(), "script line 2"));
        ck_assert_uint_eq(list_dir(dir, list, sizeof list), 0);

        /* a directory that does not exist */
        char *missing = join(dir, "no/such/x.png");
        ck_assert_int_eq(ptd_plot_render("plot x", missing), PTD_EIO);
        ck_assert_ptr_nonnull(strstr(ptd_last_error(), missing));
        ck_assert_ptr_nonnull(strstr(ptd_last_error(), strerror(ENOENT)));
        free(missing);

        /* a directory in the way of the final rename */
        char *sub = join(dir, "d.png");
        ck_assert_int_eq(mkdir(sub, 0700), 0);
        ck_assert_int_eq(ptd_plot_render("plot x", sub), PTD_EIO);
        ck_assert_uint_eq(list_dir(dir, list, sizeof list), 1);
        rmdir(sub);
        free(sub);

        /* a read-only directory (root ignores the mode: skip that case then) */
        if (geteuid() != 0) {
            ck_assert_int_eq(chmod(dir, 0500), 0);
            ck_assert_int_eq(ptd_plot_render("plot x", p), PTD_EIO);
            ck_assert_ptr_nonnull(strstr(ptd_last_error(), strerror(EACCES)));
            ck_assert_int_eq(chmod(dir, 0700), 0);
        }
        ck_assert_uint_eq(list_dir(dir, list, sizeof list), 0);
    } else {
        fprintf(stderr, "%s: SKIP (part): gnuplot not on PATH\n", __func__);
    }
    free(p);
    remove_dir(dir);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* where files go: modes, links, devices, FIFOs; complete images; signals                 */
/* ------------------------------------------------------------------------------------ */

/* a temporary file or render directory among the names */
static int has_temp(const char *list) { return strstr(list, ".ptdtmp-") || strstr(list, ".ptdplot-"); }

static void put_file(const char *p, const void *data, size_t n)
{
    FILE *f = fopen(p, "wb");
    ck_assert_msg(f != NULL, "%s: %s", p, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* the whole file into a malloc'ed buffer, *n its size */
static char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    ck_assert_msg(f != NULL, "%s: %s", p, strerror(errno));
    char *buf = malloc(1 << 22);
    ck_assert_ptr_nonnull(buf);
    *n = fread(buf, 1, (1 << 22) - 1, f);
    buf[*n] = '\0';
    fclose(f);
    return buf;
}

static unsigned mode_of(const char *p)
{
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    return (unsigned)(sb.st_mode & 07777);
}

/* A character device node in dir (1,3 is /dev/null, 1,7 /dev/full): root only.  Tests write
 * to such a copy, never to /dev itself: a writer that replaced its target would replace the
 * machine's own device.  NULL when mknod is not permitted. */
static char *char_device(const char *dir, const char *name, unsigned minor)
{
    char *p = join(dir, name);
    if (mknod(p, S_IFCHR | 0666, makedev(1, minor)) == 0) return p;
    free(p);
    return NULL;
}

START_TEST(test_write_file_modes_and_links)
{
    char *dir = make_tmpdir(), list[4096];
    mode_t old = umask(027);
    char *p = join(dir, "new.tsv");
    ck_assert_int_eq(ptd_plot_write_file(p, "x\n", 2), PTD_OK);
    ck_assert_uint_eq(mode_of(p), 0640); /* 0666 & ~umask, not a temporary's 0600 */
    ck_assert_int_eq(chmod(p, 0600), 0);
    ck_assert_int_eq(ptd_plot_write_file(p, "yy\n", 3), PTD_OK);
    ck_assert_uint_eq(mode_of(p), 0600);
    ck_assert_int_eq(chmod(p, 0604), 0);
    ck_assert_int_eq(ptd_plot_write_file(p, "z\n", 2), PTD_OK);
    ck_assert_uint_eq(mode_of(p), 0604);
    umask(old);

    /* a link is followed, never replaced: relative to its own directory */
    char *sub = join(dir, "sub");
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    char *target = join(sub, "t.gp"), *link = join(dir, "l.gp");
    put_file(target, "old", 3);
    ck_assert_int_eq(symlink("sub/t.gp", link), 0);
    ck_assert_int_eq(ptd_plot_write_file(link, "new\n", 4), PTD_OK);
    struct stat sb;
    ck_assert_int_eq(lstat(link, &sb), 0);
    ck_assert(S_ISLNK(sb.st_mode));
    size_t n;
    char *got = slurp(target, &n);
    ck_assert_str_eq(got, "new\n");
    free(got);
    ck_assert_uint_eq(list_dir(sub, list, sizeof list), 1); /* no temporary beside the target */
    /* a dangling link creates its target; a loop is an error */
    char *dangling = join(dir, "d.gp"), *made = join(sub, "made.gp");
    ck_assert_int_eq(symlink("sub/made.gp", dangling), 0);
    ck_assert_int_eq(ptd_plot_write_file(dangling, "m", 1), PTD_OK);
    ck_assert_int_eq(file_size(made), 1);
    char *l1 = join(dir, "loop1"), *l2 = join(dir, "loop2");
    ck_assert_int_eq(symlink("loop2", l1), 0);
    ck_assert_int_eq(symlink("loop1", l2), 0);
    ck_assert_int_eq(ptd_plot_write_file(l1, "x", 1), PTD_EIO);
    ck_assert_msg(strstr(ptd_last_error(), strerror(ELOOP)), "%s", ptd_last_error());
    ck_assert_uint_eq(list_dir(dir, list, sizeof list), 6); /* new.tsv sub l.gp d.gp loop1 loop2 */
    ck_assert_msg(!has_temp(list), "temporary left: %s", list);
    unlink(target);
    unlink(made);
    rmdir(sub);
    free(l1);
    free(l2);
    free(dangling);
    free(made);
    free(target);
    free(link);
    free(sub);
    free(p);
    remove_dir(dir);
}
END_TEST

START_TEST(test_write_file_devices_and_fifos)
{
    char *dir = make_tmpdir(), list[4096];
    char *null = char_device(dir, "null.tsv", 3), *full = char_device(dir, "full.ptd", 7);
    const int made_full = full != NULL;
    if (!full && geteuid() != 0) full = strdup("/dev/full"); /* cannot be replaced without root */
    struct stat sb;
    if (null) {
        ck_assert_msg(ptd_plot_write_file(null, "data\n", 5) == PTD_OK, "%s", ptd_last_error());
        ck_assert_int_eq(lstat(null, &sb), 0);
        ck_assert_msg(S_ISCHR(sb.st_mode), "the device was replaced");
    }
    if (full) {
        ck_assert_int_eq(ptd_plot_write_file(full, "data\n", 5), PTD_EIO);
        ck_assert_msg(strstr(ptd_last_error(), strerror(ENOSPC)), "%s", ptd_last_error());
        ck_assert_int_eq(lstat(full, &sb), 0);
        ck_assert(S_ISCHR(sb.st_mode));
        ck_assert_int_eq(ptd_output_check(full), PTD_OK);
    } else {
        fprintf(stderr, "%s: SKIP (part): mknod not permitted: device cases\n", __func__);
    }
    /* a FIFO: opened for reading first (without waiting), so the writer does not block */
    char *fifo = join(dir, "f.tsv");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    int rd = open(fifo, O_RDONLY | O_NONBLOCK);
    ck_assert_int_ge(rd, 0);
    ck_assert_int_eq(ptd_output_check(fifo), PTD_OK);
    ck_assert_msg(ptd_plot_write_file(fifo, "through\n", 8) == PTD_OK, "%s", ptd_last_error());
    char buf[64] = {0};
    ck_assert_int_eq(read(rd, buf, sizeof buf - 1), 8);
    ck_assert_str_eq(buf, "through\n");
    close(rd);
    ck_assert_int_eq(lstat(fifo, &sb), 0);
    ck_assert(S_ISFIFO(sb.st_mode));
    ck_assert_uint_eq(list_dir(dir, list, sizeof list), 1 + (null != NULL) + made_full);
    ck_assert_msg(!has_temp(list), "temporary left: %s", list);

    char *missing = join(dir, "no/such/x.tsv");
    ck_assert_int_eq(ptd_output_check(missing), PTD_EIO);
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), strerror(ENOENT)));
    ck_assert_int_eq(ptd_output_check(dir), PTD_EIO); /* a directory is not a file */
    ck_assert_int_eq(ptd_output_check(NULL), PTD_EINVAL);
    free(missing);
    free(fifo);
    free(null);
    free(full);
    remove_dir(dir);
}
END_TEST

/* Minimal files with the endings the formats must have, made here (not by gnuplot). */
static const unsigned char png_whole[] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
    0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0x3a, 0x7e, 0x9b, 0x55,
    0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
static const char pdf_whole[] = "%PDF-1.5\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
static const char svg_whole[] = "<?xml version=\"1.0\"?>\n<svg width=\"1\" height=\"1\">\n</svg>\n\n";
static const char tex_whole[] = "\\begingroup\n\\begin{picture}(1,1)\\end{picture}%\n\\endgroup\n";

/* A stand-in for gnuplot: writes the first BYTES bytes of $PTD_FAKE_SRC where the prelude's
 * "set output" says; for a .tex, the companion from $PTD_FAKE_PDF ($PTD_FAKE_PDF_BYTES). */
static char *fake_gnuplot(const char *dir)
{
    char *p = join(dir, "fakegp");
    const char *text =
        "#!/bin/sh\n"
        "out=$(sed -n \"s/^set output '\\(.*\\)'$/\\1/p\" \"$1\")\n"
        "head -c \"$PTD_FAKE_BYTES\" \"$PTD_FAKE_SRC\" > \"$out\"\n"
        "case $out in *.tex) head -c \"$PTD_FAKE_PDF_BYTES\" \"$PTD_FAKE_PDF\" > \"${out%.tex}.pdf\" ;; esac\n";
    put_file(p, text, strlen(text));
    ck_assert_int_eq(chmod(p, 0755), 0);
    return p;
}

static void set_size_env(const char *name, size_t n)
{
    char v[32];
    snprintf(v, sizeof v, "%zu", n);
    ck_assert_int_eq(setenv(name, v, 1), 0);
}

/* Render `path` in `out` through the fake with `src` cut to `keep` bytes: the status. */
static int fake_render(const char *out, const char *name, const char *src, size_t keep)
{
    char *path = join(out, name);
    ck_assert_int_eq(setenv("PTD_FAKE_SRC", src, 1), 0);
    set_size_env("PTD_FAKE_BYTES", keep);
    int st = ptd_plot_render("plot x", path);
    free(path);
    return st;
}

START_TEST(test_render_refuses_incomplete_images)
{
    char *dir = make_tmpdir(), *out = join(dir, "out"), list[4096];
    ck_assert_int_eq(mkdir(out, 0700), 0);
    char *gp = fake_gnuplot(dir);
    ck_assert_int_eq(setenv("PTD_GNUPLOT", gp, 1), 0);
    struct {
        const char *name;
        const void *data;
        size_t n;
    } whole[] = {{"a.png", png_whole, sizeof png_whole},
                 {"a.pdf", pdf_whole, sizeof pdf_whole - 1},
                 {"a.svg", svg_whole, sizeof svg_whole - 1}};
    char *pdfsrc = join(dir, "src.pdf"), *texsrc = join(dir, "src.tex");
    put_file(pdfsrc, pdf_whole, sizeof pdf_whole - 1);
    put_file(texsrc, tex_whole, sizeof tex_whole - 1);
    /* real images too, when gnuplot is here: their endings are what the check knows */
    char *real[3] = {NULL, NULL, NULL};
    size_t nreal[3] = {0, 0, 0};
    if (have_gnuplot()) {
        ck_assert_int_eq(unsetenv("PTD_GNUPLOT"), 0);
        for (int k = 0; k < 3; k++) {
            char name[32];
            snprintf(name, sizeof name, "real%s", strrchr(whole[k].name, '.'));
            real[k] = join(dir, name);
            ck_assert_msg(ptd_plot_render("set xrange [0:1]\nplot x", real[k]) == PTD_OK, "%s", ptd_last_error());
            nreal[k] = (size_t)file_size(real[k]);
        }
        ck_assert_int_eq(setenv("PTD_GNUPLOT", gp, 1), 0);
    }
    for (int k = 0; k < 3; k++) {
        for (int r = 0; r < (real[k] ? 2 : 1); r++) {
            char *src = r ? strdup(real[k]) : join(dir, "src");
            size_t n = r ? nreal[k] : whole[k].n;
            if (!r) put_file(src, whole[k].data, n);
            /* cut inside the ending, and in the middle: refused, nothing left */
            size_t cuts[] = {n - 8, n / 2};
            for (int c = 0; c < 2; c++) {
                ck_assert_int_eq(fake_render(out, whole[k].name, src, cuts[c]), PTD_EEXTERN);
                ck_assert_msg(strstr(ptd_last_error(), "incomplete"), "%s cut to %zu: %s", whole[k].name, cuts[c],
                              ptd_last_error());
                ck_assert_uint_eq(list_dir(out, list, sizeof list), 0);
            }
            /* whole: accepted, byte for byte */
            ck_assert_msg(fake_render(out, whole[k].name, src, n) == PTD_OK, "%s whole: %s", whole[k].name,
                          ptd_last_error());
            char *final = join(out, whole[k].name);
            ck_assert_int_eq(file_size(final), (long)n);
            unlink(final);
            free(final);
            if (!r) unlink(src);
            free(src);
        }
    }
    /* .tex: both files are checked */
    ck_assert_int_eq(setenv("PTD_FAKE_PDF", pdfsrc, 1), 0);
    size_t ntex = sizeof tex_whole - 1, npdf = sizeof pdf_whole - 1;
    size_t cases[][2] = {{ntex - 4, npdf}, {ntex, npdf - 8}, {ntex, npdf}};
    for (int k = 0; k < 3; k++) {
        set_size_env("PTD_FAKE_PDF_BYTES", cases[k][1]);
        int st = fake_render(out, "f.tex", texsrc, cases[k][0]);
        if (k < 2) {
            ck_assert_int_eq(st, PTD_EEXTERN);
            ck_assert_uint_eq(list_dir(out, list, sizeof list), 0);
        } else {
            ck_assert_msg(st == PTD_OK, "%s", ptd_last_error());
            ck_assert_uint_eq(list_dir(out, list, sizeof list), 2);
        }
    }
    ck_assert_int_eq(unsetenv("PTD_GNUPLOT"), 0);
    for (int k = 0; k < 3; k++) {
        if (real[k]) unlink(real[k]);
        free(real[k]);
    }
    char *f1 = join(out, "f.tex"), *f2 = join(out, "f.pdf");
    unlink(f1);
    unlink(f2);
    rmdir(out);
    free(f1);
    free(f2);
    free(pdfsrc);
    free(texsrc);
    free(gp);
    free(out);
    remove_dir(dir);
}
END_TEST

START_TEST(test_render_targets)
{
    /* where an image goes is where any file goes: mode kept, links followed, a device or
     * FIFO written in place (the fake gnuplot keeps the image small enough for a pipe) */
    char *dir = make_tmpdir(), list[4096];
    char *gp = fake_gnuplot(dir), *src = join(dir, "src");
    put_file(src, png_whole, sizeof png_whole);
    ck_assert_int_eq(setenv("PTD_GNUPLOT", gp, 1), 0);
    ck_assert_int_eq(setenv("PTD_FAKE_SRC", src, 1), 0);
    set_size_env("PTD_FAKE_BYTES", sizeof png_whole);
    char *p = join(dir, "m.png");
    put_file(p, "old", 3);
    ck_assert_int_eq(chmod(p, 0600), 0);
    ck_assert_msg(ptd_plot_render("plot x", p) == PTD_OK, "%s", ptd_last_error());
    ck_assert_uint_eq(mode_of(p), 0600);
    ck_assert_int_eq(file_size(p), (long)sizeof png_whole);

    char *link = join(dir, "l.png");
    ck_assert_int_eq(symlink("m.png", link), 0);
    ck_assert_int_eq(chmod(p, 0640), 0);
    ck_assert_msg(ptd_plot_render("plot x", link) == PTD_OK, "%s", ptd_last_error());
    struct stat sb;
    ck_assert_int_eq(lstat(link, &sb), 0);
    ck_assert(S_ISLNK(sb.st_mode));
    ck_assert_uint_eq(mode_of(p), 0640);

    char *fifo = join(dir, "f.png");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    int rd = open(fifo, O_RDONLY | O_NONBLOCK);
    ck_assert_int_ge(rd, 0);
    ck_assert_msg(ptd_plot_render("plot x", fifo) == PTD_OK, "%s", ptd_last_error());
    unsigned char buf[256];
    ck_assert_int_eq(read(rd, buf, sizeof buf), (int)sizeof png_whole);
    ck_assert_int_eq(memcmp(buf, png_whole, sizeof png_whole), 0);
    close(rd);
    ck_assert_int_eq(lstat(fifo, &sb), 0);
    ck_assert(S_ISFIFO(sb.st_mode));

    char *full = char_device(dir, "full.png", 7);
    if (full) {
        ck_assert_int_eq(ptd_plot_render("plot x", full), PTD_EIO);
        ck_assert_msg(strstr(ptd_last_error(), strerror(ENOSPC)), "%s", ptd_last_error());
        ck_assert_int_eq(lstat(full, &sb), 0);
        ck_assert(S_ISCHR(sb.st_mode));
    }
    ck_assert_uint_eq(list_dir(dir, list, sizeof list), 5 + (full != NULL));
    ck_assert_msg(!has_temp(list), "temporary left: %s", list);
    ck_assert_int_eq(unsetenv("PTD_GNUPLOT"), 0);
    free(full);
    free(fifo);
    free(link);
    free(p);
    free(src);
    free(gp);
    remove_dir(dir);
}
END_TEST

/* A signal in another thread than the one saving, with the saver's thread blocking it (the
 * old ssm-train's defence): the handler removes the temporary and the process dies of the
 * signal.  Run in a child process, which the signal kills. */
static const char *sig_dir;
static void *raise_when_saving(void *arg)
{
    int sig = *(const int *)arg;
    for (int k = 0; k < 3000; k++) { /* up to 30 s for the temporary to appear */
        DIR *d = opendir(sig_dir);
        struct dirent *e;
        int seen = 0;
        while (d && (e = readdir(d)) != NULL) seen |= strncmp(e->d_name, ".ptdtmp-", 8) == 0;
        if (d) closedir(d);
        if (seen) {
            raise(sig); /* to this thread */
            break;
        }
        usleep(10000);
    }
    return NULL;
}

START_TEST(test_signal_in_another_thread)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++) {
        char *dir = make_tmpdir(), list[4096];
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            sig_dir = dir;
            /* check's fork mode handles SIGINT and SIGTERM in the test process: start from
             * the defaults a program starts with (a handler already there is left alone) */
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            if (ptd_output_handle_signals()) _exit(3);
            sigset_t s;
            sigemptyset(&s);
            sigaddset(&s, sigs[k]);
            pthread_t t;
            if (pthread_create(&t, NULL, raise_when_saving, (void *)&sigs[k]) != 0) _exit(4);
            pthread_sigmask(SIG_BLOCK, &s, NULL); /* this thread only, after the other started */
            setenv("PTD_TEST_SLEEP_IN_SAVE", "30", 1);
            char *p = join(dir, "x.tsv");
            ptd_plot_write_file(p, "data\n", 5);
            _exit(5); /* the save ended: the signal never came */
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == sigs[k], "signal %d: status %#x", sigs[k], status);
        ck_assert_msg(list_dir(dir, list, sizeof list) == 0, "signal %d left: %s", sigs[k], list);
        remove_dir(dir);
    }
}
END_TEST

START_TEST(test_signals_ignored_stay_ignored)
{
    /* nohup, a shell's background job: an ignored signal is not turned into a fatal one */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGHUP, SIG_IGN);
        if (ptd_output_handle_signals()) _exit(3);
        raise(SIGHUP);
        struct sigaction sa;
        sigaction(SIGTERM, NULL, &sa);
        _exit(sa.sa_handler == SIG_DFL ? 4 : 0); /* SIGTERM got the handler */
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("writers");
    tcase_add_test(tc, test_tsv_layout_and_values);
    tcase_add_test(tc, test_tsv_never_inf);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_script_text);
    tcase_add_test(tc, test_script_newline_in_meta);
    tcase_add_test(tc, test_script_latex_and_levels);
    tcase_add_test(tc, test_script_relative_and_markers);
    tcase_add_test(tc, test_series_axes);
    tcase_add_test(tc, test_series_dots_and_decades);
    tcase_add_test(tc, test_text_plain_title_markup_keys);
    tcase_add_test(tc, test_nested_levels_read_nested);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_add_test(tc, test_is_image);
    tcase_add_test(tc, test_write_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("render");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_render_formats);
    tcase_add_test(tc, test_render_relative_tex);
    tcase_add_test(tc, test_contour_is_circle);
    tcase_add_test(tc, test_render_no_contour);
    tcase_add_test(tc, test_render_failures_leave_nothing);
    suite_add_tcase(s, tc);

    tc = tcase_create("output");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_write_file_modes_and_links);
    tcase_add_test(tc, test_write_file_devices_and_fifos);
    tcase_add_test(tc, test_render_refuses_incomplete_images);
    tcase_add_test(tc, test_render_targets);
    tcase_add_test(tc, test_signal_in_another_thread);
    tcase_add_test(tc, test_signals_ignored_stay_ignored);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
