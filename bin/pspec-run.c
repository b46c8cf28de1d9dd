/* pspec-run.c - the pspec tool (epsilon-pseudospectra of a matrix, as a gnuplot figure
 * or data) as pspec_run (pspec.h), shared by pspec (bin/pspec.c) and pspec-mpi. */
#include "config.h"
#include "cli.h"
#include "pspec.h"
#include "ptd.h"

#include <complex.h>
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* The largest eps: eps^2, the 2n x 2n matrices of the criss-cross and the arithmetic of the
 * region stay finite below it (1e155 already overflows in zgeev). */
#define EPS_MAX 1e150

static void usage(void);

static const struct option own_opts[] = {
    {"box", required_argument, NULL, 'b'},  {"method", required_argument, NULL, 'm'},
    {"abscissa", no_argument, NULL, 'A'},   {"radius", no_argument, NULL, 'R'},
    {"fov", no_argument, NULL, 'F'},        {"trace", no_argument, NULL, 'T'},
    {"stability-radius", no_argument, NULL, 'S'}, {"mode", required_argument, NULL, 'P'},
    {"sparse", required_argument, NULL, 'K'},  {"sparse-point", required_argument, NULL, 'Z'},
    {"save", required_argument, NULL, 'W'},    {NULL, 0, NULL, 0}};

static cli_tool tool = {
    .name = "pspec",
    .accept = CLI_OPT_N | CLI_OPT_EPS | CLI_OPT_RELATIVE | CLI_OPT_GRID | CLI_OPT_SEED | CLI_OPT_THREADS,
    .own = own_opts,
    .usage = usage,
    .n_default = 64, .n_min = 1, .n_max = (size_t)PSPEC_CONVDIFF_MMAX * PSPEC_CONVDIFF_MMAX,
    .eps_max = EPS_MAX,
    .grid_default = 200, .grid_max = 4000,
    .help = {[CLI_H_N] = "order of a named matrix (default 64, convdiff 2025; at most 8192,\n"
                         "convdiff with --sparse 9000000)",
             [CLI_H_EPS] = "comma-separated eps levels, absolute, at most 1e150 (default\n"
                           "1e-1,...,1e-8, those above the rounding floor n u ||A||)",
             [CLI_H_RELATIVE] = "the eps levels are relative: multiplied by ||A||_2",
             [CLI_H_GRID] = "grid points per side, edges included (default 200)",
             [CLI_H_SEED] = "seed of the random matrices (default 1)",
             [CLI_H_THREADS] = "threads for the grid (default: all cores)"},
};

static void usage(void)
{
    printf("Usage: %s MATRIX [options]\n"
           "Epsilon-pseudospectra {z : sigma_min(zI - A) <= eps} of a matrix, drawn by gnuplot.\n"
           "\n"
           "MATRIX is a name (see below), file:PATH (Matrix Market) or - (Matrix Market on stdin).\n"
           "\n"
           "Options (single or double dash; -eps 1e-4 and --eps=1e-4 alike):\n"
           "  --box XMIN,XMAX,YMIN,YMAX\n"
           "                     the region (default: found so that it holds the whole\n"
           "                     largest-eps pseudospectrum, with a margin)\n"
           "  --method M         lanczos (inverse Lanczos on the Schur form, many points per\n"
           "                     triangular solve; the default), lanczos-single (one point at a\n"
           "                     time, the reference) or svd (a dense SVD at every point)\n"
           "  --abscissa         the pseudospectral abscissa max Re z of each eps (criss-cross,\n"
           "                     to full precision), marked where attained and in the summary\n"
           "  --radius           the pseudospectral radius max |z| likewise\n"
           "  --fov              overlay the boundary of the numerical range W(A)\n"
           "  --mode Z           the pseudomode at Z (x, x+yi or x-yi): the unit v with\n"
           "                     ||(A - ZI) v|| = sigma_min(ZI - A); draws |v_k| against k (log\n"
           "                     scale) beside the eigenvector of the eigenvalue nearest Z\n"
           "                     instead of the pseudospectra; tsv: k, |v_k|, Re v_k, Im v_k\n"
           "  --stability-radius the distance to instability min_w sigma_min(iwI - A) and its\n"
           "                     discrete-time analogue on the unit circle, certified by level\n"
           "                     sets (2n eigenproblems), in the summary\n"
           "  --trace            draw the eps-level curves traced from every eigenvalue instead\n"
           "                     of grid contours (no grid; every component, however small)\n"
           "  --sparse K         a large sparse A: K steps of Arnoldi, then the pseudospectra of\n"
           "                     the (K+1) x K Hessenberg H~ around its Ritz values; they lie\n"
           "                     inside A's (H~'s sigma_min bounds A's from above); the file is\n"
           "                     read as sparse, never stored dense\n"
           "  --sparse-point Z   with --sparse: sigma_min(ZI - A) by a sparse LU of ZI - A\n"
           "                     (UMFPACK) beside the projection's bound, in the summary\n"
           "  --save FILE        with --sparse: write H~ (Matrix Market) for pspec file:FILE\n"
           , cli_prog());
    cli_help_shared(&tool);
    printf("\nMatrices:\n");
    for (size_t i = 0; i < ptd_zoo_count(); i++) printf("  %-18s %s\n", ptd_zoo_name(i), ptd_zoo_describe(i));
    printf("  %-18s %s\n", "convdiff", "2-D convection-diffusion, n = m^2, m >= 25 (default 2025); sparse");
    printf("\nExamples:\n"
           "  pspec hippo-legs -n 64 -eps 1e-4 | gnuplot -p\n"
           "  pspec grcar -n 100 -eps 1e-1,1e-2,1e-3,1e-4 -o grcar.pdf\n"
           "  pspec convdiff -n 10000 --sparse 120 -eps 1e-1,1e-2,1e-3 -o convdiff.png\n"
           "Exit status: 0 success, 1 numerical or I/O failure, 2 usage error.\n");
}

/* Where a maximum is attained is known less well than its value: along the level curve the
 * value changes only quadratically, by delta^2 / (2 R) for a step delta and a radius of
 * curvature R (about |z| or eps), so a value good to err fixes the point to sqrt(2 R err). */
static double point_err(const ptd_pspec_extreme *x)
{
    double r = cabs(x->z) + x->sigma;
    return fmax(x->value_err, sqrt(2 * r * x->value_err));
}

/* --- traced level curves (--trace, and the components a grid misses) ------------------- */

/* One line per eps: the components and the eigenvalues in each, grouped ("15 of 1 eigenvalue,
 * 1 of 25"), the near-discs with kappa(lambda) ~ radius / eps, and anything open or missed. */
