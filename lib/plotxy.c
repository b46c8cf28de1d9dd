/* plotxy.c - x-y figures (condition numbers against n, kappa against ||E||, ...) and plain
 * data tables, in the style of the pseudospectra figures. */
#include "config.h"
#include "internal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <string.h>

/* colours of successive series: blue, red, green, orange, purple, grey */
static const char *const colours[] = {"#0060ad", "#c0111f", "#2ca02c", "#e6820e", "#7b3294", "#555555"};

static int finish(FILE *f, const char *fn)
{
    if (fflush(f) != 0 || ferror(f)) return ptd_error(PTD_EIO, "%s: write failed: %s", fn, strerror(errno));
    return PTD_OK;
}

static void provenance(FILE *f, const ptd_plot_meta *meta)
{
    if (!meta) return;
    if (meta->title) ptdi_put_comment(f, "title", meta->title);
    if (meta->command) ptdi_put_comment(f, "command", meta->command);
    fprintf(f, "# ptdkit %s\n", ptd_version());
    for (size_t k = 0; meta->notes && k < meta->nnotes; k++) ptdi_put_comment(f, NULL, meta->notes[k]);
}

static int drawable(double v, int logaxis) { return isfinite(v) && (!logaxis || v > 0); }

int ptd_plot_series_gnuplot(FILE *f, const ptd_plot_series *s, size_t ns, const ptd_plot_axes *ax,
                            const ptd_plot_meta *meta)
{
    ptd_clear_error();
    const char *fn = "ptd_plot_series_gnuplot";
    if (!f || (!s && ns) || !ax) return ptd_error(PTD_EINVAL, "%s: NULL argument", fn);
    int latex = meta && meta->latex;
    fputs("# ptdkit: an x-y figure, a gnuplot 5 script with its data inline.\n", f);
    provenance(f, meta);
    ptdi_plot_terminal_fallback(f);
    size_t plotted = 0;
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY; /* of the points drawn */
    for (size_t k = 0; k < ns; k++) {
        fprintf(f, "\n# series %zu: %s\n$s%zu << EOD\n", k + 1, s[k].title ? s[k].title : "", k + 1);
        size_t left = 0;
        for (size_t i = 0; i < s[k].n; i++) {
            double x = s[k].x[i], y = s[k].y[i];
            int ok = drawable(x, ax->logx) && drawable(y, ax->logy);
            if (ok && s[k].ylo) ok = drawable(s[k].ylo[i], ax->logy) && drawable(s[k].yhi[i], ax->logy);
            if (!ok) {
                left++;
                continue;
            }
            if (s[k].ylo) fprintf(f, "%.17g %.17g %.17g %.17g\n", x, y, s[k].ylo[i], s[k].yhi[i]);
            else fprintf(f, "%.17g %.17g\n", x, y);
            plotted++;
            xlo = fmin(xlo, x), xhi = fmax(xhi, x);
            ylo = fmin(ylo, s[k].ylo ? fmin(y, s[k].ylo[i]) : y), yhi = fmax(yhi, s[k].ylo ? fmax(y, s[k].yhi[i]) : y);
        }
        fputs("EOD\n", f);
        if (left) fprintf(f, "# %zu point(s) left out: not finite%s\n", left, ax->logx || ax->logy ? " or <= 0 on a log axis" : "");
    }
    fputs("\n# the figure\n", f);
    if (ax->logx) fputs("set logscale x\nset format x '10^{%L}'\n", f);
    if (ax->logy) fputs("set logscale y\nset format y '10^{%L}'\n", f);
    /* over many decades gnuplot puts its major tics decades apart and still draws the minor
     * tics 2..9 of one decade beside each, a bar of marks a few pixels long: none then */
    if (ax->logx && plotted && xhi / xlo > PTDI_LOG_MINOR_DECADES) fputs("unset mxtics\n", f);
    if (ax->logy && plotted && yhi / ylo > PTDI_LOG_MINOR_DECADES) fputs("unset mytics\n", f);
    if (latex) {
        /* cairolatex: LaTeX typesets the tics */
        if (ax->logx) fputs("set format x '$10^{%L}$'\n", f);
        if (ax->logy) fputs("set format y '$10^{%L}$'\n", f);
    }
    fputs("set grid lc rgb '#dddddd'\nset tics out nomirror\nset border 3\n", f);
    /* room above and below the data: no point sits on the frame */
    fputs("set offsets 0, 0, graph 0.05, 0\n", f);
    /* a log x axis over the data and a little more, not out to the decades around it (8 to
     * 128 drawn on 1 to 1000); error bars' ends stay inside */
    if (ax->logx && plotted && xhi > xlo) {
        fprintf(f, "set xrange [%.17g:%.17g]\n", xlo / pow(xhi / xlo, 0.04), xhi * pow(xhi / xlo, 0.04));
        /* less than four decades: the decades alone leave the axis bare (8 to 128 has one),
         * so the tics are the x values themselves when there are few of them */
        double xs[16];
        size_t nx = 0;
        int few = xhi / xlo < 1e4;
        for (size_t k = 0; k < ns && few; k++)
            for (size_t i = 0; i < s[k].n && few; i++) {
                double x = s[k].x[i];
                if (!drawable(x, 1)) continue;
                size_t j = 0;
                while (j < nx && xs[j] != x) j++;
                if (j < nx) continue;
                if (nx == 16) few = 0;
                else xs[nx++] = x;
            }
        if (few && nx >= 2) {
            fputs("set format x '%g'\nset xtics (", f);
            for (size_t j = 0; j < nx; j++) fprintf(f, "%s%.17g", j ? ", " : "", xs[j]);
            fputs(")\n", f);
        }
    }
    if (ax->ymax > 0 && isfinite(ax->ymax)) fprintf(f, "set yrange [:%.17g]\n", ax->ymax);
    char buf[512];
    if (ax->xlabel) {
        fputs("set xlabel ", f);
        ptdi_put_quoted(f, ax->xlabel);
        fputc('\n', f);
    }
    if (ax->ylabel) {
        fputs("set ylabel ", f);
        ptdi_put_quoted(f, ax->ylabel);
        fputc('\n', f);
    }
    if (meta && meta->title) {
        if (latex) ptdi_latex_text(buf, sizeof buf, meta->title);
        else snprintf(buf, sizeof buf, "%s", meta->title);
        fputs("set title ", f);
        ptdi_put_quoted(f, buf);
        fputs(latex ? "\n" : " noenhanced\n", f);
    }
    const char *key = ax->key ? ax->key : "top right";
    if (strcmp(key, "top right") && strcmp(key, "top left") && strcmp(key, "bottom left") && strcmp(key, "bottom right") &&
        strcmp(key, "below"))
        return ptd_error(PTD_EINVAL, "%s: key position '%s' (top/bottom left/right, below)", fn, key);
    /* the key's titles are markup, as the axis labels are (ptd.h): enhanced text, or LaTeX */
    if (!strcmp(key, "below")) fputs("set key outside below center horizontal samplen 3 height 1\n", f);
    else fprintf(f, "set key inside %s vertical samplen 3 box opaque\n", key);
    if (isfinite(ax->hline)) {
        fprintf(f, "set arrow 1 from graph 0, first %.17g to graph 1, first %.17g nohead dt 3 lc rgb '#888888'\n",
                ax->hline, ax->hline);
        if (ax->hline_label) {
            fprintf(f, "set label 1 ");
            ptdi_put_quoted(f, ax->hline_label);
            fprintf(f, " at graph 0.02, first %.17g offset 0, 0.7 tc rgb '#555555'\n", ax->hline);
        }
    }
    if (plotted == 0) {
        /* gnuplot cannot autoscale an empty plot (on a log axis it fails: "all points y value
         * undefined"): fixed linear ranges, and the series' titles in the frame, since they
         * may say why nothing is drawn */
        fputs("unset logscale\nset format x '%g'\nset format y '%g'\nset xrange [0:1]\nset yrange [0:1]\n"
              "unset key\nunset arrow 1\nunset label 1\n"
              "set label 2 'no drawable points' at graph 0.5, graph 0.6 center\n", f);
        for (size_t k = 0; k < ns && k < 6; k++) {
            if (!s[k].title) continue;
            fprintf(f, "set label %zu ", k + 3); /* markup, as in the key */
            ptdi_put_quoted(f, s[k].title);
            fprintf(f, " at graph 0.5, graph %.2f center\n", 0.5 - 0.07 * (double)k);
        }
        fputs("plot NaN notitle\n", f);
        return finish(f, fn);
    }
    fputs("plot ", f);
    int first = 1;
    size_t auto_colour = 0;
    for (size_t k = 0; k < ns; k++) {
        const char *col = s[k].colour ? s[k].colour : colours[auto_colour++ % 6];
        const char *style = s[k].style ? s[k].style : "linespoints";
        if (!first) fputs(", \\\n     ", f);
        first = 0;
        if (s[k].ylo)
            fprintf(f, "$s%zu using 1:2:3:4 with yerrorbars pt 7 ps 0.6 lc rgb '%s' notitle, \\\n     ", k + 1, col);
        /* point specifiers only where points are drawn: gnuplot warns on "lines ... pt" */
        /* "points" alone are open rings, larger than a line's dots, and "dots" those dots
         * without the line: a ring under another series' dot (double precision under
         * extended, where they agree) stays visible around it */
        int dots = !strcmp(style, "dots");
        fprintf(f, "$s%zu using 1:2 with %s lw 2%s lc rgb '%s'%s title ", k + 1, dots ? "points" : style,
                !strcmp(style, "lines") ? "" : !strcmp(style, "points") ? " pt 6 ps 1.3" : " pt 7 ps 0.6", col,
                s[k].dashed ? " dt 2" : "");
        ptdi_put_quoted(f, s[k].title ? s[k].title : "");
    }
    fputc('\n', f);
    return finish(f, fn);
}

