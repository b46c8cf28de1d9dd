/* mmio.c - Matrix Market reader and writer.
 *
 * The reader is strict: every line is split into whitespace-separated tokens and every
 * token must be consumed whole (strtod/strtoull with the end pointer checked), so that a
 * file either gives exactly the matrix its author meant or an error naming the line.
 * Departures from the NIST description, chosen to accept files other tools write:
 *   - comment ('%' in column 1) and blank lines are accepted anywhere after the banner;
 *   - CRLF line ends are accepted, as is a last line without a newline;
 *   - a symmetric / skew-symmetric / hermitian coordinate file may give an off-diagonal
 *     entry in either triangle (it is mirrored), but each pair only once.
 * Numbers are read and written in the "C" locale whatever the caller's locale, so a
 * program that called setlocale() still round-trips (decimal point, not comma).
 */
#define _POSIX_C_SOURCE 200809L /* newlocale/uselocale, getc_unlocked, flockfile */
#include "config.h"
#include "internal.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Longest line accepted.  The NIST format limits lines to 1024 characters; a complex
 * coordinate entry at 17 digits needs about 60.  Longer comment lines are skipped whole;
 * a longer data line is an error (never a buffer overrun). */
#define MM_LINE_MAX 4096
/* More tokens than any Matrix Market line has (complex coordinate: 4; banner: 5). */
#define MM_TOKENS_MAX 6

enum mm_format { MM_COORDINATE, MM_ARRAY };
enum mm_field { MM_REAL, MM_INTEGER, MM_COMPLEX, MM_PATTERN };
enum mm_symmetry { MM_GENERAL, MM_SYMMETRIC, MM_SKEW, MM_HERMITIAN };

static const char *const symmetry_name[] = {"general", "symmetric", "skew-symmetric",
                                            "hermitian"};

typedef struct {
    FILE *f;
    const char *name;
    unsigned long line;      /* number of the line in buf, 1-based */
    char buf[MM_LINE_MAX + 1];
    size_t len;
    int too_long;            /* the line had more than MM_LINE_MAX characters */
    int has_nul;             /* the line held a NUL byte */
    char *tok[MM_TOKENS_MAX];
    size_t ntok;             /* tokens on the line (may exceed MM_TOKENS_MAX) */
    const char *extra;       /* first token beyond those asked for, if any */
} mm_reader;

