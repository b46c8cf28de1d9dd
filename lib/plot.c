/* plot.c - gnuplot scripts, tsv data, and images rendered by running gnuplot.
 *
 * The script is self-contained: the grid and the eigenvalues travel as datablocks, and
 * gnuplot itself extracts the contour lines (set table) before drawing them in 2D, so
 * the figure is a clean line plot in any terminal.  Rendering runs gnuplot (no shell) in
 * a private directory created beside the target, and only a finished, complete image is
 * put in place, the way output.c puts every file.
 */
#include "config.h"
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

/* ------------------------------------------------------------------------------------ */
/* checks and small writers                                                               */
/* ------------------------------------------------------------------------------------ */


void ptdi_plot_terminal_fallback(FILE *f)
{
    fputs("if (GPVAL_TERM eq \"unknown\") { set terminal dumb size 100,40; print \"ptdkit: this gnuplot has no "
          "interactive terminal: drawing as text (render an image with -o FILE.png)\" }\n", f);
}

static int check_grid(const char *fn, const ptd_pspec_grid *g)
{
    if (!g) return ptd_error(PTD_EINVAL, "%s: grid is NULL", fn);
    if (g->nx < 2 || g->ny < 2)
        return ptd_error(PTD_EINVAL, "%s: grid is %zu x %zu; nx and ny must be >= 2", fn,
                         g->nx, g->ny);
    if (g->nx > SIZE_MAX / g->ny)
        return ptd_error(PTD_EINVAL, "%s: grid %zu x %zu overflows", fn, g->nx, g->ny);
    if (!g->sigma) return ptd_error(PTD_EINVAL, "%s: grid has no sigma values", fn);
    const ptd_box *b = &g->box;
    if (!isfinite(b->xmin) || !isfinite(b->xmax) || !isfinite(b->ymin) ||
        !isfinite(b->ymax) || !(b->xmin < b->xmax) || !(b->ymin < b->ymax))
        return ptd_error(PTD_EINVAL,
                         "%s: box [%g, %g] x [%g, %g] must be finite with min < max", fn,
                         b->xmin, b->xmax, b->ymin, b->ymax);
    size_t n = g->nx * g->ny;
    for (size_t k = 0; k < n; k++)
        if (isnan(g->sigma[k]) || g->sigma[k] < 0)
            return ptd_error(PTD_EINVAL,
                             "%s: sigma at grid point (%zu, %zu) is %g; want a number >= 0",
                             fn, k % g->nx, k / g->nx, g->sigma[k]);
    return PTD_OK;
}

/* sigma as written into data files: +inf is clamped to DBL_MAX so no "inf" appears. */
static double finite_sigma(double s) { return s > DBL_MAX ? DBL_MAX : s; }

/* One '#' comment line.  Control characters become spaces (a newline would end the
 * comment and turn the rest into gnuplot commands).  gnuplot continues a line that ends
 * in a backslash, comments included, so such a line gets a trailing space. */
static void put_comment(FILE *f, const char *label, const char *text)
{
    fputs("# ", f);
    if (label) fprintf(f, "%s: ", label);
    char last = '\0';
    for (const char *c = text ? text : ""; *c; c++) {
        char ch = iscntrl((unsigned char)*c) ? ' ' : *c;
        fputc(ch, f);
        last = ch;
    }
    if (last == '\\') fputc(' ', f);
    fputc('\n', f);
}

/* A gnuplot single-quoted string: no escapes are interpreted ('' is a quote), so LaTeX
 * backslashes pass through untouched.  Control characters cannot appear in one. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (const char *c = s; *c; c++) {
        if (*c == '\'') fputs("''", f);
        else if (iscntrl((unsigned char)*c)) fputc(' ', f);
        else fputc(*c, f);
    }
    fputc('\'', f);
}

/* eps as text, the shortest form that reads back as the same double.  A list reads
 * best in one style: decimals (0.01, 0.3, 1) when every level lies in [1e-2, 1e3),
 * otherwise exponents (1e-04, 2.5e-03).  `fixed` says which, for the whole list. */
static int eps_fixed(const double *lev, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!(lev[k] >= 1e-2 && lev[k] < 1e3)) return 0;
    return 1;
}

/* The shortest text within a relative `tol` of eps (0: the same double). */
static void eps_near(char *buf, size_t n, double eps, int fixed, double tol)
{
    for (int p = 0; p <= 17; p++) {
        snprintf(buf, n, fixed ? "%.*g" : "%.*e", fixed ? p + 1 : p, eps);
        if (fabs(strtod(buf, NULL) - eps) <= tol * eps) return;
    }
}

static void eps_plain(char *buf, size_t n, double eps, int fixed) { eps_near(buf, n, eps, fixed, 0); }

/* The same in LaTeX math (no dollars): 10^{-4}, 2.5\times 10^{-3}, or 0.3. */
static void eps_latex(char *buf, size_t n, double eps, int fixed, double tol)
{
    if (fixed) {
        eps_near(buf, n, eps, 1, tol);
        return;
    }
    char plain[64];
    eps_near(plain, sizeof plain, eps, 0, tol);
    char *e = strchr(plain, 'e');
    if (!e) {
        snprintf(buf, n, "%s", plain);
        return;
    }
    *e = '\0';
    int ex = atoi(e + 1);
    if (strcmp(plain, "1") == 0) snprintf(buf, n, "10^{%d}", ex);
    else if (ex == 0) snprintf(buf, n, "%s", plain);
    else snprintf(buf, n, "%s\\times 10^{%d}", plain, ex);
}

/* Escape LaTeX's special characters in a caller's text (a title like "file:a_b.mtx"
 * would otherwise stop the document from compiling). */
static void latex_text(char *buf, size_t n, const char *s)
{
    size_t k = 0;
    for (const char *c = s; *c && k + 24 < n; c++) {
        const char *rep = NULL;
        switch (*c) {
        case '\\': rep = "\\textbackslash{}"; break;
        case '~': rep = "\\textasciitilde{}"; break;
        case '^': rep = "\\textasciicircum{}"; break;
        case '_': rep = "\\_"; break;
        case '%': rep = "\\%"; break;
        case '&': rep = "\\&"; break;
        case '#': rep = "\\#"; break;
        case '$': rep = "\\$"; break;
        case '{': rep = "\\{"; break;
        case '}': rep = "\\}"; break;
        default: break;
        }
        if (rep) {
            size_t m = strlen(rep);
            memcpy(buf + k, rep, m);
            k += m;
        } else {
            buf[k++] = *c;
        }
    }
    buf[k] = '\0';
}

static int finish_stream(FILE *f, const char *fn)
{
    if (fflush(f) != 0 || ferror(f))
        return ptd_error(PTD_EIO, "%s: write failed: %s", fn, strerror(errno));
    return PTD_OK;
}

/* the command, the version and the caller's notes, as '#' lines */
static void put_meta_lines(FILE *f, const ptd_plot_meta *meta)
{
    if (meta && meta->command) put_comment(f, "command", meta->command);
    fprintf(f, "# ptdkit %s\n", ptd_version());
    if (meta && meta->notes)
        for (size_t k = 0; k < meta->nnotes; k++)
            if (meta->notes[k]) put_comment(f, NULL, meta->notes[k]);
}

static void put_provenance(FILE *f, const ptd_pspec_grid *g, const ptd_plot_meta *meta)
{
    put_meta_lines(f, meta);
    fprintf(f, "# grid: %zu x %zu points, box [%.17g, %.17g] x [%.17g, %.17g]\n", g->nx,
            g->ny, g->box.xmin, g->box.xmax, g->box.ymin, g->box.ymax);
}