int ptd_plot_table_tsv(FILE *f, const char *const *columns, size_t ncols, const double *rows, size_t nrows,
                       const ptd_plot_meta *meta)
{
    ptd_clear_error();
    const char *fn = "ptd_plot_table_tsv";
    if (!f || !columns || ncols == 0 || (nrows && !rows)) return ptd_error(PTD_EINVAL, "%s: bad arguments", fn);
    for (size_t k = 0; k < nrows * ncols; k++)
        if (isnan(rows[k]))
            return ptd_error(PTD_EINVAL, "%s: row %zu, column '%s' is NaN", fn, k / ncols + 1, columns[k % ncols]);
    provenance(f, meta);
    fputs("# columns:", f);
    for (size_t c = 0; c < ncols; c++) fprintf(f, " %s", columns[c]);
    fputc('\n', f);
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            double v = rows[r * ncols + c];
            if (isinf(v)) v = v > 0 ? DBL_MAX : -DBL_MAX;
            fprintf(f, "%s%.17g", c ? " " : "", v);
        }
        fputc('\n', f);
    }
    return finish(f, fn);
}

int ptd_plot_images_gnuplot(FILE *f, const float *img, size_t count, size_t h, size_t w, const char *const *titles,
                            const ptd_plot_meta *meta)
{
    ptd_clear_error();
    const char *fn = "ptd_plot_images_gnuplot";
    if (!f || !img || !count || !h || !w) return ptd_error(PTD_EINVAL, "%s: NULL argument or no image", fn);
    if (count > 64 || h > 4096 || w > 4096) return ptd_error(PTD_EINVAL, "%s: at most 64 images of 4096 x 4096", fn);
    fputs("# ptdkit: grey images, a gnuplot 5 script with its data inline.\n", f);
    provenance(f, meta);
    ptdi_plot_terminal_fallback(f);
    for (size_t k = 0; k < count; k++) {
        fprintf(f, "\n$img%zu << EOD\n", k + 1);
        for (size_t r = 0; r < h; r++)
            for (size_t c = 0; c < w; c++) fprintf(f, "%.9g%c", (double)img[(k * h + r) * w + c], c + 1 < w ? ' ' : '\n');
        fputs("EOD\n", f);
    }
    /* as square a grid of panels as fits the count */
    size_t cols = 1;
    while (cols * cols < count) cols++;
    size_t rows = (count + cols - 1) / cols;
    fputs("\nunset key\nunset tics\nset border lc rgb '#999999'\nunset colorbox\nset size ratio -1\n"
          "set palette defined (0 'white', 1 'black')\nset cbrange [0:1]\n", f);
    fprintf(f, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\n", w - 1, h - 1);
    fprintf(f, "set multiplot layout %zu,%zu", rows, cols);
    if (meta && meta->title) { /* plain text, as every figure's title (it may name files) */
        fputs(" title ", f);
        ptdi_put_quoted(f, meta->title);
        fputs(" noenhanced", f);
    }
    fputs("\n", f);
    for (size_t k = 0; k < count; k++) {
        fputs("set title ", f);
        ptdi_put_quoted(f, titles && titles[k] ? titles[k] : "");
        fprintf(f, "\nplot $img%zu matrix with image pixels\n", k + 1);
    }
    fputs("unset multiplot\n", f);
    return finish(f, fn);
}