/* Record "NAME:LINE: reason" as a PTD_EFORMAT error. */
static int fail_at(const mm_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail_at(const mm_reader *r, const char *fmt, ...)
{
    char reason[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return ptd_error(PTD_EFORMAT, "%s:%lu: %s", r->name, r->line, reason);
}

/* Tokens quoted in messages are cut to this many characters (a message is one line). */
#define TOK_SHOW 40
#define SHOW(t) TOK_SHOW, (t), (strlen(t) > TOK_SHOW ? "..." : "")

/* Read the next line into r->buf.  Returns 1 for a line, 0 at end of file, or a negative
 * status (PTD_EIO already recorded) on a read error. */
static int read_line(mm_reader *r)
{
    int c;
    size_t len = 0;
    int any = 0;
    r->too_long = 0;
    r->has_nul = 0;
    errno = 0;
    while ((c = getc_unlocked(r->f)) != EOF) {
        any = 1;
        if (c == '\n') break;
        if (c == '\0') r->has_nul = 1;
        if (len < MM_LINE_MAX) r->buf[len++] = (char)c;
        else r->too_long = 1;
    }
    if (c == EOF && ferror(r->f)) {
        int e = errno;
        return -ptd_error(PTD_EIO, "%s: read error after line %lu: %s", r->name, r->line,
                          e ? strerror(e) : "unknown error");
    }
    if (!any) return 0;
    if (len > 0 && r->buf[len - 1] == '\r') len--;
    r->buf[len] = '\0';
    r->len = len;
    r->line++;
    return 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Split r->buf in place; the first MM_TOKENS_MAX tokens are kept. */
static void tokenize(mm_reader *r)
{
    char *p = r->buf;
    r->ntok = 0;
    for (;;) {
        while (is_space(*p)) p++;
        if (!*p) break;
        char *start = p;
        while (*p && !is_space(*p)) p++;
        if (r->ntok < MM_TOKENS_MAX) r->tok[r->ntok] = start;
        r->ntok++;
        if (!*p) break;
        *p++ = '\0';
    }
}

/* The next line holding data: skips comments and blank lines.  Returns 1 with the line
 * tokenized, 0 at end of file, or a negative status on error. */
static int next_data_line(mm_reader *r)
{
    for (;;) {
        int got = read_line(r);
        if (got <= 0) return got;
        if (r->buf[0] == '%') continue; /* comment; a too-long one is skipped whole */
        if (r->too_long)
            return -fail_at(r, "line longer than %d characters", MM_LINE_MAX);
        if (r->has_nul) return -fail_at(r, "NUL byte in line");
        tokenize(r);
        if (r->ntok > 0) return 1;
    }
}

/* Check that the line holds exactly `want` tokens; `what` names them in the message. */
static int expect_tokens(const mm_reader *r, size_t want, const char *what)
{
    if (r->ntok < want)
        return fail_at(r, "expected %zu numbers%s, found %zu", want, what, r->ntok);
    if (r->ntok > want)
        return fail_at(r, "trailing text '%.*s%s' after the %zu expected numbers%s",
                       SHOW(r->tok[want < MM_TOKENS_MAX ? want : MM_TOKENS_MAX - 1]), want,
                       what);
    return PTD_OK;
}

/* ASCII case-insensitive equality; strcasecmp follows the locale (Turkish dotless i). */
static int word_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
        char y = (*b >= 'A' && *b <= 'Z') ? (char)(*b - 'A' + 'a') : *b;
        if (x != y) return 0;
    }
    return *a == *b;
}

static int all_digits(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

/* A non-negative decimal integer, digits only.  0 ok, -1 not an integer, -2 too large. */
static int parse_count(const char *tok, unsigned long long *v)
{
    if (!all_digits(tok)) return -1;
    errno = 0;
    char *end;
    *v = strtoull(tok, &end, 10);
    if (*end) return -1;
    if (errno == ERANGE) return -2;
    return 0;
}

/* A finite real number in decimal notation.  With `integer`, an optionally signed
 * integer (the Matrix Market integer field). */
static int parse_value(const mm_reader *r, const char *tok, int integer, double *v)
{
    int plain = 1;
    for (const char *p = tok; *p; p++) {
        int ok = (*p >= '0' && *p <= '9') || *p == '+' || *p == '-';
        if (!integer) ok = ok || *p == '.' || *p == 'e' || *p == 'E';
        if (!ok) plain = 0;
    }
    char *end;
    errno = 0;
    double x = strtod(tok, &end);
    int whole = end != tok && *end == '\0';
    if (!plain) {
        if (whole && !isfinite(x))
            return fail_at(r, "value '%.*s%s' is not finite (NaN and infinity are not "
                              "accepted)", SHOW(tok));
        if (integer && whole)
            return fail_at(r, "value '%.*s%s' is not an integer (the field is 'integer')",
                           SHOW(tok));
        return fail_at(r, "value '%.*s%s' is not a number", SHOW(tok));
    }
    if (!whole || (integer && !all_digits(tok + (*tok == '+' || *tok == '-'))))
        return fail_at(r, "value '%.*s%s' is not a%s number", SHOW(tok),
                       integer ? "n integer" : "");
    if (errno == ERANGE && isinf(x))
        return fail_at(r, "value '%.*s%s' overflows the double range", SHOW(tok));
    /* ERANGE with a finite x is underflow: x is the correctly rounded subnormal or 0. */
    *v = x;
    return PTD_OK;
}

/* A 1-based index in 1..limit; stores it 0-based. */
static int parse_index(const mm_reader *r, const char *tok, const char *what, size_t limit,
                       size_t *idx)
{
    unsigned long long v;
    int rc = parse_count(tok, &v);
    if (rc == -1)
        return fail_at(r, "%s index '%.*s%s' is not a positive integer", what, SHOW(tok));
    if (rc == -2 || v < 1 || v > limit)
        return fail_at(r, "%s index %.*s%s out of range 1..%zu", what, SHOW(tok), limit);
    *idx = (size_t)(v - 1);
    return PTD_OK;
}

typedef struct {
    enum mm_format format;
    enum mm_field field;
    enum mm_symmetry symmetry;
} mm_header;

static int parse_banner(mm_reader *r, mm_header *h)
{
    static const char banner[] = "%%MatrixMarket";
    const size_t blen = sizeof banner - 1;
    /* the banner must be the first line, starting in column 1 */
    int is_banner = r->len >= blen;
    for (size_t k = 0; is_banner && k < blen; k++) {
        char c = r->buf[k];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        char b = banner[k];
        if (b >= 'A' && b <= 'Z') b = (char)(b - 'A' + 'a');
        if (c != b) is_banner = 0;
    }
    if (is_banner && r->len > blen && !is_space(r->buf[blen])) is_banner = 0;
    if (!is_banner)
        return fail_at(r, "not a Matrix Market file (no %%%%MatrixMarket banner)");
    if (r->too_long) return fail_at(r, "banner line longer than %d characters", MM_LINE_MAX);
    if (r->has_nul) return fail_at(r, "NUL byte in the banner line");
    tokenize(r);
    if (r->ntok < 5)
        return fail_at(r, "incomplete banner: want '%%%%MatrixMarket matrix "
                          "coordinate|array real|integer|complex|pattern "
                          "general|symmetric|skew-symmetric|hermitian'");
    if (r->ntok > 5)
        return fail_at(r, "trailing text '%.*s%s' after the banner", SHOW(r->tok[5]));
    if (!word_eq(r->tok[1], "matrix"))
        return fail_at(r, "object '%.*s%s' not supported (only 'matrix')", SHOW(r->tok[1]));

    const char *t = r->tok[2];
    if (word_eq(t, "coordinate")) h->format = MM_COORDINATE;
    else if (word_eq(t, "array")) h->format = MM_ARRAY;
    else return fail_at(r, "format '%.*s%s' unknown (want coordinate or array)", SHOW(t));

    t = r->tok[3];
    if (word_eq(t, "real")) h->field = MM_REAL;
    else if (word_eq(t, "integer")) h->field = MM_INTEGER;
    else if (word_eq(t, "complex")) h->field = MM_COMPLEX;
    else if (word_eq(t, "pattern")) h->field = MM_PATTERN;
    else
        return fail_at(r, "field '%.*s%s' unknown (want real, integer, complex or pattern)",
                       SHOW(t));

    t = r->tok[4];
    if (word_eq(t, "general")) h->symmetry = MM_GENERAL;
    else if (word_eq(t, "symmetric")) h->symmetry = MM_SYMMETRIC;
    else if (word_eq(t, "skew-symmetric")) h->symmetry = MM_SKEW;
    else if (word_eq(t, "hermitian")) h->symmetry = MM_HERMITIAN;
    else
        return fail_at(r, "symmetry '%.*s%s' unknown (want general, symmetric, "
                          "skew-symmetric or hermitian)", SHOW(t));

    /* the combinations the format rules out */
    if (h->format == MM_ARRAY && h->field == MM_PATTERN)
        return fail_at(r, "an array file cannot have the pattern field");
    if (h->symmetry == MM_HERMITIAN && h->field != MM_COMPLEX)
        return fail_at(r, "hermitian symmetry needs the complex field");
    if (h->symmetry == MM_SKEW && h->field == MM_PATTERN)
        return fail_at(r, "a pattern file cannot be skew-symmetric");
    return PTD_OK;
}

/* Check entry (i, j) = v against the file's symmetry.  `seen`, for coordinate files, marks
 * positions already given (NULL for array files, whose order makes duplicates impossible). */
static int check_entry(const mm_reader *r, const mm_header *h, size_t rows, unsigned char *seen,
                       size_t i, size_t j, double complex v)
{
    if (h->symmetry != MM_GENERAL && i == j) {
        if (h->symmetry == MM_SKEW && v != 0)
            return fail_at(r, "diagonal entry (%zu, %zu) of a skew-symmetric matrix must "
                              "be zero", i + 1, j + 1);
        if (h->symmetry == MM_HERMITIAN && cimag(v) != 0)
            return fail_at(r, "diagonal entry (%zu, %zu) of a hermitian matrix must be "
                              "real (imaginary part %.17g)", i + 1, j + 1, cimag(v));
    }
    if (seen) {
        size_t k = i + j * rows;
        if (seen[k / 8] & (1u << (k % 8))) {
            if (h->symmetry == MM_GENERAL || i == j)
                return fail_at(r, "duplicate entry (%zu, %zu): given on an earlier line",
                               i + 1, j + 1);
            return fail_at(r, "duplicate entry (%zu, %zu): it or its mirror (%zu, %zu) was "
                              "given on an earlier line of this %s file", i + 1, j + 1,
                           j + 1, i + 1, symmetry_name[h->symmetry]);
        }
        seen[k / 8] |= (unsigned char)(1u << (k % 8));
        if (h->symmetry != MM_GENERAL) {
            k = j + i * rows;
            seen[k / 8] |= (unsigned char)(1u << (k % 8));
        }
    }
    return PTD_OK;
}

/* Store entry (i, j) = v and its mirror image under the file's symmetry. */
static void store_entry(const mm_header *h, ptd_matrix *m, size_t i, size_t j, double complex v)
{
    PTD_AT(m, i, j) = v;
    if (i != j) {
        switch (h->symmetry) {
        case MM_GENERAL: break;
        case MM_SYMMETRIC: PTD_AT(m, j, i) = v; break;
        case MM_SKEW: PTD_AT(m, j, i) = -v; break;
        case MM_HERMITIAN: PTD_AT(m, j, i) = conj(v); break;
        }
    }
}

/* A coordinate file's entry, kept until the file is read to its end. */
typedef struct {
    uint32_t i, j;
    double complex v;
    unsigned long line; /* for the sparse reader's duplicate check */
} mm_entry;

/* The values of one entry, starting at token `first`. */
static int parse_entry_value(const mm_reader *r, const mm_header *h, size_t first,
                             double complex *v)
{
    double re = 1, im = 0;
    int status = PTD_OK;
    if (h->field != MM_PATTERN)
        status = parse_value(r, r->tok[first], h->field == MM_INTEGER, &re);
    if (!status && h->field == MM_COMPLEX) status = parse_value(r, r->tok[first + 1], 0, &im);
    if (!status) *v = CMPLX(re, im);
    return status;
}

static size_t values_per_entry(enum mm_field field)
{
    return field == MM_PATTERN ? 0 : field == MM_COMPLEX ? 2 : 1;
}

static int csr_build(const mm_reader *r, const mm_header *h, size_t rows, size_t cols, mm_entry *ent, size_t count,
                     ptd_csr **out);

/* The dense matrix into *out, or (csr not NULL: ptd_csr_read) the sparse one into *csr. */
static int read_body(mm_reader *r, ptd_matrix **out, ptd_csr **csr)
{
    const size_t dim_max = csr ? PTD_CSR_MAX_N : PTD_ZOO_MAX_N;
    mm_header h;
    int got = read_line(r);
    if (got < 0) return -got;
    if (got == 0) return ptd_error(PTD_EFORMAT, "%s: empty file (no %%%%MatrixMarket banner)",
                                   r->name);
    int status = parse_banner(r, &h);
    if (status) return status;

    /* size line */
    got = next_data_line(r);
    if (got < 0) return -got;
    if (got == 0) return ptd_error(PTD_EFORMAT, "%s: file ends before the size line", r->name);
    const int coord = h.format == MM_COORDINATE;
    status = expect_tokens(r, coord ? 3 : 2,
                           coord ? " (rows columns entries)" : " (rows columns)");
    if (status) return status;
    unsigned long long dim[3] = {0, 0, 0};
    static const char *const dim_name[] = {"row count", "column count", "entry count"};
    for (size_t k = 0; k < (coord ? 3u : 2u); k++) {
        int rc = parse_count(r->tok[k], &dim[k]);
        if (rc == -1)
            return fail_at(r, "%s '%.*s%s' is not a non-negative integer", dim_name[k],
                           SHOW(r->tok[k]));
        if (k < 2 && (rc == -2 || dim[k] < 1 || dim[k] > dim_max))
            return fail_at(r, "%s %.*s%s out of range 1..%zu", dim_name[k], SHOW(r->tok[k]),
                           dim_max);
        if (rc == -2) return fail_at(r, "%s %.*s%s too large", dim_name[k], SHOW(r->tok[k]));
    }
    const size_t rows = (size_t)dim[0], cols = (size_t)dim[1];
    if (csr && !coord)
        return fail_at(r, "an array file is dense: a sparse matrix needs a coordinate file");
    if (h.symmetry != MM_GENERAL && rows != cols)
        return fail_at(r, "a %s matrix must be square, not %zu x %zu",
                       symmetry_name[h.symmetry], rows, cols);
    /* entries the file holds: at most one per position it may name (both triangles may
     * be named in a coordinate file, but each pair only once) */
    size_t total;
    if (h.symmetry == MM_GENERAL) total = rows * cols;
    else if (coord || h.symmetry != MM_SKEW) total = rows * (rows + 1) / 2;
    else total = rows * (rows - 1) / 2;
    if (coord) {
        if (dim[2] > total)
            return fail_at(r, "entry count %llu exceeds the %zu positions of a %zu x %zu %s "
                              "matrix", dim[2], total, rows, cols, symmetry_name[h.symmetry]);
        total = (size_t)dim[2];
    }

    /* Storage follows the entries that arrive, never the size line alone (a few bytes can
     * declare 8192 x 8192): an array file's values come in increasing column-major
     * position, so its matrix grows as they come and is mirrored at the end; a coordinate
     * file's entries are kept in a list and placed once the file has been read whole (only
     * its bitmap of positions seen, rows * cols / 8 bytes, is allocated first). */
    ptd_matrix *m = calloc(1, sizeof *m);
    mm_entry *ent = NULL;
    size_t cap = 0, filled = 0; /* array: positions of m->data written; coordinate: entries */
    /* (the sparse reader finds duplicates by sorting: no bitmap of rows * cols) */
    unsigned char *seen = coord && !csr ? calloc(rows * cols / 8 + 1, 1) : NULL;
    if (!m || (coord && !csr && !seen)) {
        free(seen);
        free(m);
        return ptd_error(PTD_ENOMEM, "%s: out of memory for a %zu x %zu matrix", r->name,
                         rows, cols);
    }
    m->rows = rows, m->cols = cols;
    const size_t npos = rows * cols;

    const size_t nval = values_per_entry(h.field);
    size_t i = 0, j = 0; /* array files: next position, column-major */
    if (!coord && h.symmetry == MM_SKEW) i = 1;
    for (size_t e = 0; e < total && !status; e++) {
        got = next_data_line(r);
        if (got < 0) {
            status = -got;
            break;
        }
        if (got == 0) {
            status = ptd_error(PTD_EFORMAT, "%s: file ends after %zu of %zu entries", r->name,
                               e, total);
            break;
        }
        double complex v;
        if (coord) {
            status = expect_tokens(r, 2 + nval, "");
            if (!status) status = parse_index(r, r->tok[0], "row", rows, &i);
            if (!status) status = parse_index(r, r->tok[1], "column", cols, &j);
            if (!status) status = parse_entry_value(r, &h, 2, &v);
            if (!status) status = check_entry(r, &h, rows, seen, i, j, v);
            if (!status && ptdi_grow((void **)&ent, &cap, filled + 1, total, sizeof *ent))
                status = ptd_error(PTD_ENOMEM, "%s: out of memory at entry %zu", r->name, e + 1);
            if (!status) ent[filled++] = (mm_entry){(uint32_t)i, (uint32_t)j, v, r->line};
        } else {
            status = expect_tokens(r, nval, "");
            if (!status) status = parse_entry_value(r, &h, 0, &v);
            if (!status) status = check_entry(r, &h, rows, NULL, i, j, v);
            size_t k = i + j * rows;
            if (!status && ptdi_grow((void **)&m->data, &cap, k + 1, npos, sizeof *m->data))
                status = ptd_error(PTD_ENOMEM, "%s: out of memory at entry %zu", r->name, e + 1);
            if (!status) {
                memset(m->data + filled, 0, (k - filled) * sizeof *m->data);
                m->data[k] = v;
                filled = k + 1;
            }
            /* next position: down the column, then to the next column's first row that
             * the file stores (the diagonal, or below it for skew-symmetric) */
            if (++i == rows) {
                j++;
                i = h.symmetry == MM_GENERAL ? 0 : h.symmetry == MM_SKEW ? j + 1 : j;
            }
        }
    }
    if (!status) {
        got = next_data_line(r);
        if (got < 0) status = -got;
        else if (got > 0)
            status = fail_at(r, "data after the last entry (the size line promised %zu "
                                "entries)", total);
    }
    free(seen);
    if (csr) {
        free(m);
        if (!status) status = csr_build(r, &h, rows, cols, ent, filled, csr);
        free(ent);
        return status;
    }
    if (!status) {
        /* the file is whole: the rest of the storage (calloc'd for a coordinate file, whose
         * zeros then cost no memory until touched), then the entries' places */
        void *data = m->data;
        size_t have = cap;
        if (coord ? !(m->data = calloc(npos, sizeof *m->data))
                  : ptdi_grow(&data, &have, npos, npos, sizeof *m->data))
            status = ptd_error(PTD_ENOMEM, "%s: out of memory for a %zu x %zu matrix", r->name,
                               rows, cols);
        else if (!coord) {
            m->data = data;
            memset(m->data + filled, 0, (npos - filled) * sizeof *m->data);
        }
    }
    if (!status) {
        if (coord) {
            for (size_t e = 0; e < filled; e++) store_entry(&h, m, ent[e].i, ent[e].j, ent[e].v);
        } else if (h.symmetry != MM_GENERAL) {
            for (size_t jj = 0; jj < cols; jj++)
                for (size_t ii = jj; ii < rows; ii++) store_entry(&h, m, ii, jj, PTD_AT(m, ii, jj));
        }
    }
    free(ent);
    if (status) {
        ptd_matrix_free(m);
        return status;
    }
    *out = m;
    return PTD_OK;
}

/* Either reader on f in the "C" locale, the stream locked. */
static int read_file(FILE *f, const char *name, ptd_matrix **out, ptd_csr **csr)
{
    locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (c_locale == (locale_t)0)
        return ptd_error(PTD_ENOMEM, "%s: cannot create the C locale", name);
    locale_t old = uselocale(c_locale);

    mm_reader *r = malloc(sizeof *r);
    int status;
    if (!r) {
        status = ptd_error(PTD_ENOMEM, "%s: out of memory", name);
    } else {
        r->f = f;
        r->name = name;
        r->line = 0;
        flockfile(f);
        status = read_body(r, out, csr);
        funlockfile(f);
        free(r);
    }
    uselocale(old);
    freelocale(c_locale);
    return status;
}

int ptd_mm_read(FILE *f, const char *name, ptd_matrix **out)
{
    ptd_clear_error();
    if (!out) return ptd_error(PTD_EINVAL, "ptd_mm_read: out is NULL");
    *out = NULL;
    if (!name) name = "(input)";
    if (!f) return ptd_error(PTD_EINVAL, "%s: ptd_mm_read: file is NULL", name);
    return read_file(f, name, out, NULL);
}

static int entry_cmp(const void *a, const void *b)
{
    const mm_entry *x = a, *y = b;
    if (x->i != y->i) return x->i < y->i ? -1 : 1;
    if (x->j != y->j) return x->j < y->j ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* The entries (and their mirrors under the file's symmetry) as CSR, sorted by column within
 * each row; a position given twice (directly or as a mirror) is an error naming the later line. */
static int csr_build(const mm_reader *r, const mm_header *h, size_t rows, size_t cols, mm_entry *ent, size_t count,
                     ptd_csr **out)
{
    size_t extra = 0;
    if (h->symmetry != MM_GENERAL)
        for (size_t e = 0; e < count; e++) extra += ent[e].i != ent[e].j;
    mm_entry *all = malloc((count + extra + 1) * sizeof *all);
    ptd_csr *A = calloc(1, sizeof *A);
    if (!all || !A) {
        free(all);
        free(A);
        return ptd_error(PTD_ENOMEM, "%s: out of memory for %zu entries", r->name, count + extra);
    }
    size_t t = 0;
    for (size_t e = 0; e < count; e++) {
        all[t++] = ent[e];
        if (h->symmetry == MM_GENERAL || ent[e].i == ent[e].j) continue;
        double complex v = ent[e].v;
        v = h->symmetry == MM_SKEW ? -v : h->symmetry == MM_HERMITIAN ? conj(v) : v;
        all[t++] = (mm_entry){ent[e].j, ent[e].i, v, ent[e].line};
    }
    qsort(all, t, sizeof *all, entry_cmp);
    for (size_t e = 1; e < t; e++)
        if (all[e].i == all[e - 1].i && all[e].j == all[e - 1].j) {
            unsigned long line = all[e].line > all[e - 1].line ? all[e].line : all[e - 1].line;
            size_t i = all[e].i + 1, j = all[e].j + 1;
            free(all);
            free(A);
            return ptd_error(PTD_EFORMAT, "%s:%lu: duplicate entry (%zu, %zu)%s", r->name, line, i, j,
                             h->symmetry == MM_GENERAL ? ": given on an earlier line"
                                                       : ": it or its mirror was given on another line");
        }
    A->rows = rows;
    A->cols = cols;
    A->nnz = t;
    A->rowptr = calloc(rows + 1, sizeof *A->rowptr);
    A->colind = malloc((t + 1) * sizeof *A->colind);
    A->val = malloc((t + 1) * sizeof *A->val);
    if (!A->rowptr || !A->colind || !A->val) {
        free(all);
        ptd_csr_free(A);
        return ptd_error(PTD_ENOMEM, "%s: out of memory for %zu entries", r->name, t);
    }
    for (size_t e = 0; e < t; e++) {
        A->rowptr[all[e].i + 1]++;
        A->colind[e] = all[e].j;
        A->val[e] = all[e].v;
    }
    for (size_t i = 0; i < rows; i++) A->rowptr[i + 1] += A->rowptr[i];
    free(all);
    *out = A;
    return PTD_OK;
}

int ptd_csr_read(FILE *f, const char *name, ptd_csr **out)
{
    ptd_clear_error();
    if (!out) return ptd_error(PTD_EINVAL, "ptd_csr_read: out is NULL");
    *out = NULL;
    if (!name) name = "(input)";
    if (!f) return ptd_error(PTD_EINVAL, "%s: ptd_csr_read: file is NULL", name);
    return read_file(f, name, NULL, out);
}

int ptd_mm_write(FILE *f, const ptd_matrix *m)
{
    ptd_clear_error();
    if (!f || !m || !m->data || m->rows == 0 || m->cols == 0)
        return ptd_error(PTD_EINVAL, "ptd_mm_write: no file or no matrix");
    /* NaN and infinity have no Matrix Market spelling the reader accepts: refuse before
     * writing anything rather than write a file that cannot be read back. */
    for (size_t j = 0; j < m->cols; j++)
        for (size_t i = 0; i < m->rows; i++) {
            double complex v = PTD_AT(m, i, j);
            if (!isfinite(creal(v)) || !isfinite(cimag(v)))
                return ptd_error(PTD_EINVAL, "ptd_mm_write: entry (%zu, %zu) is not finite",
                                 i + 1, j + 1);
        }

    locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (c_locale == (locale_t)0)
        return ptd_error(PTD_ENOMEM, "ptd_mm_write: cannot create the C locale");
    locale_t old = uselocale(c_locale);

    errno = 0;
    int bad = fprintf(f, "%%%%MatrixMarket matrix array complex general\n%zu %zu\n", m->rows,
                      m->cols) < 0;
    for (size_t j = 0; j < m->cols && !bad; j++)
        for (size_t i = 0; i < m->rows && !bad; i++) {
            double complex v = PTD_AT(m, i, j);
            /* 17 significant digits identify every double; glibc prints exactly and its
             * strtod rounds correctly, so the round trip is the identity (-0 included). */
            bad = fprintf(f, "%.17g %.17g\n", creal(v), cimag(v)) < 0;
        }
    int e = errno;
    if (!bad && fflush(f) != 0) {
        bad = 1;
        e = errno;
    }
    if (!bad && ferror(f)) bad = 1;

    uselocale(old);
    freelocale(c_locale);
    if (bad)
        return ptd_error(PTD_EIO, "ptd_mm_write: write failed: %s",
                         e ? strerror(e) : "unknown error");
    return PTD_OK;
}