/* the same without a grid: traced curves alone */
static void put_provenance_box(FILE *f, const ptd_box *b, const ptd_plot_meta *meta)
{
    put_meta_lines(f, meta);
    fprintf(f, "# no grid: traced level curves, box [%.17g, %.17g] x [%.17g, %.17g]\n", b->xmin, b->xmax, b->ymin,
            b->ymax);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ------------------------------------------------------------------------------------ */
/* the gnuplot script                                                                     */
/* ------------------------------------------------------------------------------------ */

/* Contour colours: one line colour for a single level; for several, a palette from
 * blue (smallest eps, innermost) to dark red, EigTool's order, with every colour dark
 * enough to read as a thin line on white (no yellow end). */
#define ONE_LEVEL_COLOUR "#0060ad"
static const double palette_stop[5] = {0, 0.25, 0.5, 0.75, 1};
static const unsigned palette_rgb[5] = {0x1f3c99, 0x0a8fb5, 0x2ca02c, 0xe6820e, 0xc0111f};

/* The palette's colour at f in [0, 1], interpolated in RGB between its stops (as gnuplot
 * does), as "#rrggbb". */
static void palette_at(double f, char out[8])
{
    const double *at = palette_stop;
    const unsigned *rgb = palette_rgb;
    if (!(f > 0)) f = 0;
    if (f > 1) f = 1;
    int i = 0;
    while (i < 3 && f > at[i + 1]) i++;
    double w = (f - at[i]) / (at[i + 1] - at[i]);
    unsigned c = 0;
    for (int sh = 16; sh >= 0; sh -= 8) {
        double a = (rgb[i] >> sh) & 0xff, b = (rgb[i + 1] >> sh) & 0xff;
        c |= (unsigned)lround(a + w * (b - a)) << sh;
    }
    snprintf(out, 8, "#%06x", c);
}

static int finite_z(double complex z) { return isfinite(creal(z)) && isfinite(cimag(z)); }

/* the overlay's datablocks: marked points (one block per set) and the W(A) polygon */
static void put_overlay_data(FILE *f, const ptd_plot_overlay *ov)
{
    if (!ov) return;
    for (size_t s = 0; s < ov->nsets && s < PTD_PLOT_MAX_MARKS; s++) {
        const double *pe = ov->sets[s].eps;
        fprintf(f, "\n# %s: Re Im%s\n$mark%zu << EOD\n", ov->sets[s].title ? ov->sets[s].title : "points",
                pe ? " log10(eps)" : "", s);
        for (size_t k = 0; k < ov->sets[s].n; k++) {
            if (!finite_z(ov->sets[s].z[k])) continue;
            fprintf(f, "%.17g %.17g", creal(ov->sets[s].z[k]), cimag(ov->sets[s].z[k]));
            if (pe) fprintf(f, " %.17g", pe[k] > 0 ? log10(pe[k]) : 0.0);
            fputc('\n', f);
        }
        fputs("EOD\n", f);
    }
    if (ov->nfov >= 3) {
        fputs("\n# boundary of the numerical range W(A), closed: Re Im\n$fov << EOD\n", f);
        for (size_t k = 0; k <= ov->nfov; k++) {
            double complex z = ov->fov[k % ov->nfov];
            if (finite_z(z)) fprintf(f, "%.17g %.17g\n", creal(z), cimag(z));
        }
        fputs("EOD\n", f);
    }
}

/* An eigenvalue's dot (pt 7 ps 0.6, about 3 px on the 640 px of a PNG's frame) and its margin,
 * as a fraction of the box: a circle smaller than this would vanish under it. */
#define DOT_RADIUS 0.0055
#define EIG_PS 0.6
/* a circle about a component below resolution smaller than this is not drawn */
#define CIRCLE_MIN 0.002

/* log10 sigma at grid point (i, j) as the script's $sigma holds it */
static double grid_log_sigma(const ptd_pspec_grid *g, size_t i, size_t j)
{
    return log10(fmax(finite_sigma(g->sigma[i + j * g->nx]), DBL_TRUE_MIN));
}

/* The distance from (cx, cy) to the nearest point within w of it where a grid edge crosses one
 * of the levels lv[0..nl-1] (log10 eps), interpolated linearly on the edge as gnuplot's
 * contours are: the vertices of the drawn contours.  INFINITY when none is that near. */
static double grid_contour_distance(const ptd_pspec_grid *g, double cx, double cy, double w, const double *lv,
                                    size_t nl)
{
    const ptd_box *b = &g->box;
    double hx = (b->xmax - b->xmin) / (double)(g->nx - 1), hy = (b->ymax - b->ymin) / (double)(g->ny - 1);
    double fi0 = floor((cx - w - b->xmin) / hx), fi1 = ceil((cx + w - b->xmin) / hx);
    double fj0 = floor((cy - w - b->ymin) / hy), fj1 = ceil((cy + w - b->ymin) / hy);
    if (!(fi1 >= 0 && fj1 >= 0 && fi0 <= (double)(g->nx - 1) && fj0 <= (double)(g->ny - 1))) return INFINITY;
    size_t i0 = fi0 > 0 ? (size_t)fi0 : 0, j0 = fj0 > 0 ? (size_t)fj0 : 0;
    size_t i1 = fi1 < (double)(g->nx - 1) ? (size_t)fi1 : g->nx - 1, j1 = fj1 < (double)(g->ny - 1) ? (size_t)fj1 : g->ny - 1;
    double best = INFINITY;
    for (size_t j = j0; j <= j1; j++)
        for (size_t i = i0; i <= i1; i++) {
            double a = grid_log_sigma(g, i, j), x = ptd_pspec_grid_x(g, i), y = ptd_pspec_grid_y(g, j);
            for (int dir = 0; dir < 2; dir++) {
                size_t i2 = i + (dir == 0), j2 = j + (dir == 1);
                if (i2 > i1 || j2 > j1) continue;
                double c = grid_log_sigma(g, i2, j2), x2 = ptd_pspec_grid_x(g, i2), y2 = ptd_pspec_grid_y(g, j2);
                for (size_t k = 0; k < nl; k++) {
                    if ((a < lv[k]) == (c < lv[k])) continue;
                    double t = (lv[k] - a) / (c - a);
                    best = fmin(best, hypot(x + t * (x2 - x) - cx, y + t * (y2 - y) - cy));
                }
            }
        }
    return best;
}

/* The distance from (cx, cy) to the polyline of a curve (closed: back to its start). */
static double curve_distance(const ptd_pspec_curve *cv, double cx, double cy)
{
    double best = INFINITY;
    size_t m = cv->closed ? cv->nv + 1 : cv->nv;
    for (size_t k = 1; k < m; k++) {
        double complex p = cv->z[k - 1], q = cv->z[k % cv->nv];
        if (!finite_z(p) || !finite_z(q)) continue;
        double dx = creal(q) - creal(p), dy = cimag(q) - cimag(p), l2 = dx * dx + dy * dy;
        double t = l2 > 0 ? ((cx - creal(p)) * dx + (cy - cimag(p)) * dy) / l2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        best = fmin(best, hypot(creal(p) + t * dx - cx, cimag(p) + t * dy - cy));
    }
    return best;
}

/* Whether (x, y) lies inside a closed curve (crossing number) */
static int curve_encloses(const ptd_pspec_curve *cv, double x, double y)
{
    int in = 0;
    for (size_t k = 0, l = cv->nv - 1; k < cv->nv; l = k++) {
        double complex p = cv->z[k], q = cv->z[l];
        if (!finite_z(p) || !finite_z(q)) continue;
        if ((cimag(p) > y) != (cimag(q) > y) &&
            x < creal(p) + (y - cimag(p)) * (creal(q) - creal(p)) / (cimag(q) - cimag(p)))
            in = !in;
    }
    return in;
}

/* one traced curve as the figure draws it */
typedef struct {
    const ptd_pspec_curve *cv;
    double eps, cx, cy;     /* cx, cy: the centre of its bounding box */
    double x0, x1, y0, y1;  /* the bounding box */
    size_t rank;            /* the index of its eps among the sorted levels */
    int tiny;               /* closed, not a hole, narrower than the figure resolves (2: and
                               inside a larger eps's such component) */
} traced_curve;

/* a circle about a component below resolution, in the units of the axes */
typedef struct {
    double x, y, leps, r;
} tiny_circle;

/* What the figure draws of the traced curves, and how: decided before anything is written,
 * since the eigenvalues' dots are sized by it. */
typedef struct {
    traced_curve *tc;
    size_t m, nbig;        /* curves drawn; of them, resolved */
    tiny_circle *circ;
    size_t ncirc, inside, crowded; /* circles; components not circled, and why */
    const ptd_pspec_grid *g;       /* the grid whose contours are drawn, or NULL */
    const double *lev;
    size_t nlev;
    double bsize;                  /* the box's larger side */
    double *lv;                    /* room for nlev log10 levels */
} traced_set;

static void traced_free(traced_set *ts)
{
    free(ts->tc);
    free(ts->circ);
    free(ts->lv);
}

/* The distance from (x, y) to the nearest drawn line within w of it, or INFINITY: the grid's
 * contours of the levels from index k0 on, the resolved traced curves of eps above `above`
 * (0: all), and the circles (circles: 1). */
static double drawn_distance(const traced_set *ts, double x, double y, double w, size_t k0, double above, int circles)
{
    double *lv = ts->lv;
    double d = INFINITY;
    size_t nl = 0;
    for (size_t k = k0; k < ts->nlev; k++) lv[nl++] = log10(ts->lev[k]);
    if (ts->g && nl) d = grid_contour_distance(ts->g, x, y, w, lv, nl);
    for (size_t p = 0; p < ts->m; p++) {
        const traced_curve *c = &ts->tc[p];
        if (c->tiny || !(c->eps > above)) continue;
        double bx = fmax(fmax(c->x0 - x, x - c->x1), 0), by = fmax(fmax(c->y0 - y, y - c->y1), 0);
        if (hypot(bx, by) < fmin(d, w)) d = fmin(d, curve_distance(c->cv, x, y));
    }
    for (size_t q = 0; circles && q < ts->ncirc; q++)
        d = fmin(d, fabs(hypot(ts->circ[q].x - x, ts->circ[q].y - y) - ts->circ[q].r));
    return d;
}

/* Sorts the overlay's traced curves into resolved and tiny, and decides the circles. */
static int traced_prepare(traced_set *ts, const ptd_plot_overlay *ov, const ptd_pspec_grid *g, const ptd_box *bx,
                          const double *lev, size_t nlev)
{
    memset(ts, 0, sizeof *ts);
    ts->g = g, ts->lev = lev, ts->nlev = nlev;
    ts->bsize = fmax(bx->xmax - bx->xmin, bx->ymax - bx->ymin);
    size_t nc = 0;
    for (size_t t = 0; ov && ov->traces && t < ov->ntraces; t++)
        if (ov->traces[t]) nc += ov->traces[t]->ncurves;
    ts->tc = nc ? malloc(nc * sizeof *ts->tc) : NULL;
    ts->circ = nc ? malloc(nc * sizeof *ts->circ) : NULL;
    ts->lv = malloc((nlev ? nlev : 1) * sizeof *ts->lv);
    if ((nc && (!ts->tc || !ts->circ)) || !ts->lv) {
        traced_free(ts);
        return ptd_error(PTD_ENOMEM, "ptd_plot_pspec_gnuplot: %zu traced curves", nc);
    }
    if (!nc) return PTD_OK;
    const double res = ts->bsize / 150;
    for (size_t t = 0; t < ov->ntraces; t++) {
        const ptd_pspec_trace_result *r = ov->traces[t];
        if (!r) continue;
        size_t rank = 0;
        for (size_t k = 0; k < nlev; k++)
            if (lev[k] < r->eps) rank = k + 1;
        for (size_t c = 0; c < r->ncurves; c++) {
            const ptd_pspec_curve *cv = &r->curves[c];
            double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
            size_t fin = 0;
            for (size_t k = 0; k < cv->nv; k++)
                if (finite_z(cv->z[k])) {
                    fin++;
                    x0 = fmin(x0, creal(cv->z[k]));
                    x1 = fmax(x1, creal(cv->z[k]));
                    y0 = fmin(y0, cimag(cv->z[k]));
                    y1 = fmax(y1, cimag(cv->z[k]));
                }
            if (fin < 2) continue; /* nothing to draw (and no empty block in $traced) */
            int tiny = cv->closed && !cv->hole && fmax(x1 - x0, y1 - y0) < res;
            ts->tc[ts->m++] = (traced_curve){cv, r->eps, 0.5 * (x0 + x1), 0.5 * (y0 + y1), x0, x1, y0, y1, rank, tiny};
            ts->nbig += !tiny;
        }
    }
    /* A closed component narrower than a 150th of the box is drawn, but below what the figure
     * resolves: it is circled at its centre, a circle in the units of the axes (radius 0.9 to
     * 1.8 % of the box, larger for a larger eps), so that the levels read as nested, as they
     * are: none where a larger eps's component holds the centre and is below resolution too
     * (that one's circle stands for both), and none larger than half its distance to a drawn
     * contour of a larger eps (the grid's, or a traced curve), so that it sits inside the
     * contour that encloses it, nor larger than half the way to the next circle; one that
     * would then be too small to see (a 500th of the box) is left out, the contour marking
     * the place. */
    for (size_t q = 0; q < ts->m; q++) {
        traced_curve *c = &ts->tc[q];
        if (!c->tiny) continue;
        for (size_t p = 0; p < ts->m && c->tiny == 1; p++)
            if (p != q && ts->tc[p].tiny && ts->tc[p].eps > c->eps && c->cx >= ts->tc[p].x0 && c->cx <= ts->tc[p].x1 &&
                c->cy >= ts->tc[p].y0 && c->cy <= ts->tc[p].y1 && curve_encloses(ts->tc[p].cv, c->cx, c->cy))
                c->tiny = 2; /* held: not circled */
        ts->inside += c->tiny == 2;
    }
    for (size_t q = 0; q < ts->m; q++) {
        const traced_curve *c = &ts->tc[q];
        if (c->tiny != 1) continue;
        double R = ts->bsize * (0.009 + (nlev > 1 ? 0.009 * (double)c->rank / (double)(nlev - 1) : 0));
        double d = drawn_distance(ts, c->cx, c->cy, 2 * R, c->rank + 1, c->eps, 0);
        for (size_t p = 0; p < ts->m; p++) /* and no two circles overlap */
            if (p != q && ts->tc[p].tiny == 1) d = fmin(d, hypot(ts->tc[p].cx - c->cx, ts->tc[p].cy - c->cy));
        double rad = fmin(R, 0.5 * d);
        if (!(rad >= ts->bsize * CIRCLE_MIN)) {
            ts->crowded++;
            continue;
        }
        ts->circ[ts->ncirc++] = (tiny_circle){c->cx, c->cy, log10(c->eps), rad};
    }
    return PTD_OK;
}

/* $traced (x y log10 eps, a blank line after each curve; an open curve is drawn as far as it
 * went), the resolved curves first, then the tiny ones; and $tiny, the circles */
static void traced_write(FILE *f, const traced_set *ts)
{
    if (ts->m)
        fputs("\n# traced level curves (ptd_pspec_trace): Re Im log10 eps, a blank line after each; first\n"
              "# those the figure resolves, then those narrower than a 150th of the box\n$traced << EOD\n", f);
    for (int pass = 0; pass < 2; pass++)
        for (size_t q = 0; q < ts->m; q++) {
            const traced_curve *c = &ts->tc[q];
            if ((c->tiny != 0) != pass) continue;
            for (size_t k = 0; k < c->cv->nv; k++)
                if (finite_z(c->cv->z[k]))
                    fprintf(f, "%.17g %.17g %.10g\n", creal(c->cv->z[k]), cimag(c->cv->z[k]), log10(c->eps));
            fputc('\n', f);
        }
    if (ts->m) fputs("EOD\n", f);
    if (ts->ncirc) {
        fputs("\n# traced components below the figure's resolution, each circled: Re Im log10 eps radius\n"
              "# (the radius in the units of the axes)\n$tiny << EOD\n", f);
        for (size_t q = 0; q < ts->ncirc; q++)
            fprintf(f, "%.17g %.17g %.10g %.6g\n", ts->circ[q].x, ts->circ[q].y, ts->circ[q].leps, ts->circ[q].r);
        fputs("EOD\n", f);
    }
    if (ts->inside)
        fprintf(f, "# %zu more below resolution, not circled: inside a larger eps's component below resolution too\n",
                ts->inside);
    if (ts->crowded)
        fprintf(f, "# %zu more below resolution, not circled: a larger eps's contour lies too close around them\n",
                ts->crowded);
}

/* An eigenvalue's dot: pt 7 ps 0.6, smaller where a drawn line (a contour, a resolved traced
 * curve, a circle) passes nearer than twice the dot's radius, so that the dot sits inside
 * the ring that encloses it (down to ps 0.25). */
static double eig_point_size(const traced_set *ts, double x, double y)
{
    double dot = ts->bsize * DOT_RADIUS;
    double d = drawn_distance(ts, x, y, 2 * dot, 0, 0, 1);
    double ps = d < 2 * dot ? EIG_PS * d / (2 * dot) : EIG_PS;
    return ps < 0.25 ? 0.25 : ps;
}

/* the overlay's plot clauses, each starting with ", " */
static void put_overlay_plot(FILE *f, const ptd_plot_overlay *ov, int latex, int palette)
{
    static const int pt[PTD_PLOT_MAX_MARKS] = {9, 5, 13, 11};
    static const char *const col[PTD_PLOT_MAX_MARKS] = {"#c0111f", "#1f3c99", "#2ca02c", "#e6820e"};
    if (!ov) return;
    if (ov->nfov >= 3) {
        fputs(", \\\n         $fov using 1:2 with lines dt 2 lw 1.5 lc rgb '#606060' title ", f);
        put_quoted(f, latex ? "numerical range $W(A)$" : "numerical range W(A)");
    }
    for (size_t s = 0; s < ov->nsets && s < PTD_PLOT_MAX_MARKS; s++) {
        /* with several levels a point takes its eps's colour from the palette, as its contour
         * does; the symbol tells the sets apart (the key's sample: black) */
        if (palette && ov->sets[s].eps) {
            fprintf(f, ", \\\n         $mark%zu using 1:2:3 with points pt %d ps 1.6 lw 2 lc palette notitle", s, pt[s]);
            fprintf(f, ", \\\n         NaN with points pt %d ps 1.6 lw 2 lc rgb 'black' title ", pt[s]);
        } else
            /* a set of many points (a whole spectrum) small, so that it hides no contour */
            fprintf(f, ", \\\n         $mark%zu using 1:2 with points pt %d ps %s lc rgb '%s' title ", s, pt[s],
                    ov->sets[s].n > PTD_PLOT_MANY_MARKS ? "0.7" : "1.6", col[s]);
        put_quoted(f, ov->sets[s].title ? ov->sets[s].title : "points");
    }
}

/* One plot command, its clauses in drawing order: what lies below the figure's resolution
 * first (the circles, and the curves inside them), then the contours (`contours`: the
 * grid's) and the traced curves the figure resolves, then the eigenvalues' dots, each small
 * enough to sit inside the nearest ring (eig_point_size); then the key's entries, as NaN
 * samples in the order the key shows them (eps_title: the one level's, NULL for several);
 * then the overlay's points, over everything. */
static void put_layers(FILE *f, int contours, size_t nlev, size_t ntraced, size_t nbig, size_t ntiny, size_t nfin,
                       const char *eps_title, const char *eig_title, const char *tiny_title, const ptd_plot_overlay *ov,
                       int latex)
{
    const char *lc = nlev > 1 ? "palette" : "rgb '" ONE_LEVEL_COLOUR "'", *c3 = nlev > 1 ? ":3" : "";
    int first = 1;
#define CLAUSE() (fputs(first ? "    plot " : ", \\\n         ", f), first = 0)
    if (ntiny) {
        CLAUSE();
        fprintf(f, "$tiny using 1:2:4%s with circles fs empty lw 1.5 lc %s notitle", c3, lc);
    }
    if (ntraced > nbig) {
        CLAUSE();
        fprintf(f, "$traced every :::%zu using 1:2%s with lines lw 2 lc %s notitle", nbig, c3, lc);
    }
    if (contours) {
        CLAUSE();
        fprintf(f, "$contours using 1:2%s with lines lw 2 lc %s ", c3, lc);
        if (eps_title) {
            fputs("title ", f);
            put_quoted(f, eps_title);
        } else
            fputs("notitle", f);
    }
    if (nbig) {
        CLAUSE();
        fprintf(f, "$traced every :::0::%zu using 1:2%s with lines lw 2 lc %s notitle", nbig - 1, c3, lc);
    }
    if (nfin) {
        CLAUSE();
        fputs("$eig using 1:2:3 with points pt 7 ps variable lc rgb 'black' notitle", f);
    }
    if (!contours && ntraced && eps_title) {
        CLAUSE();
        fprintf(f, "NaN with lines lw 2 lc %s title ", lc);
        put_quoted(f, eps_title);
    }
    if (ntiny) {
        CLAUSE();
        fprintf(f, "NaN with points pt 6 ps 1.5 lw 1.5 lc %s title ", nlev > 1 ? "rgb 'black'" : lc);
        put_quoted(f, tiny_title);
    }
    if (nfin) {
        CLAUSE();
        fprintf(f, "NaN with points pt 7 ps %g lc rgb 'black' title ", EIG_PS);
        put_quoted(f, eig_title);
    }
    if (first) {
        CLAUSE();
        fputs("NaN notitle", f);
    }
#undef CLAUSE
    put_overlay_plot(f, ov, latex, nlev > 1);
}

int ptd_plot_pspec_gnuplot(FILE *f, const ptd_pspec_grid *g, const double *eps,
                           size_t neps, const double complex *eig, size_t neig,
                           const ptd_plot_meta *meta)
{
    return ptd_plot_pspec_gnuplot_overlay(f, g, eps, neps, eig, neig, NULL, meta);
}

int ptd_plot_pspec_gnuplot_overlay(FILE *f, const ptd_pspec_grid *g, const double *eps,
                                   size_t neps, const double complex *eig, size_t neig,
                                   const ptd_plot_overlay *ov, const ptd_plot_meta *meta)
{
    static const char fn[] = "ptd_plot_pspec_gnuplot";
    ptd_clear_error();
    if (!f) return ptd_error(PTD_EINVAL, "%s: stream is NULL", fn);
    const int use_grid = !(ov && ov->traced_only);
    const ptd_box *bx = ov && ov->box ? ov->box : g ? &g->box : NULL;
    int st = 0;
    if (g || use_grid) st = check_grid(fn, g);
    if (st) return st;
    if (!bx || !isfinite(bx->xmin) || !isfinite(bx->xmax) || !isfinite(bx->ymin) || !isfinite(bx->ymax) ||
        !(bx->xmin < bx->xmax) || !(bx->ymin < bx->ymax))
        return ptd_error(PTD_EINVAL, "%s: traced curves alone need a box with xmin < xmax and ymin < ymax", fn);
    if (ov && ov->ntraces && !ov->traces)
        return ptd_error(PTD_EINVAL, "%s: %zu traced results but the array is NULL", fn, ov->ntraces);
    if (neps == 0 || !eps)
        return ptd_error(PTD_EINVAL, "%s: no eps levels; give at least one eps > 0", fn);
    if (neig > 0 && !eig)
        return ptd_error(PTD_EINVAL, "%s: %zu eigenvalues but the array is NULL", fn, neig);
    if (ov) {
        if (ov->nsets > PTD_PLOT_MAX_MARKS)
            return ptd_error(PTD_EINVAL, "%s: %zu point sets; at most %d", fn, ov->nsets, PTD_PLOT_MAX_MARKS);
        for (size_t s = 0; s < ov->nsets; s++)
            if (ov->sets[s].n > 0 && !ov->sets[s].z)
                return ptd_error(PTD_EINVAL, "%s: point set %zu has %zu points but the array is NULL", fn, s, ov->sets[s].n);
        if (ov->nfov > 0 && (ov->nfov < 3 || !ov->fov))
            return ptd_error(PTD_EINVAL, "%s: the numerical range needs at least 3 points and an array", fn);
    }
    for (size_t k = 0; k < neps; k++)
        if (!isfinite(eps[k]) || !(eps[k] > 0))
            return ptd_error(PTD_EINVAL, "%s: eps[%zu] = %g; want a finite eps > 0", fn, k,
                             eps[k]);

    /* levels sorted and without repeats: the colour scale and title read in order */
    double *lev = malloc(neps * sizeof *lev);
    if (!lev) return ptd_error(PTD_ENOMEM, "%s: %zu eps levels", fn, neps);
    memcpy(lev, eps, neps * sizeof *lev);
    qsort(lev, neps, sizeof *lev, cmp_double);
    size_t nlev = 0;
    for (size_t k = 0; k < neps; k++)
        if (nlev == 0 || lev[k] != lev[nlev - 1]) lev[nlev++] = lev[k];

    size_t nfin = 0;
    for (size_t k = 0; k < neig; k++)
        if (isfinite(creal(eig[k])) && isfinite(cimag(eig[k]))) nfin++;

    const int latex = meta && meta->latex;
    /* what the reader sees: eps as given, e = eps / ||A||_2 with --relative, to the digits
     * given (the quotient of a product is within a few ulps of e, never 17 digits of it) */
    const double unit = meta && meta->eps_unit > 0 && isfinite(meta->eps_unit) ? meta->eps_unit : 0;
    const double tol = unit ? 1e-13 : 0;
    double *shown = malloc(nlev * sizeof *shown);
    if (!shown) {
        free(lev);
        return ptd_error(PTD_ENOMEM, "%s: %zu eps levels", fn, nlev);
    }
    for (size_t k = 0; k < nlev; k++) shown[k] = unit ? lev[k] / unit : lev[k];
    traced_set ts;
    if ((st = traced_prepare(&ts, ov, use_grid ? g : NULL, bx, lev, nlev))) {
        free(lev);
        free(shown);
        return st;
    }
    const int fixed = eps_fixed(shown, nlev);
    const char *per = unit ? (latex ? "\\,\\|A\\|_2" : " ||A||₂") : "";
    char buf[256], text[1024];

    /* provenance */
    fputs("# ptdkit: epsilon-pseudospectra, a gnuplot 5 script with its data inline.\n"
          "# Show it with: gnuplot -p FILE, or render it with -o FILE.png/.svg/.pdf/.tex\n",
          f);
    if (g) put_provenance(f, g, meta);
    else put_provenance_box(f, bx, meta);
    ptdi_plot_terminal_fallback(f);
    fputs("# eps:", f);
    for (size_t k = 0; k < nlev; k++) {
        eps_plain(buf, sizeof buf, lev[k], 1); /* shortest exact: 0.1, not 0.1000...01 */
        fprintf(f, " %s", buf);
    }
    fputc('\n', f);
    fprintf(f, "# eigenvalues: %zu", neig);
    if (nfin < neig) fprintf(f, " (%zu not finite, not drawn)", neig - nfin);
    fputc('\n', f);

    /* data */
    if (use_grid) {
    fputs("\n# log10 sigma_min(zI - A): x y log10(max(sigma, DBL_TRUE_MIN)), one block per y\n"
          "$sigma << EOD\n", f);
    for (size_t j = 0; j < g->ny; j++) {
        double y = ptd_pspec_grid_y(g, j);
        for (size_t i = 0; i < g->nx; i++) {
            double x = ptd_pspec_grid_x(g, i);
            double s = finite_sigma(g->sigma[i + j * g->nx]);
            /* 15 digits keep coordinates exact to the grid spacing even for a small box
             * far from 0; 10 are plenty for a log10 value */
            fprintf(f, "%.15g %.15g %.10g\n", x, y, log10(fmax(s, DBL_TRUE_MIN)));
        }
        fputc('\n', f);
    }
    fputs("EOD\n", f);
    }
    if (nfin > 0) {
        /* the dot's size: smaller where a drawn ring is close (eig_point_size) */
        fputs("\n# eigenvalues: Re Im pointsize\n$eig << EOD\n", f);
        for (size_t k = 0; k < neig; k++)
            if (isfinite(creal(eig[k])) && isfinite(cimag(eig[k])))
                fprintf(f, "%.17g %.17g %.3g\n", creal(eig[k]), cimag(eig[k]), eig_point_size(&ts, creal(eig[k]), cimag(eig[k])));
        fputs("EOD\n", f);
    }
    put_overlay_data(f, ov);
    traced_write(f, &ts);
    const size_t ntraced = ts.m, nbig = ts.nbig, ntiny = ts.ncirc;

    /* contour extraction: gnuplot writes the lines into $contours, column 3 the level */
    if (use_grid) {
    fputs("\n# contour lines of log10 sigma_min at log10 eps, traced by gnuplot into $contours\n"
          "set contour base\nunset surface\nset view map\nset cntrparam linear\n"
          "set cntrparam levels discrete ", f);
    for (size_t k = 0; k < nlev; k++)
        fprintf(f, "%s%.17g", k ? ", " : "", log10(lev[k]));
    fputs("\nset table $contours\nsplot $sigma using 1:2:3 with lines notitle\n"
          "unset table\nunset contour\nreset\n", f);
    /* A level no grid point crosses leaves only comment lines; plotting that block would
     * only warn, but the figure should say so instead. */
    fputs("ptd_ncontour = 0\nptd_i = 1\n"
          "while (ptd_ncontour == 0 && ptd_i <= |$contours|) {\n"
          "    ptd_line = $contours[ptd_i]\n"
          "    if (words(ptd_line) >= 3 && strstrt(ptd_line, '#') == 0) { ptd_ncontour = 1 }\n"
          "    ptd_i = ptd_i + 1\n"
          "}\n", f);
    } else {
        fputs("ptd_ncontour = 0\n", f);
    }

    /* the figure */
    fputs("\n# the figure\n", f);
    fprintf(f, "set size ratio -1\nset xrange [%.17g:%.17g]\nset yrange [%.17g:%.17g]\n",
            bx->xmin, bx->xmax, bx->ymin, bx->ymax);
    fputs("set tics out\n", f);
    fputs("set xlabel ", f);
    put_quoted(f, latex ? "$\\mathrm{Re}\\,z$" : "Re z");
    fputs("\nset ylabel ", f);
    put_quoted(f, latex ? "$\\mathrm{Im}\\,z$" : "Im z");
    fputc('\n', f);

    /* title: the caller's title, then the eps list */
    size_t k0;
    text[0] = '\0';
    if (meta && meta->title && meta->title[0]) {
        if (latex) latex_text(text, sizeof text - 256, meta->title);
        else snprintf(text, sizeof text - 256, "%s", meta->title);
        strcat(text, ": ");
    }
    k0 = strlen(text);
    snprintf(text + k0, sizeof text - k0, latex ? "$\\varepsilon = " : "ε = ");
    for (size_t k = 0; k < nlev; k++) {
        if (latex) eps_latex(buf, sizeof buf, shown[k], fixed, tol);
        else eps_near(buf, sizeof buf, shown[k], fixed, tol);
        size_t m = strlen(text);
        if (m + strlen(buf) + 16 >= sizeof text) {
            snprintf(text + m, sizeof text - m, ", ...");
            break;
        }
        snprintf(text + m, sizeof text - m, "%s%s", k ? ", " : "", buf);
    }
    if (unit && nlev > 1) strcat(text, latex ? "\\ (\\times \\|A\\|_2)" : " (× ||A||₂)");
    else strcat(text, per);
    if (latex) strcat(text, "$");
    fputs("set title ", f);
    put_quoted(f, text);
    fputs(latex ? "\n" : " noenhanced\n", f);

    /* below the plot: never on top of the contours; its titles are markup (ptd.h) */
    fputs("set key outside below center horizontal samplen 2 height 1\n", f);

    if (nlev > 1) {
        /* levels equally spaced in log10 (a decade ladder): a discrete bar, one band of
         * colour per level centred on it, as the contours are coloured; else a gradient */
        double l0 = log10(lev[0]), l1 = log10(lev[nlev - 1]), h = (l1 - l0) / (double)(nlev - 1);
        int even = h > 0;
        for (size_t k = 0; k + 1 < nlev && even; k++)
            even = fabs(log10(lev[k + 1]) - log10(lev[k]) - h) <= 1e-9 * fabs(h) + 1e-12;
        if (even) {
            /* the bands are the palette itself, a step per level (gnuplot's maxcolors is not
             * honoured by every terminal's colour box): band k spans [k, k + 1) / nlev and has
             * the continuous palette's colour at k / (nlev - 1) */
            fputs("set palette defined (", f);
            for (size_t k = 0; k < nlev; k++) {
                char c[8];
                palette_at((double)k / (double)(nlev - 1), c);
                fprintf(f, "%s%.17g '%s', %.17g '%s'", k ? ", " : "", (double)k / (double)nlev, c,
                        (double)(k + 1) / (double)nlev, c);
            }
            fputs(")\n", f);
            fprintf(f, "set cbrange [%.17g:%.17g]\n", l0 - h / 2, l1 + h / 2);
        } else {
            fputs("set palette defined (", f);
            for (int k = 0; k < 5; k++) fprintf(f, "%s%g '#%06x'", k ? ", " : "", palette_stop[k], palette_rgb[k]);
            fputs(")\n", f);
            fprintf(f, "set cbrange [%.17g:%.17g]\n", l0, l1);
        }
        /* the tics: the eps values, as the title gives them */
        fputs("set colorbox vertical\nset cbtics out nomirror (", f);
        for (size_t k = 0; k < nlev; k++) {
            char v[128];
            if (latex) {
                eps_latex(v, sizeof v, shown[k], fixed, tol);
                snprintf(buf, sizeof buf, "$%s$", v);
            } else
                eps_near(buf, sizeof buf, shown[k], fixed, tol);
            if (k) fputs(", ", f);
            put_quoted(f, buf);
            fprintf(f, " %.17g", log10(lev[k]));
        }
        /* room on the right for the colour box's label */
        fputs(")\nset rmargin 12\nset cblabel ", f);
        if (unit) put_quoted(f, latex ? "$\\varepsilon/\\|A\\|_2$" : "ε/||A||₂");
        else put_quoted(f, latex ? "$\\varepsilon$" : "ε");
        fputs("\n", f);
    } else {
        if (latex) {
            eps_latex(buf, sizeof buf, shown[0], fixed, tol);
            snprintf(text, sizeof text, "$\\varepsilon = %s%s$", buf, per);
        } else {
            eps_near(buf, sizeof buf, shown[0], fixed, tol);
            snprintf(text, sizeof text, "ε = %s%s", buf, per);
        }
        /* the key's entry for the one level: text, through put_quoted */
    }
    /* ptd_ncontour: the grid drew a contour (always 0 without a grid); then its contours and
     * any traced curves, else the traced curves alone, else a label saying that nothing
     * crosses the box */
    const char *eig_title = ov && ov->eig_title ? ov->eig_title : "eigenvalues";
    const char *tiny_title = latex ? "$\\varepsilon$-components below resolution" : "ε-components below resolution";
    const char *eps_title = nlev == 1 ? text : NULL;
    if (use_grid) {
        fputs("if (ptd_ncontour) {\n", f);
        put_layers(f, 1, nlev, ntraced, nbig, ntiny, nfin, eps_title, eig_title, tiny_title, ov, latex);
        fputs("\n} else {\n", f);
    } else {
        fputs("{\n", f);
    }
    if (!ntraced) {
        fputs("    set label 1 ", f);
        put_quoted(f, latex ? "no $\\varepsilon$-contour crosses this box" : "no ε-contour crosses this box");
        fputs(" at graph 0.5, graph 0.5 center front\n", f);
    }
    put_layers(f, 0, nlev, ntraced, nbig, ntiny, nfin, eps_title, eig_title, tiny_title, ov, latex);
    fputs("\n}\n", f);

    traced_free(&ts);
    free(lev);
    free(shown);
    return finish_stream(f, fn);
}

/* ------------------------------------------------------------------------------------ */
/* tsv                                                                                    */
/* ------------------------------------------------------------------------------------ */

int ptd_plot_trace_tsv(FILE *f, const ptd_pspec_trace_result *const *traces, size_t ntraces,
                       const ptd_plot_meta *meta)
{
    static const char fn[] = "ptd_plot_trace_tsv";
    ptd_clear_error();
    if (!f) return ptd_error(PTD_EINVAL, "%s: stream is NULL", fn);
    if (ntraces && !traces) return ptd_error(PTD_EINVAL, "%s: %zu results but the array is NULL", fn, ntraces);
    fputs("# ptdkit: traced eps-level curves of sigma_min(zI - A) (no grid); a blank line after each curve\n", f);
    if (meta && meta->title) put_comment(f, "title", meta->title);
    put_meta_lines(f, meta);
    fputs("# a closed curve ends with its first vertex again; outer curves run counter-clockwise\n"
          "# sigma_min has the digits its error err supports\n"
          "# columns: eps curve x y sigma_min err\n", f);
    size_t id = 0;
    for (size_t t = 0; t < ntraces; t++) {
        const ptd_pspec_trace_result *r = traces[t];
        if (!r) continue;
        for (size_t c = 0; c < r->ncurves; c++, id++) {
            const ptd_pspec_curve *cv = &r->curves[c];
            fprintf(f, "# curve %zu: eps %.17g, %zu vertices, %s%s, from eigenvalue %zu, enclosing %zu", id, r->eps,
                    cv->nv, cv->closed ? "closed" : "OPEN (not closed)", cv->hole ? ", a hole" : "", cv->start,
                    cv->neig);
            if (cv->near_disc) fprintf(f, ", a near-disc of radius %.3g", cv->radius);
            fputc('\n', f);
            for (size_t k = 0; k < cv->nv; k++)
                fprintf(f, "%.17g %zu %.17g %.17g %.*g %.2g\n", r->eps, id, creal(cv->z[k]), cimag(cv->z[k]),
                        ptd_digits(cv->sigma[k], cv->err[k]), cv->sigma[k], cv->err[k]);
            fputc('\n', f);
        }
    }
    return finish_stream(f, fn);
}

int ptd_plot_pspec_tsv(FILE *f, const ptd_pspec_grid *g, const ptd_plot_meta *meta)
{
    static const char fn[] = "ptd_plot_pspec_tsv";
    ptd_clear_error();
    if (!f) return ptd_error(PTD_EINVAL, "%s: stream is NULL", fn);
    int st = check_grid(fn, g);
    if (st) return st;
    fputs("# ptdkit: sigma_min(zI - A) on a grid; a blank line after each row of fixed y\n", f);
    if (meta && meta->title) put_comment(f, "title", meta->title);
    put_provenance(f, g, meta);
    /* a grid made by hand may come without error estimates: then three columns */
    if (g->err)
        fputs("# sigma_min has the digits its error err supports; where sigma_min < err it is rounding,\n"
              "# the true value only known to be at most sigma_min + err\n"
              "# columns: x y sigma_min err\n", f);
    else
        fputs("# columns: x y sigma_min\n", f);
    for (size_t j = 0; j < g->ny; j++) {
        double y = ptd_pspec_grid_y(g, j);
        for (size_t i = 0; i < g->nx; i++) {
            double s = finite_sigma(g->sigma[i + j * g->nx]);
            if (!g->err) {
                fprintf(f, "%.17g %.17g %.17g\n", ptd_pspec_grid_x(g, i), y, s);
                continue;
            }
            double e = g->err[i + j * g->nx];
            fprintf(f, "%.17g %.17g %.*g %.2g\n", ptd_pspec_grid_x(g, i), y, ptd_digits(s, e), s,
                    isfinite(e) ? e : DBL_MAX);
        }
        fputc('\n', f);
    }
    return finish_stream(f, fn);
}

/* ------------------------------------------------------------------------------------ */
/* files and rendering                                                                    */
/* ------------------------------------------------------------------------------------ */

typedef struct {
    const char *ext;      /* lower case, with the dot */
    const char *terminal; /* the gnuplot "set terminal" arguments */
} term_spec;

/* Sizes: 1000x800 px and 6in x 4.8in leave room for the key below and the colour box
 * beside an equal-scaled plot; cairolatex at 5in x 4in fits a one-column figure. */
static const term_spec terms[] = {
    {".png", "pngcairo size 1000,800 enhanced font 'sans,12' linewidth 1.2"},
    {".svg", "svg size 1000,800 dynamic enhanced font 'sans,12' background '#ffffff'"},
    {".pdf", "pdfcairo size 6in,4.8in enhanced font 'sans,10' pointscale 0.5"},
    {".tex", "cairolatex pdf size 5in,4in pointscale 0.5"},
};

static const term_spec *term_for(const char *path)
{
    const char *base = ptdi_base_name(path);
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) return NULL; /* ".png" alone is a hidden file, not a PNG */
    for (size_t k = 0; k < sizeof terms / sizeof terms[0]; k++)
        if (strcasecmp(dot, terms[k].ext) == 0) return &terms[k];
    return NULL;
}