static void trace_summary(const ptd_pspec_trace_result *r, const char *lead)
{
    size_t nv = 0, discs = 0;
    double kmin = INFINITY, kmax = 0;
    for (size_t c = 0; c < r->ncurves; c++) {
        const ptd_pspec_curve *cv = &r->curves[c];
        nv += cv->nv;
        if (cv->near_disc) {
            discs++;
            kmin = fmin(kmin, cv->radius / r->eps);
            kmax = fmax(kmax, cv->radius / r->eps);
        }
    }
    fprintf(stderr, "%s%zu component%s", lead, r->components, r->components == 1 ? "" : "s");
    /* group the components by their number of eigenvalues, largest first */
    size_t shown = 0, last = (size_t)-1;
    for (;;) {
        size_t m = 0, cnt = 0;
        for (size_t c = 0; c < r->ncurves; c++) {
            const ptd_pspec_curve *cv = &r->curves[c];
            if (cv->closed && !cv->hole && cv->neig < last && cv->neig > m) m = cv->neig;
        }
        if (m == 0) break;
        for (size_t c = 0; c < r->ncurves; c++)
            cnt += r->curves[c].closed && !r->curves[c].hole && r->curves[c].neig == m;
        fprintf(stderr, "%s%zu with %zu eigenvalue%s", shown ? ", " : ": ", cnt, m, m == 1 ? "" : "s");
        shown++;
        last = m;
    }
    fprintf(stderr, " (%zu vertices)", nv);
    if (discs)
    {
        fprintf(stderr, "; %zu near-disc%s of radius about eps kappa(lambda): kappa %.2g", discs, discs == 1 ? "" : "s",
                kmin);
        if (discs > 1) fprintf(stderr, " to %.2g", kmax);
    }
    if (r->unclosed) fprintf(stderr, "; %zu curve%s did not close (drawn open)", r->unclosed, r->unclosed == 1 ? "" : "s");
    if (r->missed) fprintf(stderr, "; %zu eigenvalue%s reached by no curve", r->missed, r->missed == 1 ? "" : "s");
    size_t holes = r->ncurves - r->components - r->unclosed;
    if (holes) fprintf(stderr, "; %zu hole%s", holes, holes == 1 ? "" : "s");
    fputc('\n', stderr);
}

/* The box of the traced curves and the eigenvalues, with a margin of 5% (symmetric about
 * the real axis for a real matrix). */
static ptd_box trace_box(ptd_pspec_trace_result *const *tr, size_t ntr, const double complex *ev, size_t n, int real)
{
    ptd_box b = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    for (size_t i = 0; i < n; i++) {
        b.xmin = fmin(b.xmin, creal(ev[i]));
        b.xmax = fmax(b.xmax, creal(ev[i]));
        b.ymin = fmin(b.ymin, cimag(ev[i]));
        b.ymax = fmax(b.ymax, cimag(ev[i]));
    }
    double emax = 0;
    for (size_t t = 0; t < ntr; t++) {
        if (!tr[t]) continue;
        emax = fmax(emax, tr[t]->eps);
        for (size_t c = 0; c < tr[t]->ncurves; c++)
            for (size_t k = 0; k < tr[t]->curves[c].nv; k++) {
                double complex z = tr[t]->curves[c].z[k];
                b.xmin = fmin(b.xmin, creal(z));
                b.xmax = fmax(b.xmax, creal(z));
                b.ymin = fmin(b.ymin, cimag(z));
                b.ymax = fmax(b.ymax, cimag(z));
            }
    }
    if (real) {
        b.ymax = fmax(fabs(b.ymin), fabs(b.ymax));
        b.ymin = -b.ymax;
    }
    double w = b.xmax - b.xmin, h = b.ymax - b.ymin;
    double m = 0.05 * fmax(fmax(w, h), emax > 0 ? 4 * emax : 1e-300);
    if (!(m > 0)) m = 1;
    b.xmin -= m;
    b.xmax += m;
    b.ymin -= m;
    b.ymax += m;
    return b;
}

/* --mode Z: the pseudomode, its summary, and |v_k| beside the nearest eigenvector. */
static void pspec_mode_write(const ptd_pspec_plan *plan, const ptd_matrix *A, const char *spec, double complex z,
                             const char *out, int want_tsv, int quiet, const char *cmd)
{
    size_t n = ptd_pspec_plan_order(plan);
    double complex *v = malloc(n * sizeof *v), *u = malloc(n * sizeof *u);
    double *k = malloc(n * sizeof *k), *av = malloc(n * sizeof *av), *ae = malloc(n * sizeof *ae);
    if (!v || !u || !k || !av || !ae) cli_fail("out of memory");
    ptd_pspec_mode_info mi;
    int st = ptd_pspec_mode(plan, z, v, u, &mi);
    if (st && st != PTD_ENOCONV) cli_fail("--mode: %s", ptd_last_error());
    const char *warn = st ? ptd_last_error() : NULL;
    /* the eigenvector of the eigenvalue nearest z (LAPACK, unit norm) */
    ptd_eig *e = NULL;
    if (ptd_cond_eig(A, &e)) cli_fail("eigenvectors: %s", ptd_last_error());
    size_t near = 0;
    for (size_t i = 1; i < n; i++)
        if (cabs(e->lambda[i] - z) < cabs(e->lambda[near] - z)) near = i;
    for (size_t i = 0; i < n; i++) {
        k[i] = (double)(i + 1);
        av[i] = cabs(v[i]);
        ae[i] = cabs(PTD_AT(e->V, i, near));
    }
    double amin = INFINITY;
    for (size_t i = 0; i < n; i++) amin = fmin(amin, av[i]);
    char zs[96], ls[96], notes_buf[2][320];
    cli_complex(zs, sizeof zs, z, 0);
    /* LAPACK's eigenvalue to first order: kappa(lambda) n u ||A|| */
    double lerr = e->eig_cond[near] * (double)n * 1.1102230246251565e-16 * ptd_pspec_plan_norm2(plan);
    cli_complex(ls, sizeof ls, e->lambda[near], fmin(isfinite(lerr) ? lerr : 1e300, 1e-3 * cabs(e->lambda[near])));
    /* the residual is a rounding measurement below n u (||A|| + |z|): its digits would move with
     * the BLAS kernel, so only its being below that floor is said */
    double rfloor = 2 * (double)(n + 2) * 1.1102230246251565e-16 * (ptd_pspec_plan_norm2(plan) + cabs(z));
    char rs[80];
    if (mi.residual <= rfloor) snprintf(rs, sizeof rs, "residual at rounding level (below 2 (n+2) u (||A|| + |z|) = %.2g)", rfloor);
    else snprintf(rs, sizeof rs, "residual %.2g (above 2 (n+2) u (||A|| + |z|) = %.2g)", mi.residual, rfloor);
    snprintf(notes_buf[0], sizeof notes_buf[0], "pseudomode at z = %s: sigma_min = %.*g (error %.2g), %s, %s", zs,
             ptd_digits(mi.sigma, mi.sigma_err), mi.sigma, mi.sigma_err, rs,
             mi.exact ? "inverse iteration on the exact triangular Schur form" : "dense SVD of zI - A (zgesvd)");
    snprintf(notes_buf[1], sizeof notes_buf[1], "eigenvector of the eigenvalue nearest z: lambda = %s (LAPACK zgeevx; kappa(lambda) = %.2g)", ls, e->eig_cond[near]);
    const char *notes[2] = {notes_buf[0], notes_buf[1]};
    char title[160];
    snprintf(title, sizeof title, "%s, n = %zu: pseudomode at z = %s", spec, n, zs);
    int latex = out && strlen(out) > 4 && strcmp(out + strlen(out) - 4, ".tex") == 0;
    ptd_plot_meta meta = {.title = title, .command = cmd, .notes = notes, .nnotes = 2, .latex = latex};
    cli_membuf text = {0};
    FILE *f = cli_mem_open(&text);
    if (want_tsv) {
        double *rows = malloc(n * 4 * sizeof *rows);
        if (!rows) cli_fail("out of memory");
        for (size_t i = 0; i < n; i++) {
            rows[4 * i] = k[i];
            rows[4 * i + 1] = av[i];
            rows[4 * i + 2] = creal(v[i]);
            rows[4 * i + 3] = cimag(v[i]);
        }
        const char *cols[] = {"k", "abs_v", "re_v", "im_v"};
        st = ptd_plot_table_tsv(f, cols, 4, rows, n, &meta);
        free(rows);
    } else {
        char t0[160], t1[160];
        /* key titles are markup: enhanced text (subscripts, Greek), or LaTeX */
        snprintf(t0, sizeof t0, latex ? "pseudomode $|v_k|$ at $z = %s$ ($\\sigma_{\\min}$ %.3g)"
                                      : "pseudomode |v_k| at z = %s (σ_{min} %.3g)", zs, mi.sigma);
        size_t zeros = 0;
        for (size_t i = 0; i < n; i++) zeros += ae[i] == 0;
        snprintf(t1, sizeof t1, latex ? "eigenvector $|x_k|$ of $\\lambda = %s$" : "eigenvector |x_k| of λ = %s", ls);
        if (zeros) snprintf(t1 + strlen(t1), sizeof t1 - strlen(t1), " (%zu exact zeros, not drawn)", zeros);
        ptd_plot_series s[2] = {{.title = t0, .x = k, .y = av, .n = n, .style = "linespoints"},
                                {.title = t1, .x = k, .y = ae, .n = n, .style = "lines", .dashed = 1}};
        ptd_plot_axes ax = {.xlabel = "k", .ylabel = latex ? "$|v_k|$" : "|v_k|", .logy = 1, .hline = NAN,
                            .key = "below"};
        st = ptd_plot_series_gnuplot(f, s, 2, &ax, &meta);
    }
    if (st) cli_fail("writing the output: %s", ptd_last_error());
    cli_mem_close(&text);
    cli_emit(out, want_tsv, text.buf, text.len, text.buf, text.len);
    if (!quiet) {
        fprintf(stderr, "pspec: %s, n = %zu, ||A||_2 = %.6g\n", spec, n, ptd_pspec_plan_norm2(plan));
        fprintf(stderr, "  %s\n", notes_buf[0]);
        fprintf(stderr, "  (the residual ||(zI - A) v - sigma u|| is computed in double from A: the rounding of "
                        "the product is its floor)\n");
        if (mi.exact)
            fprintf(stderr, "  inverse iteration: %u step%s; the components of v are accurate to a few n u relative "
                            "each, down to the smallest (%.3g)\n",
                    mi.iterations, mi.iterations == 1 ? "" : "s", amin);
        fprintf(stderr, "  %s\n", notes_buf[1]);
        if (warn) fprintf(stderr, "  warning: %s\n", warn);
    }
    free(text.buf);
    ptd_eig_free(e);
    free(v);
    free(u);
    free(k);
    free(av);
    free(ae);
}

