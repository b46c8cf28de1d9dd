/* readme_compare - compare the output a README block shows with what the command printed.
 *
 *   readme_compare EXPECTED ACTUAL NAME
 *
 * Every line of EXPECTED (but "..." lines) must appear in ACTUAL, in order, with the same
 * words; its numbers are compared one by one:
 *   - a range written A..B in the README accepts any value in [A, B] (a figure that varies
 *     between machines, and the README says so by showing the range);
 *   - any other number must agree to one unit in its last digit as written (the tools print
 *     only the digits their error estimates support, so two correct runs differ by at most
 *     that);
 *   - a number followed by a time unit or a thread count ("0.59 s", "84 samples/s",
 *     "101907 points/s", "2 threads") is a property of the machine and is not compared.
 * One "PASS: NAME: ..." or "FAIL: NAME: ..." line per expected line; exit 1 on any failure.
 *
 *   readme_compare --merge OUT1 OUT2 ...
 *
 * writes OUT1 with every figure that differs among the outputs' matching lines (the same
 * words, in order) replaced by the range min..max of its values, each end as printed: the
 * README block for a command run on several machines (or OpenBLAS kernels).  Machine
 * properties (times, thread counts) keep OUT1's value. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXL 4096
#define MAXTOK 256

typedef struct {
    double lo, hi;  /* the accepted interval (lo = hi - 2 tol for a plain number) */
    double v;       /* the value (of an actual line) */
    int skip;       /* a machine property */
} num;

/* A number starts here: a digit (or ".digit"), with an optional sign, not glued to a word
 * ("kappa_2", "sqrt2", "s4d"). */
static int num_start(const char *p, const char *line)
{
    char prev = p > line ? p[-1] : ' ';
    if (isalpha((unsigned char)prev) || prev == '_' || prev == '.') return 0;
    const char *q = p;
    if (*q == '-' || *q == '+') q++;
    return isdigit((unsigned char)*q) || (*q == '.' && isdigit((unsigned char)q[1]));
}

/* strtod, but "5..9" is the number 5 followed by "..": a trailing '.' before a '.' is not
 * part of the number. */
static char *number_end(const char *p, double *v)
{
    char *end;
    *v = strtod(p, &end);
    if (end > p && end[-1] == '.' && end[0] == '.') {
        end--;
        *v = strtod(p, NULL);
    }
    return end;
}

/* One unit in the last digit of the number written in [s, e). */
static double last_unit(const char *s, const char *e)
{
    const char *dot = NULL, *ex = NULL;
    for (const char *p = s; p < e; p++) {
        if (*p == '.') dot = p;
        if (*p == 'e' || *p == 'E') ex = p;
    }
    const char *mend = ex ? ex : e;
    int decimals = dot ? (int)(mend - dot - 1) : 0;
    int expo = ex ? atoi(ex + 1) : 0;
    return pow(10.0, (double)(expo - decimals));
}

static int machine_unit(const char *p)
{
    static const char *const units[] = {" s ", " s)", " s,", " s;", " s\n", " samples/s", " points/s", " thread",
                                        "s)", " s\0"};
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
        if (strncmp(p, units[k], strlen(units[k])) == 0) return 1;
    return strcmp(p, " s") == 0;
}

/* v within the interval, with a little slack for the decimal-binary round trip of its ends */
static int fits_in(double v, const num *e)
{
    double slack = 1e-12 * fmax(fabs(e->lo), fabs(e->hi));
    return v >= e->lo - slack && v <= e->hi + slack;
}

/* Split a line into its skeleton (numbers replaced by '#', runs of blanks by one) and its
 * numbers. */