int ptd_plot_is_image(const char *path) { return path && term_for(path) != NULL; }

int ptd_plot_write_file(const char *path, const char *text, size_t len)
{
    static const char fn[] = "ptd_plot_write_file";
    ptd_clear_error();
    if (!path || !*path || (!text && len > 0))
        return ptd_error(PTD_EINVAL, "%s: path or text is NULL", fn);
    if (!*ptdi_base_name(path))
        return ptd_error(PTD_EINVAL, "%s: '%s' names a directory, not a file", fn, path);
    ptdi_out o;
    int st = ptdi_out_open(&o, path);
    if (st) return st;
    if ((st = ptdi_out_write(&o, text, len))) {
        ptdi_out_abort(&o);
        return st;
    }
    return ptdi_out_commit(&o);
}

/* gnuplot's program path: $PTD_GNUPLOT if set (a path, or a name looked up on PATH),
 * otherwise "gnuplot" on PATH.  Resolved here, not by execvp in the child, so the child
 * only makes async-signal-safe calls and "not found" is known before any work. */
static int find_gnuplot(char **out)
{
    const char *env = getenv("PTD_GNUPLOT");
    const char *name = env && *env ? env : "gnuplot";
    *out = NULL;
    if (strchr(name, '/')) {
        struct stat sb;
        if (stat(name, &sb) == 0 && S_ISREG(sb.st_mode) && access(name, X_OK) == 0)
            *out = strdup(name);
    } else {
        const char *path = getenv("PATH");
        if (!path) path = "/usr/local/bin:/usr/bin:/bin";
        while (!*out) {
            const char *colon = strchr(path, ':');
            size_t n = colon ? (size_t)(colon - path) : strlen(path);
            char *cand = malloc(n + strlen(name) + 3);
            if (!cand) break;
            if (n == 0) sprintf(cand, "./%s", name); /* an empty PATH entry is "." */
            else sprintf(cand, "%.*s/%s", (int)n, path, name);
            struct stat sb;
            if (stat(cand, &sb) == 0 && S_ISREG(sb.st_mode) && access(cand, X_OK) == 0)
                *out = cand;
            else
                free(cand);
            if (!colon) break;
            path = colon + 1;
        }
    }
    if (*out) return PTD_OK;
    if (env && *env)
        return ptd_error(PTD_EEXTERN,
                         "gnuplot not found (PTD_GNUPLOT=%s): install the Debian package "
                         "gnuplot-nox, or write the script with -o FILE.gp", env);
    return ptd_error(PTD_EEXTERN, "gnuplot not found: install the Debian package gnuplot-nox, "
                                  "or write the script with -o FILE.gp");
}