int pspec_run(int argc, char **argv, const pspec_driver *drv)
{
    cli_args a;
    cli_args_init(&tool, &a, argc, argv);
    tool.name = cli_prog(); /* pspec or pspec-mpi */
    int have_box = 0;
    int want_abscissa = 0, want_radius = 0, want_fov = 0, trace_only = 0, want_stab = 0, want_mode = 0;
    double complex zmode = 0, zsp = 0;
    size_t sparse_k = 0;
    int want_spoint = 0;
    const char *save = NULL;
    const char *box_arg = NULL;
    double boxv[4];
    ptd_pspec_method method = PTD_PSPEC_LANCZOS;
    int c;
    while ((c = cli_next(&tool, &a, argc, argv)) != -1) {
        switch (c) {
        case 'b':
            cli_box4("--box", optarg, boxv);
            have_box = 1;
            box_arg = optarg;
            break;
        case 'm':
            if (strcmp(optarg, "lanczos") == 0) method = PTD_PSPEC_LANCZOS;
            else if (strcmp(optarg, "lanczos-single") == 0) method = PTD_PSPEC_LANCZOS_SINGLE;
            else if (strcmp(optarg, "svd") == 0) method = PTD_PSPEC_SVD;
            else cli_usage("--method must be lanczos, lanczos-single or svd (got '%s')", optarg);
            break;
        case 'A': want_abscissa = 1; break;
        case 'R': want_radius = 1; break;
        case 'F': want_fov = 1; break;
        case 'S': want_stab = 1; break;
        case 'P':
            if (!cli_parse_complex(optarg, &zmode)) cli_usage("--mode takes a point x, x+yi or x-yi (got '%s')", optarg);
            want_mode = 1;
            break;
        case 'T': trace_only = 1; break;
        case 'K': sparse_k = cli_size("--sparse", optarg, 1, PSPEC_SPARSE_KMAX); break;
        case 'Z':
            if (!cli_parse_complex(optarg, &zsp)) cli_usage("--sparse-point takes a point x, x+yi or x-yi (got '%s')", optarg);
            want_spoint = 1;
            break;
        case 'W': save = optarg; break;
        }
    }
    size_t n = a.n, nx = a.nx, ny = a.ny, neps = a.neps;
    double *eps = a.eps;
    int relative = a.relative, quiet = a.quiet, tsv = a.tsv, threads = a.threads;
    unsigned long seed = a.seed;
    const char *out = a.out, *cmd = a.cmd;
    const char *spec = cli_one_matrix(argc, argv);
    int sparse = sparse_k > 0;
    if (!sparse && (want_spoint || save)) cli_usage("%s needs --sparse K", want_spoint ? "--sparse-point" : "--save");
    /* the first option given that needs a square matrix (refused for a rectangular one) */
    const char *square_opt = want_abscissa ? "--abscissa" : want_radius ? "--radius" : want_stab ? "--stability-radius"
                           : want_mode ? "--mode" : trace_only ? "--trace" : want_fov ? "--fov" : NULL;
    int nth = threads; /* the threads the grid will use, for the long-run notice */
#ifdef _OPENMP
    if (!nth) nth = omp_get_max_threads();
#endif
    if (nth < 1) nth = 1;
    if (sparse) {
        if (square_opt) cli_usage("%s needs a square matrix; with --sparse the projection H~ is (K+1) x K", square_opt);
        if (relative) cli_usage("--relative needs ||A||_2, which --sparse does not compute: give absolute eps");
        if (save) cli_check_save(save, out);
    }
    if (have_box) {
        cli_check_spacing("--box", box_arg, boxv[0], boxv[1], nx, "--grid NX =");
        cli_check_spacing("--box", box_arg, boxv[2], boxv[3], ny, "--grid NY =");
    }
    cli_out_kind kind = cli_output_kind(out); /* fail early on a bad -o */
    if (tsv && kind == OUT_IMAGE) cli_usage("--format tsv cannot be drawn as an image: use -o FILE.tsv");
    int want_tsv = kind == OUT_DATA || (kind == OUT_STDOUT && tsv);

    /* --sparse: the matrix as CSR, Arnoldi, and H~ in A's place from here on */
    pspec_sparse sp = {0};
    size_t side = 0;
    ptd_system *sys = NULL;
    if (sparse) {
        sp.A = pspec_sparse_matrix(spec, n, a.n_given, seed, &side);
        size_t nA = sp.A->rows;
        if (sparse_k > nA) cli_usage("--sparse %zu: more steps than the order n = %zu", sparse_k, nA);
        double kk = (double)sparse_k, points = (double)nx * (double)ny * (have_box ? 1.0 : 1.2);
        /* Arnoldi (fixed-order loops on one thread), H~'s plan, the grid; the sparse LU of a
         * point is not modelled (its fill depends on the matrix) */
        double flops = pspec_sparse_flops(sp.A, sparse_k) + 100 * kk * kk * kk +
                       points * cli_flops_point(sparse_k, method == PTD_PSPEC_SVD) / nth;
        cli_notice_work(quiet, nA, 16.0 * (double)nA * (kk + 3) + 24.0 * (double)sp.A->nnz + cli_bytes_matrices(sparse_k, 6),
                        flops / CLI_FLOP_RATE);
        char what[160];
        snprintf(what, sizeof what, "Arnoldi, %zu steps on n = %zu (%zu nonzeros), one thread", sparse_k, nA, sp.A->nnz);
        cli_notice_phase(quiet, what, pspec_sparse_flops(sp.A, sparse_k) / CLI_FLOP_RATE);
        pspec_sparse_arnoldi(&sp, sparse_k, seed);
        sys = calloc(1, sizeof *sys);
        if (!sys) cli_fail("out of memory");
        snprintf(sys->name, sizeof sys->name, "%s", spec);
        sys->A = sp.H;
        sys->n = sp.H->cols;
    } else if (strcmp(spec, "convdiff") == 0) {
        sys = pspec_convdiff_dense(n, a.n_given, &side);
    } else {
        sys = cli_zoo_make_rect(spec, n, seed, 1);
    }
    int st;
    n = sys->n;
    /* a rectangular m x n file: the pseudospectra of zI~ - A; what needs a square matrix is refused */
    size_t rows = sys->A->rows;
    int rect = rows > n;
    if (rect && !sparse && square_opt) cli_usage("%s needs a square matrix; %s is %zu x %zu", square_opt, spec, rows, n);
    if (!sparse) { /* say what is ahead when it is long: an 8192 x 8192 file runs for hours */
        int svd = method == PTD_PSPEC_SVD;
        double points = (double)nx * (double)ny * (have_box ? 1.0 : 1.2); /* the region's search: ~20% more */
        double flops = cli_flops_plan(sys->A) + ((double)(eps ? neps : 8) * (want_abscissa + want_radius) + 4.0 * want_stab) * cli_flops_crisscross(n) +
                       points * cli_flops_point(n, svd) / nth / (drv && drv->ranks > 1 ? drv->ranks : 1);
        cli_notice_work(quiet, n, cli_bytes_matrices(n, 5 + (svd ? nth : 0)) + 24 * (double)nx * (double)ny,
                        flops / CLI_FLOP_RATE);
    }

    ptd_pspec_plan *plan = NULL;
    if ((st = ptd_pspec_plan_create(sys->A, &plan))) cli_fail("%s", ptd_last_error());
    double nrm = ptd_pspec_plan_norm2(plan), floor_ = ptd_pspec_plan_floor(plan);
    /* --sparse: below the slack of the projection's bound no eps is resolved either */
    if (sparse) floor_ += pspec_sparse_slack(&sp, 0);
    /* --sparse-point: the sparse LU's sigma_min of A beside the projection's */
    ptd_pspec_point lu = {0}, proj = {0};
    int lu_st = 0;
    double t_lu = 0;
    if (want_spoint) {
        /* the LU's fill depends on the matrix: the time as measured for convdiff (a 2-D grid,
         * UMFPACK: 1.8 s at 8e5 nonzeros, growing like nnz^1.4 from 5e4 on) */
        char what[200], zs[96];
        snprintf(what, sizeof what, "--sparse-point: a sparse LU of zI - A at z = %s (n = %zu, %zu nonzeros), then inverse Lanczos",
                 cli_complex(zs, sizeof zs, zsp, 4 * DBL_EPSILON * cabs(zsp)), sp.A->rows, sp.A->nnz);
        cli_notice_phase(quiet, what, 1.8 * pow((double)sp.A->nnz / 8e5, 1.4));
        double tl = cli_now();
        lu_st = ptd_csr_sigma_min(sp.A, zsp, &lu);
        if (lu_st && lu_st != PTD_ENOCONV) cli_fail("--sparse-point: %s", ptd_last_error());
        t_lu = cli_now() - tl;
        ptd_pspec_work *w = ptd_pspec_work_alloc(plan);
        if (!w) cli_fail("out of memory");
        ptd_pspec_opts o1 = {.method = method == PTD_PSPEC_SVD ? PTD_PSPEC_SVD : PTD_PSPEC_LANCZOS_SINGLE};
        if ((st = ptd_pspec_sigma_min(plan, w, zsp, &o1, &proj)) && st != PTD_ENOCONV)
            cli_fail("--sparse-point: %s", ptd_last_error());
        ptd_pspec_work_free(w);
    }
    if (want_mode) {
        pspec_mode_write(plan, sys->A, spec, zmode, out, want_tsv, quiet, cmd);
        free(a.eps);
        ptd_pspec_plan_free(plan);
        ptd_system_free(sys);
        return CLI_OK;
    }
    /* the distance to instability, continuous (imaginary axis) and discrete (unit circle) */
    ptd_pspec_instability stab[2];
    if (want_stab) {
        char what[160];
        snprintf(what, sizeof what, "--stability-radius: criss-cross on the imaginary axis and the unit circle, n = %zu", n);
        cli_notice_phase(quiet, what, 4 * cli_flops_crisscross(n) / CLI_FLOP_RATE);
    }
    for (int d = 0; d < 2 && want_stab; d++)
        if ((st = ptd_pspec_stability_radius(plan, d, &stab[d]))) cli_fail("distance to instability: %s", ptd_last_error());
    double unit = relative ? nrm : 1.0;
    if (!eps) {
        /* the decade ladder 1e-1 .. 1e-8, clipped at the rounding floor */
        eps = malloc(8 * sizeof *eps);
        if (!eps) cli_fail("out of memory");
        double fl = floor_ > 0 ? floor_ : (double)n * 1.1102230246251565e-16 * nrm;
        for (int k = 1; k <= 8; k++)
            if (pow(10.0, -k) * unit > fl) eps[neps++] = pow(10.0, -k);
        if (neps == 0) eps[neps++] = 1e-1;
    }
    for (size_t k = 0; k < neps; k++)
        if (!(eps[k] * unit > 0 && eps[k] * unit <= EPS_MAX))
            cli_usage("-eps %g with --relative is eps ||A||_2 = %g (||A||_2 = %g), outside (0, %g]", eps[k],
                      eps[k] * unit, nrm, EPS_MAX);
    double *eabs = malloc(neps * sizeof *eabs);
    if (!eabs) cli_fail("out of memory");
    for (size_t k = 0; k < neps; k++) eabs[k] = eps[k] * unit;

    ptd_pspec_opts po = {.method = method, .threads = threads};
    ptd_box box;
    double t0 = cli_now();
    /* --trace: the level curves of every eps above the plan's floor, and the box from them */
    ptd_pspec_trace_result **traces = calloc(neps, sizeof *traces);
    if (!traces) cli_fail("out of memory");
    double t_trace = 0;
    if (trace_only) {
        double tt = cli_now();
        for (size_t k = 0; k < neps; k++) {
            if (!(eabs[k] > floor_)) continue;
            if ((st = ptd_pspec_trace(plan, eabs[k], NULL, &traces[k]))) cli_fail("tracing eps %g: %s", eabs[k], ptd_last_error());
        }
        t_trace = cli_now() - tt;
    }
    if (have_box) {
        box = (ptd_box){boxv[0], boxv[1], boxv[2], boxv[3]};
    } else if (trace_only) {
        int real = 1;
        for (size_t k = 0; k < n * n && real; k++) real = cimag(sys->A->data[k]) == 0;
        box = trace_box(traces, neps, ptd_pspec_plan_eigenvalues(plan), n, real);
    } else if ((st = ptd_pspec_auto_box(plan, eabs, neps, nx, ny, &po, &box))) {
        cli_fail("finding the region: %s", ptd_last_error());
    }
    /* the numerical range: its boundary, and an automatic box grown to show it whole */
    enum { NFOV = 128 };
    double complex fovpts[NFOV];
    if (want_fov) {
        if ((st = ptd_fov_boundary(sys->A, NFOV, fovpts))) cli_fail("%s", cli_lib_error("numerical range"));
        if (!have_box) {
            ptd_box fb;
            if ((st = ptd_fov_box(sys->A, &fb))) cli_fail("%s", cli_lib_error("numerical range"));
            double m = 0.05 * fmax(fb.xmax - fb.xmin, fb.ymax - fb.ymin);
            box.xmin = fmin(box.xmin, fb.xmin - m);
            box.xmax = fmax(box.xmax, fb.xmax + m);
            box.ymin = fmin(box.ymin, fb.ymin - m);
            box.ymax = fmax(box.ymax, fb.ymax + m);
        }
    }
    double t_box = cli_now() - t0;

    /* pseudospectral abscissa and radius by criss-cross, for every eps above the floor; an
     * eps the method cannot answer is reported and skipped, never the end of the run */
    double floor_x = method == PTD_PSPEC_SVD ? (double)n * 1.1102230246251565e-16 * nrm : floor_;
    ptd_pspec_extreme *xa = calloc(neps, sizeof *xa), *xr = calloc(neps, sizeof *xr);
    double complex *za = malloc(neps * sizeof *za), *zr = malloc(neps * sizeof *zr);
    double *ea = malloc(neps * sizeof *ea), *er = malloc(neps * sizeof *er); /* their eps */
    if (!ea || !er) cli_fail("out of memory");
    char (*why_a)[200] = calloc(neps, sizeof *why_a), (*why_r)[200] = calloc(neps, sizeof *why_r);
    if (!xa || !xr || !za || !zr || !why_a || !why_r) cli_fail("out of memory");
    size_t nza = 0, nzr = 0;
    double t_x0 = cli_now();
    /* a criss-cross is an eigenproblem of order 2n per crossing search: said before when long,
     * and one step of the progress each */
    size_t nx_total = 0, nx_done = 0;
    for (size_t k = 0; k < neps; k++)
        if (eabs[k] > 4 * fmax(floor_x, ptd_pspec_plan_floor(plan))) nx_total += (size_t)(want_abscissa + want_radius);
    cli_progress_state xprog;
    cli_progress_start(&xprog, quiet || !nx_total, "criss-cross");
    if (nx_total) {
        char what[160];
        snprintf(what, sizeof what, "criss-cross for the pseudospectral %s at %zu eps, n = %zu",
                 want_abscissa && want_radius ? "abscissa and radius" : want_abscissa ? "abscissa" : "radius",
                 nx_total / (size_t)(want_abscissa + want_radius), n);
        cli_notice_phase(quiet, what, (double)nx_total * cli_flops_crisscross(n) / CLI_FLOP_RATE);
    }
    for (size_t k = 0; k < neps; k++) {
        xa[k].value = xr[k].value = NAN;
        if (eabs[k] <= 4 * fmax(floor_x, ptd_pspec_plan_floor(plan))) {
            if (want_abscissa || want_radius) {
                const char *r = "below 4 n u ||A||, the rounding floor of the computed Schur form";
                snprintf(why_a[k], sizeof why_a[k], "%s", r);
                snprintf(why_r[k], sizeof why_r[k], "%s", r);
            }
            continue;
        }
        if (want_abscissa) {
            if ((st = ptd_pspec_abscissa(plan, eabs[k], NULL, &xa[k]))) {
                snprintf(why_a[k], sizeof why_a[k], "%s", ptd_last_error());
                xa[k].value = NAN;
                cli_progress_end(&xprog); /* a terminal's bar cleared for the line */
                if (!quiet) cli_note(0, "warning: eps %g: %s", eabs[k], ptd_last_error());
            } else {
                ea[nza] = eabs[k];
                za[nza++] = xa[k].z;
            }
            cli_progress(&xprog, ++nx_done, nx_total);
        }
        if (want_radius) {
            if ((st = ptd_pspec_radius(plan, eabs[k], NULL, &xr[k]))) {
                snprintf(why_r[k], sizeof why_r[k], "%s", ptd_last_error());
                xr[k].value = NAN;
                cli_progress_end(&xprog);
                if (!quiet) cli_note(0, "warning: eps %g: %s", eabs[k], ptd_last_error());
            } else {
                er[nzr] = eabs[k];
                zr[nzr++] = xr[k].z;
            }
            cli_progress(&xprog, ++nx_done, nx_total);
        }
    }
    cli_progress_end(&xprog);
    double t_x = cli_now() - t_x0;
    cli_progress_state prog;
    cli_progress_start(&prog, quiet, "grid");
    po.progress = cli_progress;
    po.progress_ctx = &prog;
    ptd_pspec_grid *g = NULL;
    if (!trace_only) {
        char gerr[512] = "";
        st = drv && drv->grid ? drv->grid(drv->ctx, plan, &box, nx, ny, &po, &g, gerr, sizeof gerr)
                              : ptd_pspec_grid_compute(plan, &box, nx, ny, &po, &g);
        cli_progress_end(&prog);
        if (st) cli_fail("%s", gerr[0] ? gerr : ptd_last_error());
        /* the default figure draws every component: where the grid misses eigenvalues
         * (their components finer than the spacing), those are traced and drawn as curves */
        double tt = cli_now();
        unsigned char *flags = malloc(n);
        if (!flags) cli_fail("out of memory");
        for (size_t k = 0; k < neps; k++) {
            if (rect || !(eabs[k] > floor_x && eabs[k] > floor_)) continue; /* (A1's eigenvalues: nothing to miss) */
            if (!ptd_pspec_grid_missed(g, eabs[k], ptd_pspec_plan_eigenvalues(plan), n, flags)) continue;
            size_t in_box = 0;
            for (size_t i = 0; i < n; i++) {
                flags[i] = flags[i] == 1; /* those outside the box are not drawn anyway */
                in_box += flags[i];
            }
            /* those components are finer than the grid, mostly below the figure's resolution:
             * 0.2 rad between normals (a near-disc in 32 exact vertices) keeps the cost near
             * the grid's even when every eigenvalue is missed (ginibre n = 300) */
            ptd_pspec_trace_opts to = {.starts = flags, .max_turn = 0.2};
            if (in_box && (st = ptd_pspec_trace(plan, eabs[k], &to, &traces[k])))
                cli_fail("tracing eps %g: %s", eabs[k], ptd_last_error());
        }
        free(flags);
        t_trace = cli_now() - tt;
    } else {
        cli_progress_end(&prog);
    }

    /* provenance and the figure */
    size_t notes_cap = 12 + 4 * neps;
    char (*notes_buf)[200] = calloc(notes_cap, sizeof *notes_buf);
    const char **notes = calloc(notes_cap, sizeof *notes);
    if (!notes_buf || !notes) cli_fail("out of memory");
    size_t nn = 0;
    snprintf(notes_buf[nn++], 200, "matrix: %s", spec);
    if (sparse) {
        snprintf(notes_buf[nn++], 200, "sparse: n = %zu, %zu nonzeros, ||A||_F = %.6g", sp.A->rows, sp.A->nnz, sp.norm_fro);
        snprintf(notes_buf[nn++], 200, "Arnoldi: %zu steps%s from a seeded start, H~ %zu x %zu, ||A V - V H~||_F = %.2g, "
                 "||V^* V - I||_F = %.2g", sp.steps, sp.steps < sp.k ? " (an invariant subspace)" : "", rows, n, sp.resid, sp.orth);
        snprintf(notes_buf[nn++], 200, "shown: H~'s values, upper bounds on sigma_min(zI - A) to within %.2g; its "
                 "eps-pseudospectra lie inside A's", pspec_sparse_slack(&sp, 0));
    } else if (rect)
        snprintf(notes_buf[nn++], 200, "size: %zu x %zu (rectangular: sigma_min(z I~ - A), I~ = [I; 0])", rows, n);
    else
        snprintf(notes_buf[nn++], 200, "n: %zu", n);
    snprintf(notes_buf[nn++], 200, "seed: %lu", seed);
    {
        char list[120] = "";
        for (size_t k = 0; k < neps && strlen(list) < 100; k++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%.3g", k ? "," : "", eabs[k]);
        if (relative) {
            char given[120] = "";
            for (size_t k = 0; k < neps && strlen(given) < 100; k++)
                snprintf(given + strlen(given), sizeof given - strlen(given), "%s%.6g", k ? "," : "", eps[k]);
            snprintf(notes_buf[nn++], 200, "eps: %s times ||A||_2 (--relative), absolute %s", given, list);
        } else
            snprintf(notes_buf[nn++], 200, "eps (absolute): %s", list);
    }
    if (trace_only)
        snprintf(notes_buf[nn++], 200, "traced level curves, no grid; box: %.10g,%.10g,%.10g,%.10g%s", box.xmin,
                 box.xmax, box.ymin, box.ymax, have_box ? "" : " (automatic)");
    else
        snprintf(notes_buf[nn++], 200, "grid: %zu x %zu, box: %.10g,%.10g,%.10g,%.10g%s", nx, ny, box.xmin,
                 box.xmax, box.ymin, box.ymax, have_box ? "" : " (automatic)");
    snprintf(notes_buf[nn++], 200, "method: %s",
             method == PTD_PSPEC_SVD ? "svd" : method == PTD_PSPEC_LANCZOS_SINGLE ? "lanczos-single" : "lanczos");
    if (drv && drv->note) snprintf(notes_buf[nn++], 200, "%s", drv->note);
    snprintf(notes_buf[nn++], 200, "norm2: %.10g", nrm);
    snprintf(notes_buf[nn++], 200, "schur form: %s", ptd_pspec_plan_exact(plan) ? "exact (triangular input)"
                                                     : sparse ? "of H~'s top block (the Ritz values), computed (zgees); QR of the rest"
                                                     : rect ? "of the top block, computed (zgees); QR of the rest"
                                                            : "computed (zgees)");
    snprintf(notes_buf[nn++], 200, "rounding floor: %.3g", method == PTD_PSPEC_SVD ? (double)n * 1.1102230246251565e-16 * nrm : floor_);
    for (size_t k = 0; k < neps; k++) {
        char v[40], zs[80];
        if (!isnan(xa[k].value))
            snprintf(notes_buf[nn++], 200, "pseudospectral abscissa (eps %.3g): %s%s at %s", eabs[k],
                     xa[k].certified ? "" : ">= ", cli_digits(v, sizeof v, xa[k].value, xa[k].value_err),
                     cli_complex(zs, sizeof zs, xa[k].z, point_err(&xa[k])));
        else if (want_abscissa)
            snprintf(notes_buf[nn++], 200, "pseudospectral abscissa (eps %.3g): not computed: %.140s", eabs[k], why_a[k]);
        if (!isnan(xr[k].value))
            snprintf(notes_buf[nn++], 200, "pseudospectral radius (eps %.3g): %s%s at %s", eabs[k],
                     xr[k].certified ? "" : ">= ", cli_digits(v, sizeof v, xr[k].value, xr[k].value_err),
                     cli_complex(zs, sizeof zs, xr[k].z, point_err(&xr[k])));
        else if (want_radius)
            snprintf(notes_buf[nn++], 200, "pseudospectral radius (eps %.3g): not computed: %.140s", eabs[k], why_r[k]);
        ptd_pspec_grid_bounds gb;
        if (g && !rect && eabs[k] > floor_x && ptd_pspec_grid_bound(g, eabs[k], ptd_pspec_plan_eigenvalues(plan), n, &gb) == PTD_OK &&
            gb.missed)
            snprintf(notes_buf[nn++], 200, "eigenvalues in no grid contour (eps %.3g): %zu of %zu", eabs[k], gb.missed, n);
        if (traces[k])
            snprintf(notes_buf[nn++], 200, "traced (eps %.3g): %zu components, %zu open, %zu eigenvalues reached by none",
                     eabs[k], traces[k]->components, traces[k]->unclosed, traces[k]->missed);
    }
    if (want_fov) snprintf(notes_buf[nn++], 200, "numerical range: boundary at %d angles (Johnson)", (int)NFOV);
    if (want_spoint) {
        char zs[80];
        snprintf(notes_buf[nn++], 200, "sparse-point: z = %s: sigma_min(zI - A) = %.6g (sparse LU), of H~ %.6g",
                 cli_complex(zs, sizeof zs, zsp, 4 * DBL_EPSILON * cabs(zsp)), lu.sigma, proj.sigma);
    }
    for (size_t k = 0; k < nn; k++) notes[k] = notes_buf[k];
    char title[128];
    if (sparse) snprintf(title, sizeof title, "%s, n = %zu: Arnoldi, H~ %zu x %zu", spec, sp.A->rows, rows, n);
    else if (rect) snprintf(title, sizeof title, "%s, %zu x %zu", spec, rows, n);
    else snprintf(title, sizeof title, "%s, n = %zu", spec, n);
    ptd_plot_meta meta = {.title = title, .command = cmd, .notes = notes, .nnotes = nn,
                          .latex = out && strlen(out) > 4 && strcmp(out + strlen(out) - 4, ".tex") == 0,
                          .eps_unit = relative ? nrm : 0};
    cli_membuf script = {0}, data = {0};
    double complex *exact = NULL;
    size_t nexact = 0;
    size_t ntraced = 0;
    for (size_t k = 0; k < neps; k++) ntraced += traces[k] != NULL;
    if (want_tsv && trace_only) {
        st = ptd_plot_trace_tsv(cli_mem_open(&data), (const ptd_pspec_trace_result *const *)traces, neps, &meta);
        cli_mem_close(&data);
    } else if (want_tsv) {
        st = ptd_plot_pspec_tsv(cli_mem_open(&data), g, &meta);
        cli_mem_close(&data);
    } else {
        ptd_plot_overlay ov = {.nsets = 0};
        if (nza) ov.sets[ov.nsets++] = (typeof(ov.sets[0])){za, nza, meta.latex ? "$\\alpha_\\varepsilon$ attained" : "abscissa attained", ea};
        if (nzr) ov.sets[ov.nsets++] = (typeof(ov.sets[0])){zr, nzr, meta.latex ? "$\\rho_\\varepsilon$ attained" : "radius attained", er};
        if (want_fov) {
            ov.fov = fovpts;
            ov.nfov = NFOV;
        }
        ov.traces = (const ptd_pspec_trace_result *const *)traces;
        ov.ntraces = ntraced ? neps : 0;
        ov.traced_only = trace_only;
        ov.box = &box;
        if (rect) ov.eig_title = sparse ? "Ritz values" : "eigenvalues of the top block";
        if (side) { /* convdiff: A's own eigenvalues, known exactly, those in the box */
            nexact = 0;
            exact = malloc(side * side * sizeof *exact);
            if (!exact) cli_fail("out of memory");
            for (size_t j = 1; j <= side; j++)
                for (size_t l = 1; l <= side; l++) {
                    double lam = ptd_csr_convdiff_eig(side, j, l);
                    if (lam >= box.xmin && lam <= box.xmax && box.ymin <= 0 && box.ymax >= 0) exact[nexact++] = lam;
                }
            if (nexact) ov.sets[ov.nsets++] = (typeof(ov.sets[0])){exact, nexact, "eigenvalues of A (exact)", NULL};
        }
        st = ptd_plot_pspec_gnuplot_overlay(cli_mem_open(&script), g, eabs, neps, ptd_pspec_plan_eigenvalues(plan), n,
                                            &ov, &meta);
        cli_mem_close(&script);
    }
    if (st) cli_fail("writing the output: %s", ptd_last_error());
    cli_emit(out, want_tsv, script.buf, script.len, data.buf, data.len);
    free(exact);
    if (save) { /* H~, so that pspec file:FILE draws the same figure without the sparse matrix */
        cli_membuf hb = {0};
        st = ptd_mm_write(cli_mem_open(&hb), sp.H);
        cli_mem_close(&hb);
        if (st || ptd_plot_write_file(save, hb.buf, hb.len)) cli_fail("--save %s: %s", save, ptd_last_error());
        free(hb.buf);
    }

    /* the summary: the numbers a reader wants first */
    if (!quiet) {
        const double complex *ev = ptd_pspec_plan_eigenvalues(plan);
        double alpha = -INFINITY, rho = 0;
        for (size_t i = 0; i < n; i++) {
            alpha = fmax(alpha, creal(ev[i]));
            rho = fmax(rho, cabs(ev[i]));
        }
        double hx = (box.xmax - box.xmin) / (double)(nx - 1), hy = (box.ymax - box.ymin) / (double)(ny - 1);
        if (sparse) {
            fprintf(stderr, "pspec: %s, n = %zu (sparse: %zu nonzeros, ||A||_F = %.6g)\n", spec, sp.A->rows, sp.A->nnz,
                    sp.norm_fro);
            fprintf(stderr, "  Arnoldi: %zu steps%s, %.3g s (%.3g s measuring): H~ %zu x %zu, ||H~||_2 = %.6g, "
                            "||A V - V H~||_F = %.2g, ||V^* V - I||_F = %.2g\n", sp.steps,
                    sp.steps < sp.k ? " (an invariant subspace: the Ritz values are eigenvalues)" : "", sp.seconds,
                    sp.seconds_check, rows, n, nrm, sp.resid, sp.orth);
            fprintf(stderr, "  Ritz values: rightmost %.6g, largest |.| %.6g\n", alpha, rho);
            fprintf(stderr, "  shown are H~'s values: each bounds sigma_min(zI - A) from above (to within %.2g), so H~'s "
                            "eps-pseudospectra lie inside A's, and A's pseudospectral abscissa and radius are at least "
                            "those below\n", pspec_sparse_slack(&sp, 0));
            if (want_spoint) {
                char zs[80], v1[40], v2[40];
                fprintf(stderr, "  at z = %s: sigma_min(zI - A) = %s (sparse LU and inverse Lanczos, %u steps, %.3g s%s); "
                                "H~'s %s, %s\n", cli_complex(zs, sizeof zs, zsp, 4 * DBL_EPSILON * cabs(zsp)), cli_digits(v1, sizeof v1, lu.sigma, lu.err),
                        lu.iterations, t_lu, lu_st ? ", not converged: an estimate" : "",
                        cli_digits(v2, sizeof v2, proj.sigma, proj.err),
                        proj.sigma + proj.err + pspec_sparse_slack(&sp, proj.sigma) >= lu.sigma - lu.err
                            ? "an upper bound, as it must be"
                            : "below A's beyond the errors: the bound failed (please report)");
            }
        } else if (rect) {
            fprintf(stderr, "pspec: %s, %zu x %zu (rectangular: sigma_min(z I~ - A), I~ = [I; 0]), ||A||_2 = %.6g\n",
                    spec, rows, n, nrm);
            fprintf(stderr, "  the top %zu x %zu block: spectral abscissa %.6g, spectral radius %.6g (its eps-pseudospectra "
                            "contain A's)\n", n, n, alpha, rho);
        } else {
            fprintf(stderr, "pspec: %s, n = %zu, ||A||_2 = %.6g, Schur form %s\n", spec, n, nrm,
                    ptd_pspec_plan_exact(plan) ? "exact (triangular input)" : "by zgees");
            fprintf(stderr, "  spectral abscissa %.6g, spectral radius %.6g\n", alpha, rho);
        }
        for (int d = 0; d < 2 && want_stab; d++) cli_print_instability(&stab[d], d, floor_);
        double fl = method == PTD_PSPEC_SVD ? (double)n * 1.1102230246251565e-16 * nrm : floor_;
        double hmax = fmax(hx, hy);
        for (size_t k = 0; k < neps; k++) {
            char eb[64];
            if (trace_only) {
                char lead[112], v1[40], v2[80];
                if (!traces[k]) {
                    fprintf(stderr, "  eps %s: below the rounding floor n u ||A|| = %.2g, not traced\n",
                            cli_eps_text(eb, sizeof eb, eps[k], relative, nrm), floor_);
                    continue;
                }
                snprintf(lead, sizeof lead, "  eps %s: traced ", cli_eps_text(eb, sizeof eb, eps[k], relative, nrm));
                trace_summary(traces[k], lead);
                for (int which = 0; which < 2; which++) {
                    const ptd_pspec_extreme *x = which ? &xr[k] : &xa[k];
                    if (!(which ? want_radius : want_abscissa) || isnan(x->value)) continue;
                    fprintf(stderr, "    %s %s%s at %s (criss-cross%s)\n", which ? "radius" : "pseudospectral abscissa",
                            x->certified ? "" : ">= ", cli_digits(v1, sizeof v1, x->value, x->value_err),
                            cli_complex(v2, sizeof v2, x->z, point_err(x)), x->certified ? "" : ", local searches");
                }
                continue;
            }
            if (eabs[k] <= fl) {
                fprintf(stderr, "  eps %s: below the rounding floor n u ||A|| = %.2g, not resolved\n",
                        cli_eps_text(eb, sizeof eb, eps[k], relative, nrm), fl);
                continue;
            }
            ptd_pspec_grid_bounds gb;
            if (ptd_pspec_grid_bound(g, eabs[k], ev, rect ? 0 : n, &gb)) cli_fail("%s", ptd_last_error());
            char v1[40], v2[80];
            if (rect && !(gb.abscissa_lo > -INFINITY)) {
                if (sparse)
                    fprintf(stderr, "  eps %s: no grid point has H~'s sigma_min <= eps (the projection resolves none "
                                    "here: more steps, or a box by the rightmost Ritz values)\n",
                            cli_eps_text(eb, sizeof eb, eps[k], relative, nrm));
                else
                    fprintf(stderr, "  eps %s: no grid point has sigma_min <= eps (a rectangular matrix's "
                                    "eps-pseudospectrum may be empty)\n", cli_eps_text(eb, sizeof eb, eps[k], relative, nrm));
                continue;
            }
            fprintf(stderr, "  eps %s:", cli_eps_text(eb, sizeof eb, eps[k], relative, nrm));
            for (int which = 0; which < 2; which++) {
                const ptd_pspec_extreme *x = which ? &xr[k] : &xa[k];
                const char *name = sparse ? (which ? "H~'s radius" : "H~'s pseudospectral abscissa")
                                          : which ? "radius" : "pseudospectral abscissa";
                int want = which ? want_radius : want_abscissa;
                double lo = which ? gb.radius_lo : gb.abscissa_lo, hi = which ? gb.radius_hi : gb.abscissa_hi;
                if (want && !isnan(x->value) && x->certified)
                    fprintf(stderr, " %s %s at %s (criss-cross);", name,
                            cli_digits(v1, sizeof v1, x->value, x->value_err),
                            cli_complex(v2, sizeof v2, x->z, point_err(x)));
                else if (want && !isnan(x->value))
                    fprintf(stderr, " %s >= %s at %s (local searches from every eigenvalue: eps is below "
                                    "4 n u ||A|| = %.2g, where the global search proves nothing);", name,
                            cli_digits(v1, sizeof v1, x->value, x->value_err),
                            cli_complex(v2, sizeof v2, x->z, point_err(x)), ptd_pspec_extreme_floor(plan));
                else if (gb.contained)
                    /* enough digits to tell lo from the eigenvalue it may sit eps beside, and
                     * hi to a hundredth of the interval */
                    fprintf(stderr, " %s in [%s, %s] (grid bounds%s);", name,
                            cli_digits(v1, sizeof v1, lo, 0.1 * fmin(eabs[k], hi - lo)),
                            cli_digits(v2, sizeof v2, hi, 0.01 * (hi - lo)), want ? ", criss-cross failed" : "");
                else
                    /* the border is not provably clear at the grid's spacing (sigma_min grows
                     * slowly off a very non-normal matrix's level set): no upper bound */
                    fprintf(stderr, " %s >= %s (grid lower bound%s);", name,
                            cli_digits(v1, sizeof v1, lo, 0.1 * eabs[k]),
                            want ? ", criss-cross failed" : rect ? "" : which ? "; --radius for the value" : "; --abscissa for the value");
            }
            fputc('\n', stderr);
            if (gb.missed)
                fprintf(stderr, "    %zu of %zu eigenvalues lie in no grid contour%s%s%s (grid spacing %.2g)\n",
                        gb.missed, n, gb.outside ? ": " : "", gb.outside ? "some outside the box" : "",
                        gb.missed > gb.outside ? (gb.outside ? ", others in components finer than the grid" :
                                                               ": their components are finer than the grid") : "",
                        hmax);
            if (traces[k]) trace_summary(traces[k], "      traced for the figure: ");
        }
        unsigned long tev = 0;
        for (size_t k = 0; k < neps; k++) tev += traces[k] ? traces[k]->evaluations : 0;
        if (trace_only)
            fprintf(stderr, "  traced over [%.4g, %.4g] x [%.4g, %.4g]%s: %lu sigma_min evaluations, %.3g s\n", box.xmin,
                    box.xmax, box.ymin, box.ymax, have_box ? "" : " (automatic)", tev, t_trace);
        size_t below = 0;
        for (size_t k = 0; g && k < nx * ny; k++) below += g->sigma[k] < g->err[k];
        double tot = g ? g->seconds + t_box : 0;
        if (g) fprintf(stderr, "  grid %zu x %zu over [%.4g, %.4g] x [%.4g, %.4g]%s: %zu points, %d thread%s, "
                        "%.3g s (%.3g s finding the region), %.0f points/s\n",
                nx, ny, box.xmin, box.xmax, box.ymin, box.ymax, have_box ? "" : " (automatic)", nx * ny,
                g->threads, g->threads == 1 ? "" : "s", tot, t_box, (double)(nx * ny) / g->seconds);
        if (drv && drv->summary && drv->summary[0]) fprintf(stderr, "  %s\n", drv->summary);
        if (want_abscissa || want_radius) {
            unsigned es = 0, local = 0, failed = 0;
            for (size_t k = 0; k < neps; k++)
                for (int w = 0; w < 2; w++) {
                    const ptd_pspec_extreme *x = w ? &xr[k] : &xa[k];
                    if (!(w ? want_radius : want_abscissa)) continue;
                    if (isnan(x->value)) failed++;
                    else if (!x->certified) local++;
                    else es += x->eigensolves;
                }
            fprintf(stderr, "  criss-cross: %.3g s, %u eigenproblems of order %zu; sigma_min = eps at every point found%s",
                    t_x, es, 2 * n, local || failed ? "" : ", checked on a verification grid\n");
            if (local || failed)
                fprintf(stderr, "; %u value%s only lower bounds (local searches), %u not computed\n", local,
                        local == 1 ? "" : "s", failed);
        }
        if (g && ntraced)
            fprintf(stderr, "  tracing the components the grid misses: %lu sigma_min evaluations, %.3g s\n", tev, t_trace);
        if (g && method != PTD_PSPEC_SVD)
            fprintf(stderr, "  inverse Lanczos: %.1f steps per point on average, at most %u%s\n",
                    (double)g->iterations / (double)(nx * ny), g->max_iterations,
                    g->unconverged ? " (some points did not converge)" : "");
        if (below)
            fprintf(stderr, "  %zu points below their rounding error: there sigma_min is rounding, known only to be at "
                            "most value + err\n", below);
        if (g && g->unconverged) fprintf(stderr, "  warning: %zu points hit the Lanczos step limit\n", g->unconverged);
    }
    free(script.buf);
    free(data.buf);
    free(notes_buf);
    free(notes);
    free(xa);
    free(xr);
    free(why_a);
    free(why_r);
    free(za);
    free(zr);
    free(ea);
    free(er);
    free(eabs);
    free(eps);
    ptd_pspec_grid_free(g);
    for (size_t k = 0; k < neps; k++) ptd_pspec_trace_free(traces[k]);
    free(traces);
    ptd_pspec_plan_free(plan);
    ptd_system_free(sys);
    ptd_csr_free(sp.A);
    return CLI_OK;
}