static size_t parse(const char *line, char *skel, size_t skn, num *nums, int expected)
{
    size_t nn = 0, k = 0;
    const char *p = line;
    int blank = 0;
    while (*p && k + 2 < skn) {
        if (nn < MAXTOK && num_start(p, line)) {
            char *end = number_end(p, &(double){0});
            double v = strtod(p, NULL);
            num x = {v, v, v, 0};
            if (expected && end[0] == '.' && end[1] == '.') {
                double b = 0;
                char *end2 = number_end(end + 2, &b);
                if (end2 != end + 2) {
                    x.lo = fmin(v, b);
                    x.hi = fmax(v, b);
                    end = end2;
                }
            } else if (expected) {
                double u = last_unit(p, end);
                x.lo = v - u;
                x.hi = v + u;
            }
            x.skip = machine_unit(end);
            nums[nn++] = x;
            skel[k++] = '#';
            p = end;
            blank = 0;
            continue;
        }
        if (isspace((unsigned char)*p)) {
            if (!blank && k > 0) skel[k++] = ' ';
            blank = 1;
        } else {
            skel[k++] = *p;
            blank = 0;
        }
        p++;
    }
    while (k > 0 && skel[k - 1] == ' ') k--;
    skel[k] = '\0';
    return nn;
}


/* --- merge ------------------------------------------------------------------------------ */

typedef struct {
    char **text;
    size_t n;
} lines;

static lines read_lines(const char *path)
{
    lines L = {NULL, 0};
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "readme_compare: cannot open %s\n", path);
        exit(2);
    }
    char buf[MAXL];
    size_t cap = 0;
    while (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\n")] = '\0';
        if (L.n == cap) {
            cap = cap ? 2 * cap : 64;
            L.text = realloc(L.text, cap * sizeof *L.text);
        }
        L.text[L.n++] = strdup(buf);
    }
    fclose(f);
    return L;
}

/* The k-th number of a line: its text span [*s, *e) and value; 0 when there is none. */
static int nth_number(const char *line, size_t k, const char **s, const char **e, double *v)
{
    size_t seen = 0;
    for (const char *p = line; *p;) {
        if (num_start(p, line)) {
            double x = 0;
            char *end = number_end(p, &x);
            if (seen++ == k) {
                *s = p;
                *e = end;
                *v = x;
                return 1;
            }
            p = end;
        } else {
            p++;
        }
    }
    return 0;
}