/* The message for a failed run: gnuplot's first error line, with the temporary script's
 * name replaced by "script" or "terminal set-up".  Warnings are skipped. */
static void first_error(const char *errpath, char *msg, size_t n)
{
    msg[0] = '\0';
    FILE *f = fopen(errpath, "r");
    if (!f) return;
    char line[1024], fallback[1024] = "";
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\r\n");
        while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t')) len--;
        line[len] = '\0';
        const char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || strstr(p, "warning:")) continue;
        if (!fallback[0] && strspn(p, "^") == 0) snprintf(fallback, sizeof fallback, "%s", p);
        /* "path/.script.gp" line 12: message */
        const char *q = strstr(p, "\" line ");
        if (p[0] == '"' && q) {
            const char *num = q + 7, *colon = strchr(num, ':');
            if (colon && colon > num && strspn(num, "0123456789") == (size_t)(colon - num)) {
                const char *what = strstr(p, ".prelude.gp\"") && strstr(p, ".prelude.gp\"") < q
                                       ? "terminal set-up" : "script";
                const char *rest = colon + 1;
                while (*rest == ' ') rest++;
                snprintf(msg, n, "%s line %.*s: %s", what, (int)(colon - num), num, rest);
                break;
            }
        }
    }
    fclose(f);
    if (!msg[0] && fallback[0]) snprintf(msg, n, "%s", fallback);
}

static int nonempty_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

/* Whether an image file is whole.  gnuplot exits 0 after a failed write (a full disk), so
 * the ending each format must have is checked: PNG's IEND chunk, PDF's %%EOF in its last
 * kilobyte, SVG's closing </svg>, cairolatex's closing \endgroup.  `ext` as in terms[]. */
static int image_complete(const char *p, const char *ext)
{
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    unsigned char head[8], tail[1024];
    struct stat sb;
    ssize_t nh = -1, nt = -1;
    if (fstat(fd, &sb) == 0 && sb.st_size >= 8) {
        nh = pread(fd, head, sizeof head, 0);
        off_t from = sb.st_size > (off_t)sizeof tail ? sb.st_size - (off_t)sizeof tail : 0;
        nt = pread(fd, tail, (size_t)(sb.st_size - from), from);
    }
    close(fd);
    if (nh != (ssize_t)sizeof head || nt <= 0) return 0;
    size_t n = (size_t)nt;
    if (strcmp(ext, ".png") == 0) {
        static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
        return n >= 12 && memcmp(head, sig, 8) == 0 && memcmp(tail + n - 12, iend, 12) == 0;
    }
    if (strcmp(ext, ".pdf") == 0) {
        if (memcmp(head, "%PDF-", 5) != 0) return 0;
        for (size_t k = 0; k + 5 <= n; k++)
            if (memcmp(tail + k, "%%EOF", 5) == 0) return 1;
        return 0;
    }
    /* text formats: the last word, trailing white space aside */
    while (n > 0 && isspace(tail[n - 1])) n--;
    const char *end = strcmp(ext, ".svg") == 0 ? "</svg>" : "\\endgroup";
    size_t ne = strlen(end);
    return n >= ne && memcmp(tail + n - ne, end, ne) == 0;
}