static int merge(int nf, char **files)
{
    lines *L = malloc((size_t)nf * sizeof *L);
    for (int f = 0; f < nf; f++) L[f] = read_lines(files[f]);
    size_t *from = calloc((size_t)nf, sizeof *from);
    char skel[MAXL], skel2[MAXL];
    num tmp[MAXTOK];
    for (size_t i = 0; i < L[0].n; i++) {
        const char *line = L[0].text[i];
        size_t nn = parse(line, skel, sizeof skel, tmp, 0);
        /* the matching line of every other output */
        const char **match = calloc((size_t)nf, sizeof *match);
        match[0] = line;
        for (int f = 1; f < nf; f++)
            for (size_t j = from[f]; j < L[f].n && !match[f]; j++) {
                num t2[MAXTOK];
                if (parse(L[f].text[j], skel2, sizeof skel2, t2, 0) == nn && strcmp(skel, skel2) == 0) {
                    match[f] = L[f].text[j];
                    from[f] = j + 1;
                }
            }
        const char *p = line;
        for (size_t k = 0; k < nn; k++) {
            const char *s = p, *e = p;
            double v = 0;
            nth_number(line, k, &s, &e, &v);
            fwrite(p, 1, (size_t)(s - p), stdout);
            p = e;
            const char *los = s, *loe = e, *his = s, *hie = e;
            double lo = v, hi = v;
            int differ = 0;
            if (!machine_unit(e))
                for (int f = 1; f < nf; f++) {
                    const char *s2, *e2;
                    double v2;
                    if (!match[f] || !nth_number(match[f], k, &s2, &e2, &v2)) continue;
                    if ((size_t)(e2 - s2) != (size_t)(e - s) || strncmp(s2, s, (size_t)(e - s)) != 0) differ = 1;
                    if (v2 < lo) lo = v2, los = s2, loe = e2;
                    if (v2 > hi) hi = v2, his = s2, hie = e2;
                }
            fwrite(los, 1, (size_t)(loe - los), stdout);
            if (differ && lo != hi) {
                fputs("..", stdout);
                fwrite(his, 1, (size_t)(hie - his), stdout);
            }
        }
        fputs(p, stdout);
        fputc('\n', stdout);
        free(match);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--merge") == 0) return merge(argc - 2, argv + 2);
    if (argc != 4) {
        fprintf(stderr, "usage: readme_compare EXPECTED ACTUAL NAME\n");
        return 2;
    }
    FILE *fe = fopen(argv[1], "r"), *fa = fopen(argv[2], "r");
    if (!fe || !fa) {
        fprintf(stderr, "readme_compare: cannot open %s\n", !fe ? argv[1] : argv[2]);
        return 2;
    }
    /* the actual output, parsed once */
    size_t na = 0, cap = 64;
    char **askel = malloc(cap * sizeof *askel);
    num **anum = malloc(cap * sizeof *anum);
    size_t *acount = malloc(cap * sizeof *acount);
    char **atext = malloc(cap * sizeof *atext);
    char line[MAXL], skel[MAXL];
    while (fgets(line, sizeof line, fa)) {
        line[strcspn(line, "\n")] = '\0';
        if (na == cap) {
            cap *= 2;
            askel = realloc(askel, cap * sizeof *askel);
            anum = realloc(anum, cap * sizeof *anum);
            acount = realloc(acount, cap * sizeof *acount);
            atext = realloc(atext, cap * sizeof *atext);
        }
        anum[na] = malloc(MAXTOK * sizeof(num));
        acount[na] = parse(line, skel, sizeof skel, anum[na], 0);
        askel[na] = strdup(skel);
        atext[na] = strdup(line);
        na++;
    }
    size_t from = 0;
    int bad = 0, lineno = 0;
    num en[MAXTOK];
    while (fgets(line, sizeof line, fe)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        const char *t = line;
        while (isspace((unsigned char)*t)) t++;
        if (!*t || strcmp(t, "...") == 0) continue;
        /* a line that ends in "..." shows only its beginning */
        size_t len = strlen(line);
        int prefix = len >= 3 && strcmp(line + len - 3, "...") == 0;
        if (prefix) line[len - 3] = '\0';
        size_t ne = parse(line, skel, sizeof skel, en, 1);
        size_t sl = strlen(skel);
        /* the first line of the same words whose figures all fit; else the first of the same
         * words, to report against (rows of a table share their words) */
        size_t hit = na, first = na;
        for (size_t i = from; i < na && hit == na; i++) {
            int same = prefix ? strncmp(askel[i], skel, sl) == 0 && acount[i] >= ne
                              : strcmp(askel[i], skel) == 0 && acount[i] == ne;
            if (!same) continue;
            if (first == na) first = i;
            int fits = 1;
            for (size_t k = 0; k < ne && fits; k++) fits = en[k].skip || fits_in(anum[i][k].v, &en[k]);
            if (fits) hit = i;
        }
        if (first == na) {
            printf("FAIL: %s: line %d not printed: %s\n", argv[3], lineno, t);
            bad = 1;
            continue;
        }
        int ok = 1;
        if (hit == na) {
            for (size_t k = 0; k < ne && ok; k++) {
                if (en[k].skip || fits_in(anum[first][k].v, &en[k])) continue;
                printf("FAIL: %s: line %d, figure %zu: printed %.17g, README allows [%.17g, %.17g]\n    README: %s\n    "
                       "printed: %s\n",
                       argv[3], lineno, k + 1, anum[first][k].v, en[k].lo, en[k].hi, t, atext[first]);
                ok = 0;
            }
            bad = 1;
            hit = first;
        }
        if (ok) printf("PASS: %s: %.70s\n", argv[3], t);
        from = hit + 1;
    }
    for (size_t i = 0; i < na; i++) {
        free(askel[i]);
        free(anum[i]);
        free(atext[i]);
    }
    free(askel);
    free(anum);
    free(acount);
    free(atext);
    fclose(fe);
    fclose(fa);
    return bad;
}