/* Everything one render holds, so every exit path releases it in one place. */
typedef struct {
    char *gnuplot, *tmpdir, *prelude, *script, *errlog, *out, *out_pdf, *quoted;
    int slot;
    ptdi_dest dest, pdf; /* the image, and a .tex's companion */
} render_job;

static void job_free(render_job *j)
{
    if (j->tmpdir) ptdi_tmp_remove(j->slot, j->tmpdir);
    free(j->gnuplot);
    free(j->tmpdir);
    free(j->prelude);
    free(j->script);
    free(j->errlog);
    free(j->out);
    free(j->out_pdf);
    free(j->quoted);
    ptdi_dest_free(&j->dest);
    ptdi_dest_free(&j->pdf);
}

/* 'text' as a gnuplot single-quoted string ('' for a quote); malloc'ed. */
static char *gp_quote(const char *text)
{
    size_t n = 3;
    for (const char *c = text; *c; c++) n += *c == '\'' ? 2 : 1;
    char *s = malloc(n), *w = s;
    if (!s) return NULL;
    *w++ = '\'';
    for (const char *c = text; *c; c++) {
        if (*c == '\'') *w++ = '\'';
        *w++ = *c;
    }
    *w++ = '\'';
    *w = '\0';
    return s;
}

/* A new private file holding `text` (and a newline when `nl`); 0 or -1 with errno. */
static int write_new(const char *p, const char *text, int nl)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    int ok = ptdi_write_all(fd, text, strlen(text)) == 0 && (!nl || ptdi_write_all(fd, "\n", 1) == 0);
    int e = errno;
    if (close(fd) != 0 && ok) return -1;
    errno = e;
    return ok ? 0 : -1;
}

/* The render directory beside the image, so the finished image is renamed into place.  A
 * device or FIFO gets a copy, so its directory (/dev) need not be writable: $TMPDIR or
 * /tmp serve then. */
static int make_render_dir(render_job *j, const char *path)
{
    /* a leading "./" keeps a relative directory from looking like a gnuplot option */
    char *parent = ptdi_concat3(j->dest.dir[0] == '/' ? "" : "./", j->dest.dir, NULL);
    if (!parent) return ptd_error(PTD_ENOMEM, "ptd_plot_render: out of memory rendering %s", path);
    int r = ptdi_tmp_create(parent, ".ptdplot-", 1, 0700, &j->tmpdir, &j->slot);
    int e = errno;
    free(parent);
    if (r < 0 && j->dest.direct) {
        const char *t = getenv("TMPDIR");
        r = ptdi_tmp_create(t && t[0] == '/' ? t : "/tmp", ".ptdplot-", 1, 0700, &j->tmpdir, &j->slot);
    }
    if (r < 0)
        return ptd_error(PTD_EIO, "cannot write %s: cannot create a file in %s: %s", path, j->dest.dir,
                         strerror(e));
    return PTD_OK;
}

/* Run gnuplot on the prelude and the script; its exit status in *wstatus.  The child dies
 * with its parent: the signal handlers kill it, and PR_SET_PDEATHSIG covers SIGKILL. */
static int run_gnuplot(render_job *j, int tex, const char *path, int *wstatus)
{
    int errfd = open(j->errlog, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (errfd < 0 || nullfd < 0) {
        int e = errno;
        if (errfd >= 0) close(errfd);
        if (nullfd >= 0) close(nullfd);
        return ptd_error(PTD_EIO, "cannot write %s: temporary file in %s: %s", path, j->dest.dir, strerror(e));
    }
    /* inside tmpdir (tex) the files are named relative to it */
    char *argv[4] = {j->gnuplot, tex ? (char *)".prelude.gp" : j->prelude,
                     tex ? (char *)".script.gp" : j->script, NULL};
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* child: async-signal-safe calls only */
#ifdef HAVE_SYS_PRCTL_H
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(126);
#else
        (void)parent;
#endif
        if (dup2(nullfd, 0) < 0 || dup2(nullfd, 1) < 0 || dup2(errfd, 2) < 0) _exit(126);
        if (tex && chdir(j->tmpdir) != 0) _exit(126);
        execv(j->gnuplot, argv);
        static const char m[] = "exec of gnuplot failed\n";
        ssize_t w = write(2, m, sizeof m - 1);
        (void)w;
        _exit(127);
    }
    int fork_errno = errno;
    close(errfd);
    close(nullfd);
    if (pid < 0) return ptd_error(PTD_EEXTERN, "cannot run %s: fork: %s", j->gnuplot, strerror(fork_errno));
    int kid = ptdi_child_track(pid);
    /* wait without reaping, forget, then reap: a tracked pid is never a recycled one */
    siginfo_t si;
    int r;
    do r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
    while (r < 0 && errno == EINTR);
    int e = errno;
    ptdi_child_forget(kid);
    pid_t w;
    do w = waitpid(pid, wstatus, 0);
    while (w < 0 && errno == EINTR);
    ptdi_die_if_signalled(); /* a handler killed gnuplot: the process is on its way out */
    if (r < 0 || w < 0)
        return ptd_error(PTD_EEXTERN, "%s: waiting for gnuplot: %s", path, strerror(r < 0 ? e : errno));
    return PTD_OK;
}

int ptd_plot_render(const char *script, const char *path)
{
    static const char fn[] = "ptd_plot_render";
    ptd_clear_error();
    if (!script || !path || !*path)
        return ptd_error(PTD_EINVAL, "%s: script or path is NULL", fn);
    const term_spec *term = term_for(path);
    if (!term)
        return ptd_error(PTD_EINVAL,
                         "%s: cannot tell the image format from the extension; accepted: "
                         ".png .svg .pdf .tex", path);
    for (const char *c = path; *c; c++)
        if (iscntrl((unsigned char)*c))
            return ptd_error(PTD_EINVAL, "%s: control character in the output path", fn);
    const int tex = strcmp(term->ext, ".tex") == 0;
    const char *base = ptdi_base_name(path);

    render_job j = {0};
    j.slot = -1;
    int st = find_gnuplot(&j.gnuplot);
    if (st) return st;
    if ((st = ptdi_dest_resolve(path, &j.dest))) goto done;
    if (tex) {
        /* gnuplot names the companion after the output, "x.tex" -> "x.pdf", and writes
         * that bare name into the .tex for LaTeX to find beside the name it was given:
         * so the companion goes beside `path` as given, and gnuplot runs inside tmpdir
         * with the bare final name. */
        char *stem = strndup(path, strlen(path) - 4);
        char *pdf = stem ? ptdi_concat3(stem, ".pdf", NULL) : NULL;
        free(stem);
        if (!pdf) goto nomem;
        st = ptdi_dest_resolve(pdf, &j.pdf);
        free(pdf);
        if (st) goto done;
    }
    if ((st = make_render_dir(&j, path))) goto done;
    if (!(j.prelude = ptdi_concat3(j.tmpdir, "/.prelude.gp", NULL)) ||
        !(j.script = ptdi_concat3(j.tmpdir, "/.script.gp", NULL)) ||
        !(j.errlog = ptdi_concat3(j.tmpdir, "/.stderr", NULL)) ||
        !(j.out = ptdi_concat3(j.tmpdir, "/", base)))
        goto nomem;
    if (tex) {
        char *stem = strndup(base, strlen(base) - 4);
        j.out_pdf = stem ? ptdi_concat3(j.tmpdir, "/", stem) : NULL;
        char *tmp = j.out_pdf ? ptdi_concat3(j.out_pdf, ".pdf", NULL) : NULL;
        free(stem);
        free(j.out_pdf);
        if (!(j.out_pdf = tmp)) goto nomem;
    }
    if (!(j.quoted = gp_quote(tex ? base : j.out))) goto nomem;

    /* the terminal goes in a file of its own so gnuplot's line numbers match the script */
    {
        size_t n = strlen(term->terminal) + strlen(j.quoted) + 64;
        char *pre = malloc(n);
        if (!pre) goto nomem;
        snprintf(pre, n, "set terminal %s\nset output %s\n", term->terminal, j.quoted);
        int ok = write_new(j.prelude, pre, 0) == 0 && write_new(j.script, script, 1) == 0;
        int e = errno;
        free(pre);
        if (!ok) {
            st = ptd_error(PTD_EIO, "cannot write %s: temporary file in %s: %s", path, j.dest.dir,
                           strerror(e));
            goto done;
        }
    }

    int wstatus;
    if ((st = run_gnuplot(&j, tex, path, &wstatus))) goto done;
    char msg[512];
    if (WIFSIGNALED(wstatus)) {
        st = ptd_error(PTD_EEXTERN, "gnuplot (%s) was killed by signal %d while rendering %s",
                       j.gnuplot, WTERMSIG(wstatus), path);
        goto done;
    }
    if (WEXITSTATUS(wstatus) != 0) {
        first_error(j.errlog, msg, sizeof msg);
        st = ptd_error(PTD_EEXTERN, "gnuplot failed rendering %s: %s", path,
                       msg[0] ? msg : "no message (exit status non-zero)");
        goto done;
    }
    if (!nonempty_file(j.out) || (tex && !nonempty_file(j.out_pdf))) {
        first_error(j.errlog, msg, sizeof msg);
        st = ptd_error(PTD_EEXTERN, "gnuplot wrote no image for %s (does the script plot "
                                    "anything?)%s%s", path, msg[0] ? ": " : "", msg);
        goto done;
    }
    if (!image_complete(j.out, term->ext) || (tex && !image_complete(j.out_pdf, ".pdf"))) {
        first_error(j.errlog, msg, sizeof msg);
        st = ptd_error(PTD_EEXTERN, "gnuplot wrote an incomplete %s (is the disk full?)%s%s",
                       tex && image_complete(j.out, term->ext) ? j.pdf.given : path,
                       msg[0] ? ": " : "", msg);
        goto done;
    }
    /* the companion first: a .tex in place always has its pdf */
    if (tex && (st = ptdi_dest_install(&j.pdf, j.out_pdf))) goto done;
    if ((st = ptdi_dest_install(&j.dest, j.out))) {
        if (tex && !j.pdf.exists && !j.pdf.direct) unlink(j.pdf.path);
        goto done;
    }
    st = PTD_OK;
    goto done;
nomem:
    st = ptd_error(PTD_ENOMEM, "%s: out of memory rendering %s", fn, path);
done:
    job_free(&j);
    return st;
}

/* ------------------------------------------------------------------------------------ */
/* shared with the other writers (plotxy.c); ptdi_ names are not exported                 */
/* ------------------------------------------------------------------------------------ */

void ptdi_put_comment(FILE *f, const char *label, const char *text) { put_comment(f, label, text); }
void ptdi_put_quoted(FILE *f, const char *s) { put_quoted(f, s); }
void ptdi_latex_text(char *buf, size_t n, const char *s) { latex_text(buf, n, s); }

/* ------------------------------------------------------------------------------------ */
/* line plots                                                                             */
/* ------------------------------------------------------------------------------------ */

static int check_lines(const char *fn, FILE *f, const double *x, size_t nx, const ptd_plot_curve *s, size_t ns)
{
    if (!f) return ptd_error(PTD_EINVAL, "%s: stream is NULL", fn);
    if (nx < 2 || !x || ns == 0 || !s) return ptd_error(PTD_EINVAL, "%s: at least 2 x values and 1 series", fn);
    for (size_t k = 0; k < ns; k++)
        if (!s[k].y || !s[k].name) return ptd_error(PTD_EINVAL, "%s: series %zu has no values or no name", fn, k);
    for (size_t i = 0; i < nx; i++)
        if (!isfinite(x[i])) return ptd_error(PTD_EINVAL, "%s: x[%zu] is not finite", fn, i);
    return PTD_OK;
}

/* never inf or nan in a data set: clamp to the double range, NaN becomes the column's '?' */
static void put_value(FILE *f, double v)
{
    if (isnan(v)) fputs(" ?", f);
    else fprintf(f, " %.17g", v > DBL_MAX ? DBL_MAX : v < -DBL_MAX ? -DBL_MAX : v);
}

int ptd_plot_lines_gnuplot(FILE *f, const double *x, size_t nx, const ptd_plot_curve *s, size_t ns,
                           const char *xlabel, const char *ylabel, int logy, const ptd_plot_meta *meta)
{
    static const char fn[] = "ptd_plot_lines_gnuplot";
    ptd_clear_error();
    int st = check_lines(fn, f, x, nx, s, ns);
    if (st) return st;
    fputs("# ptdkit: a line plot, a gnuplot 5 script with its data inline.\n"
          "# Show it with: gnuplot -p FILE, or render it with -o FILE.png/.svg/.pdf/.tex\n", f);
    if (meta && meta->command) put_comment(f, "command", meta->command);
    fprintf(f, "# ptdkit %s\n", ptd_version());
    if (meta && meta->notes)
        for (size_t k = 0; k < meta->nnotes; k++)
            if (meta->notes[k]) put_comment(f, NULL, meta->notes[k]);
    ptdi_plot_terminal_fallback(f);
    fputs("\n$data << EOD\n", f);
    double ymin = INFINITY, ymax = -INFINITY;
    for (size_t i = 0; i < nx; i++) {
        fprintf(f, "%.17g", x[i]);
        for (size_t k = 0; k < ns; k++) {
            double v = s[k].y[i];
            if (logy && !(v > 0)) v = NAN; /* not on a log axis */
            put_value(f, v);
            if (s[k].scale_y && isfinite(v) && (!logy || v > 0)) {
                ymin = fmin(ymin, v);
                ymax = fmax(ymax, v);
            }
        }
        fputc('\n', f);
    }
    fputs("EOD\n\nset datafile missing '?'\nset tics out\nset grid lc rgb '#e0e0e0'\n", f);
    fprintf(f, "set xrange [%.17g:%.17g]\n", x[0], x[nx - 1]);
    if (logy) {
        fputs("set logscale y\nset format y '10^{%L}'\n", f);
        if (isfinite(ymin) && ymax > 0) {
            /* the curves that set the scale, with a decade of room either way; bounds that run
             * off (e^{t omega}) are clipped rather than flattening the rest */
            double lo = pow(10.0, floor(log10(ymin)) - (ymin == ymax ? 1 : 0));
            double hi = pow(10.0, ceil(log10(ymax)) + 1); /* headroom over the peak */
            if (!(hi > lo)) hi = lo * 10;
            fprintf(f, "set yrange [%.17g:%.17g]\n", lo, hi);
            if (hi / lo > PTDI_LOG_MINOR_DECADES) fputs("unset mytics\n", f); /* as plotxy.c */
        }
    }
    const int latex = meta && meta->latex;
    char text[1024];
    if (xlabel) {
        fputs("set xlabel ", f);
        put_quoted(f, xlabel);
        fputc('\n', f);
    }
    if (ylabel) {
        fputs("set ylabel ", f);
        put_quoted(f, ylabel);
        fputc('\n', f);
    }
    if (meta && meta->title) {
        if (latex) latex_text(text, sizeof text, meta->title);
        else snprintf(text, sizeof text, "%s", meta->title);
        fputs("set title ", f);
        put_quoted(f, text);
        fputs(latex ? "\n" : " noenhanced\n", f);
    }
    fputs("set key outside below center horizontal samplen 3 height 1\nplot ", f); /* titles: markup */
    for (size_t k = 0; k < ns; k++) {
        fprintf(f, "%s$data using 1:%zu with %s title ", k ? ", \\\n     " : "", k + 2,
                s[k].style ? s[k].style : "lines lw 2");
        put_quoted(f, s[k].title ? s[k].title : s[k].name);
    }
    fputc('\n', f);
    return finish_stream(f, fn);
}

int ptd_plot_lines_tsv(FILE *f, const double *x, size_t nx, const char *xname, const ptd_plot_curve *s,
                       size_t ns, const ptd_plot_meta *meta)
{
    static const char fn[] = "ptd_plot_lines_tsv";
    ptd_clear_error();
    int st = check_lines(fn, f, x, nx, s, ns);
    if (st) return st;
    fputs("# ptdkit: a table of curves; '?' marks a value that does not exist\n", f);
    if (meta && meta->title) put_comment(f, "title", meta->title);
    if (meta && meta->command) put_comment(f, "command", meta->command);
    fprintf(f, "# ptdkit %s\n", ptd_version());
    if (meta && meta->notes)
        for (size_t k = 0; k < meta->nnotes; k++)
            if (meta->notes[k]) put_comment(f, NULL, meta->notes[k]);
    fprintf(f, "# columns: %s", xname ? xname : "x");
    for (size_t k = 0; k < ns; k++) fprintf(f, " %s", s[k].name);
    fputc('\n', f);
    for (size_t i = 0; i < nx; i++) {
        fprintf(f, "%.17g", x[i]);
        for (size_t k = 0; k < ns; k++) put_value(f, s[k].y[i]);
        fputc('\n', f);
    }
    return finish_stream(f, fn);
}
