/* data.c - data sets for the training loop: IDX files (Fashion-MNIST) through zlib, and the
 * ListOps generator and evaluator of the Long Range Arena. */
#include "config.h"
#include "internal.h"

#include <errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <zlib.h>

void ptd_dataset_free(ptd_dataset *d)
{
    if (!d) return;
    free(d->x);
    free(d->y);
    free(d);
}

static ptd_dataset *dataset_alloc(size_t n, size_t len, size_t din, size_t nclass)
{
    ptd_dataset *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->n = n, d->len = len, d->din = din, d->nclass = nclass;
    d->x = malloc((n ? n : 1) * len * din * sizeof *d->x);
    d->y = malloc((n ? n : 1) * sizeof *d->y);
    if (!d->x || !d->y) {
        ptd_dataset_free(d);
        return NULL;
    }
    return d;
}

int ptd_dataset_subset(const ptd_dataset *d, const size_t *idx, size_t m, ptd_dataset **out)
{
    *out = NULL;
    ptd_clear_error();
    ptd_dataset *s = dataset_alloc(m, d->len, d->din, d->nclass);
    if (!s) return ptd_error(PTD_ENOMEM, "out of memory for a subset of %zu sequences", m);
    size_t row = d->len * d->din;
    for (size_t i = 0; i < m; i++) {
        if (idx[i] >= d->n) {
            ptd_dataset_free(s);
            return ptd_error(PTD_EINVAL, "subset index %zu beyond the %zu sequences", idx[i], d->n);
        }
        memcpy(s->x + i * row, d->x + idx[i] * row, row * sizeof *s->x);
        s->y[i] = d->y[idx[i]];
    }
    memcpy(s->name, d->name, sizeof s->name);
    *out = s;
    return PTD_OK;
}

int ptd_dataset_split(const ptd_dataset *d, size_t nval, unsigned long seed, ptd_dataset **train,
                      ptd_dataset **val)
{
    *train = *val = NULL;
    if (nval >= d->n) return ptd_error(PTD_EINVAL, "validation split of %zu leaves no training data (of %zu)", nval, d->n);
    size_t *perm = malloc(d->n * sizeof *perm);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!perm || !r) {
        free(perm);
        gsl_rng_free(r);
        return ptd_error(PTD_ENOMEM, "out of memory");
    }
    gsl_rng_set(r, seed);
    for (size_t i = 0; i < d->n; i++) perm[i] = i;
    gsl_ran_shuffle(r, perm, d->n, sizeof *perm);
    gsl_rng_free(r);
    int st = ptd_dataset_subset(d, perm, d->n - nval, train);
    if (!st) st = ptd_dataset_subset(d, perm + d->n - nval, nval, val);
    free(perm);
    if (st) {
        ptd_dataset_free(*train);
        *train = NULL;
    }
    return st;
}

/* ---- IDX ------------------------------------------------------------------------- */

int ptd_data_idx_read(const char *path, size_t *dims, size_t *ndims, unsigned char **data)
{
    *data = NULL;
    *ndims = 0;
    ptd_clear_error();
    gzFile f = gzopen(path, "rb");
    if (!f) return ptd_error(PTD_EIO, "%s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
    unsigned char h[4];
    int got = gzread(f, h, 4);
    int st = PTD_OK;
    int errnum;
    if (got != 4) {
        st = ptd_error(PTD_EFORMAT, "%s: not an IDX file: %s", path,
                       got < 0 ? gzerror(f, &errnum) : "shorter than its 4-byte header");
        goto done;
    }
    if (h[0] != 0 || h[1] != 0 || h[3] < 1 || h[3] > 4) {
        st = ptd_error(PTD_EFORMAT, "%s: not an IDX file (magic %02x %02x %02x %02x; want 00 00 08 1..4)", path,
                       h[0], h[1], h[2], h[3]);
        goto done;
    }
    if (h[2] != 0x08) {
        st = ptd_error(PTD_EFORMAT, "%s: IDX element type 0x%02x; only unsigned bytes (0x08) are read", path, h[2]);
        goto done;
    }
    size_t total = 1;
    for (unsigned k = 0; k < h[3]; k++) {
        unsigned char b[4];
        if (gzread(f, b, 4) != 4) {
            st = ptd_error(PTD_EFORMAT, "%s: truncated IDX header (dimension %u missing)", path, k + 1);
            goto done;
        }
        dims[k] = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
        if (dims[k] == 0 || total > ((size_t)1 << 32) / dims[k]) {
            st = ptd_error(PTD_EFORMAT, "%s: IDX dimension %u is %zu: empty or too large", path, k + 1, dims[k]);
            goto done;
        }
        total *= dims[k];
    }
    *ndims = h[3];
    /* The buffer grows with the data that arrives (a header can declare 4 GiB over a few
     * bytes; a gzip stream's size is known only by inflating it). */
    unsigned char *buf = NULL;
    size_t have = 0, cap = 0;
    while (have < total) {
        if (ptdi_grow((void **)&buf, &cap, have + 1, total, 1)) {
            st = ptd_error(PTD_ENOMEM, "%s: out of memory after %zu of %zu bytes", path, have, total);
            break;
        }
        size_t want = cap - have;
        unsigned chunk = want > (1u << 30) ? (1u << 30) : (unsigned)want;
        int r = gzread(f, buf + have, chunk);
        if (r < 0) {
            st = ptd_error(PTD_EFORMAT, "%s: %s", path, gzerror(f, &errnum));
            break;
        }
        if (r == 0) {
            st = ptd_error(PTD_EFORMAT, "%s: truncated: %zu of %zu data bytes", path, have, total);
            break;
        }
        have += (size_t)r;
    }
    if (!st) {
        unsigned char extra;
        int r = gzread(f, &extra, 1);
        if (r > 0) st = ptd_error(PTD_EFORMAT, "%s: data beyond the %zu bytes its header declares", path, total);
        else if (r < 0) st = ptd_error(PTD_EFORMAT, "%s: %s", path, gzerror(f, &errnum));
    }
    if (st) free(buf);
    else *data = buf;
done:
    gzclose(f);
    if (st) *ndims = 0;
    return st;
}

int ptd_data_fmnist_load(const char *dir, int test, ptd_dataset **out)
{
    *out = NULL;
    ptd_clear_error();
    if (!dir) dir = PTD_FMNIST_DIR;
    const char *pre = test ? "t10k" : "train";
    char pi[4096], pl[4096];
    snprintf(pi, sizeof pi, "%s/%s-images-idx3-ubyte.gz", dir, pre);
    snprintf(pl, sizeof pl, "%s/%s-labels-idx1-ubyte.gz", dir, pre);
    size_t di[4], dl[4], ni, nl;
    unsigned char *img, *lab;
    int st = ptd_data_idx_read(pi, di, &ni, &img);
    if (st) return st;
    if (ni != 3 || di[1] != 28 || di[2] != 28) {
        free(img);
        if (ni != 3) return ptd_error(PTD_EFORMAT, "%s: want images of 28 x 28, got %zu dimensions", pi, ni);
        return ptd_error(PTD_EFORMAT, "%s: want images of 28 x 28, got %zu x %zu", pi, di[1], di[2]);
    }
    st = ptd_data_idx_read(pl, dl, &nl, &lab);
    if (st) {
        free(img);
        return st;
    }
    if (nl != 1 || dl[0] != di[0]) {
        free(img);
        free(lab);
        return ptd_error(PTD_EFORMAT, "%s: %zu labels for %zu images", pl, nl == 1 ? dl[0] : 0, di[0]);
    }
    size_t n = di[0], len = 784;
    ptd_dataset *d = dataset_alloc(n, len, 1, 10);
    if (!d) {
        free(img);
        free(lab);
        return ptd_error(PTD_ENOMEM, "out of memory for %zu images", n);
    }
    for (size_t i = 0; i < n; i++) {
        if (lab[i] > 9) {
            unsigned bad = lab[i]; /* read before the buffer is freed */
            free(img);
            free(lab);
            ptd_dataset_free(d);
            return ptd_error(PTD_EFORMAT, "%s: label %u of item %zu is not a class 0..9", pl, bad, i);
        }
        d->y[i] = lab[i];
        for (size_t t = 0; t < len; t++)
            d->x[i * len + t] = (float)((img[i * len + t] / 255.0 - PTD_FMNIST_MEAN) / PTD_FMNIST_STD);
    }
    snprintf(d->name, sizeof d->name, "sfmnist-%s", test ? "test" : "train");
    free(img);
    free(lab);
    *out = d;
    return PTD_OK;
}

/* ---- ListOps ----------------------------------------------------------------------- */

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int apply_op(int op, int *v, size_t n)
{
    int r = 0;
    switch (op) {
    case PTD_LISTOPS_MIN:
        r = v[0];
        for (size_t i = 1; i < n; i++) r = v[i] < r ? v[i] : r;
        break;
    case PTD_LISTOPS_MAX:
        r = v[0];
        for (size_t i = 1; i < n; i++) r = v[i] > r ? v[i] : r;
        break;
    case PTD_LISTOPS_MED:
        qsort(v, n, sizeof *v, cmp_int);
        r = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2; /* floor: values are >= 0 */
        break;
    default:
        for (size_t i = 0; i < n; i++) r += v[i];
        r %= 10;
    }
    return r;
}

/* One subtree at `depth`, appended to tok (room for cap); returns its value, or -1 when it
 * would not fit (the sample is then rejected). */
static int gen_tree(const ptd_listops_opts *o, gsl_rng *r, unsigned depth, int *tok, size_t *len, size_t cap)
{
    double u = depth < o->max_depth ? gsl_rng_uniform(r) : 1.0;
    if (u > 0.25) {
        if (*len >= cap) return -1;
        int v = (int)gsl_rng_uniform_int(r, 10);
        tok[(*len)++] = v;
        return v;
    }
    if (*len >= cap) return -1;
    size_t at = (*len)++; /* the operator is drawn after its arguments, as LRA does */
    unsigned nargs = 2 + (unsigned)gsl_rng_uniform_int(r, o->max_args - 1);
    int vals[64];
    for (unsigned a = 0; a < nargs; a++) {
        int v = gen_tree(o, r, depth + 1, tok, len, cap);
        if (v < 0) return -1;
        vals[a] = v;
    }
    int op = PTD_LISTOPS_MIN + (int)gsl_rng_uniform_int(r, 4);
    tok[at] = op;
    if (*len >= cap) return -1;
    tok[(*len)++] = PTD_LISTOPS_CLOSE;
    return apply_op(op, vals, nargs);
}

static int check_opts(const ptd_listops_opts *o)
{
    if (o->max_len < 1 || o->min_len > o->max_len || o->max_depth < 1 || o->max_args < 2 || o->max_args > 64)
        return ptd_error(PTD_EINVAL,
                         "listops: need 1 <= min_len <= max_len, max_depth >= 1, 2 <= max_args <= 64 "
                         "(got %zu, %zu, %u, %u)", o->min_len, o->max_len, o->max_depth, o->max_args);
    return PTD_OK;
}

int ptd_data_listops_sample(const ptd_listops_opts *o, void *rng, int *tok, size_t *len, int *value)
{
    int st = check_opts(o);
    if (st) return st;
    for (long tries = 0; tries < 1000000; tries++) {
        size_t n = 0;
        int v = gen_tree(o, rng, 1, tok, &n, o->max_len);
        if (v >= 0 && n >= o->min_len && n <= o->max_len) {
            *len = n;
            *value = v;
            return PTD_OK;
        }
    }
    return ptd_error(PTD_ENOCONV, "listops: no expression of length %zu..%zu in 1e6 tries (depth %u, args %u)",
                     o->min_len, o->max_len, o->max_depth, o->max_args);
}

int ptd_data_listops_generate(const ptd_listops_opts *o, size_t n, unsigned long seed, ptd_dataset **out)
{
    *out = NULL;
    ptd_clear_error();
    int st = check_opts(o);
    if (st) return st;
    ptd_dataset *d = dataset_alloc(n, o->max_len, PTD_LISTOPS_VOCAB, 10);
    int *tok = malloc(o->max_len * sizeof *tok);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!d || !tok || !r) {
        st = ptd_error(PTD_ENOMEM, "out of memory for %zu ListOps sequences", n);
        goto done;
    }
    gsl_rng_set(r, seed);
    for (size_t i = 0; i < n && !st; i++) {
        size_t len;
        int v;
        st = ptd_data_listops_sample(o, r, tok, &len, &v);
        if (st) break;
        float *x = d->x + i * o->max_len * PTD_LISTOPS_VOCAB;
        memset(x, 0, o->max_len * PTD_LISTOPS_VOCAB * sizeof *x);
        for (size_t t = 0; t < o->max_len; t++) x[t * PTD_LISTOPS_VOCAB + (t < len ? tok[t] : PTD_LISTOPS_PAD)] = 1;
        d->y[i] = v;
    }
    snprintf(d->name, sizeof d->name, "listops");
done:
    free(tok);
    gsl_rng_free(r);
    if (st) ptd_dataset_free(d);
    else *out = d;
    return st;
}

/* Recursive descent over [pos, len): one expression; -1 on a malformed one. */
static int eval_at(const int *tok, size_t len, size_t *pos, unsigned depth)
{
    if (*pos >= len || depth > 10000) return -1;
    int t = tok[(*pos)++];
    if (t >= 0 && t <= 9) return t;
    if (t < PTD_LISTOPS_MIN || t > PTD_LISTOPS_SM) return -1;
    int vals[64];
    size_t n = 0;
    while (*pos < len && tok[*pos] != PTD_LISTOPS_CLOSE) {
        if (n == 64) return -1;
        int v = eval_at(tok, len, pos, depth + 1);
        if (v < 0) return -1;
        vals[n++] = v;
    }
    if (*pos >= len || n == 0) return -1;
    (*pos)++;
    return apply_op(t, vals, n);
}

int ptd_data_listops_eval(const int *tok, size_t len, int *value)
{
    ptd_clear_error();
    while (len > 0 && tok[len - 1] == PTD_LISTOPS_PAD) len--;
    size_t pos = 0;
    int v = eval_at(tok, len, &pos, 0);
    if (v < 0 || pos != len) return ptd_error(PTD_EFORMAT, "listops: not a well-formed expression (at token %zu)", pos);
    *value = v;
    return PTD_OK;
}

/* ---- Pathfinder ----------------------------------------------------------------------------- */

/* A path: its pixels (drawn dashes, the gaps between them, and the markers' squares when it
 * carries markers), each with its kind, so that other paths can be kept away from all of it. */
typedef struct {
    int *x, *y;
    unsigned char *drawn;
    size_t n, cap;
} pf_path;

static int pf_push(pf_path *p, int x, int y, int drawn)
{
    if (p->n == p->cap) {
        size_t c = p->cap ? 2 * p->cap : 64;
        int *nx = realloc(p->x, c * sizeof *nx);
        if (!nx) return -1;
        p->x = nx;
        int *ny = realloc(p->y, c * sizeof *ny);
        if (!ny) return -1;
        p->y = ny;
        unsigned char *nd = realloc(p->drawn, c);
        if (!nd) return -1;
        p->drawn = nd;
        p->cap = c;
    }
    p->x[p->n] = x, p->y[p->n] = y, p->drawn[p->n] = (unsigned char)drawn, p->n++;
    return 0;
}

static int check_pf(const ptd_pathfinder_opts *o)
{
    if (o->size < 8 || o->size > 256 || o->dashes < 1 || o->dashes > 64 || o->dash_len < 1 || o->dash_len > 16 ||
        o->gap < 1 || o->gap > 8 || o->distractors > 16 || !(o->max_turn >= 0 && o->max_turn <= M_PI))
        return ptd_error(PTD_EINVAL, "pathfinder: need 8 <= size <= 256, 1 <= dashes <= 64, 1 <= dash_len <= 16, "
                         "1 <= gap <= 8, distractors <= 16, 0 <= max_turn <= pi (got %zu, %u, %u, %u, %u, %g)",
                         o->size, o->dashes, o->dash_len, o->gap, o->distractors, o->max_turn);
    return PTD_OK;
}

/* One random walk of o->dashes dashes from a random point and heading, turning by up to
 * max_turn at each dash; -1 when it leaves the image (a 1-pixel border kept free). */
static int pf_walk(const ptd_pathfinder_opts *o, gsl_rng *r, pf_path *p)
{
    int S = (int)o->size;
    double x = 2 + gsl_rng_uniform(r) * (S - 5), y = 2 + gsl_rng_uniform(r) * (S - 5);
    double a = 2 * M_PI * gsl_rng_uniform(r);
    p->n = 0;
    if (pf_push(p, (int)lround(x), (int)lround(y), 1)) return -2;
    for (unsigned d = 0; d < o->dashes; d++) {
        if (d) a += o->max_turn * (2 * gsl_rng_uniform(r) - 1);
        /* a dash of dash_len pixels after the first, then gap pixels left blank */
        unsigned steps = o->dash_len + (d + 1 < o->dashes ? o->gap : 0) - (d == 0);
        for (unsigned s = 0; s < steps; s++) {
            x += cos(a), y += sin(a);
            int ix = (int)lround(x), iy = (int)lround(y);
            if (ix < 1 || iy < 1 || ix > S - 2 || iy > S - 2) return -1;
            unsigned pos = s + (d == 0);
            if (pf_push(p, ix, iy, pos < o->dash_len)) return -2;
        }
    }
    return 0;
}

int ptd_data_pathfinder_sample(const ptd_pathfinder_opts *o, void *rng, float *img, int *label)
{
    int st = check_pf(o);
    if (st) return st;
    gsl_rng *r = rng;
    const int S = (int)o->size, R = (int)o->gap + 1; /* paths keep a Chebyshev distance > R apart */
    int *own = malloc((size_t)S * (size_t)S * sizeof *own);
    pf_path p = {0};
    if (!own) return ptd_error(PTD_ENOMEM, "out of memory");
    st = PTD_ENOCONV;
    unsigned long walks = 0; /* at most 10^5 walks an image */
    /* the label first, kept through the retries (a coin per retry would favour the label
     * whose paths fit more easily) */
    const int lab = (int)gsl_rng_uniform_int(r, 2);
    for (unsigned attempt = 0; attempt < 10000 && st == PTD_ENOCONV && walks < 100000; attempt++) {
        /* as many paths in either class (a joined image gets one distractor more), so that
         * the amount of ink says nothing about the label */
        unsigned npaths = 2u + o->distractors;
        for (int i = 0; i < S * S; i++) own[i] = -1, img[i] = 0;
        unsigned done = 0;
        for (unsigned i = 0; i < npaths; i++) {
            int ok = 0;
            for (unsigned tries = 0; tries < 200 && !ok; tries++, walks++) {
                int w = pf_walk(o, r, &p);
                if (w == -2) goto nomem;
                if (w) continue;
                /* markers: both ends of path 0 (joined), or the first end of paths 0 and 1 */
                size_t npix = p.n;
                int marks[2][2], nm = 0;
                if (lab && i == 0) marks[0][0] = p.x[0], marks[0][1] = p.y[0], marks[1][0] = p.x[npix - 1],
                                   marks[1][1] = p.y[npix - 1], nm = 2;
                else if (!lab && i < 2) marks[0][0] = p.x[0], marks[0][1] = p.y[0], nm = 1;
                for (int k = 0; k < nm; k++)
                    for (int dy = -1; dy <= 1; dy++)
                        for (int dx = -1; dx <= 1; dx++)
                            if (pf_push(&p, marks[k][0] + dx, marks[k][1] + dy, 1)) goto nomem;
                ok = 1;
                for (size_t k = 0; k < p.n && ok; k++) /* a marker too keeps off the border */
                    ok = p.x[k] >= 1 && p.y[k] >= 1 && p.x[k] <= S - 2 && p.y[k] <= S - 2;
                for (size_t k = 0; k < p.n && ok; k++)
                    for (int dy = -R; dy <= R && ok; dy++)
                        for (int dx = -R; dx <= R; dx++) {
                            int xx = p.x[k] + dx, yy = p.y[k] + dy;
                            if (xx < 0 || yy < 0 || xx >= S || yy >= S) continue;
                            if (own[yy * S + xx] >= 0 && own[yy * S + xx] != (int)i) {
                                ok = 0;
                                break;
                            }
                        }
            }
            if (!ok) break;
            for (size_t k = 0; k < p.n; k++) {
                own[p.y[k] * S + p.x[k]] = (int)i;
                if (p.drawn[k]) img[p.y[k] * S + p.x[k]] = 1;
            }
            done++;
        }
        if (done == npaths) {
            *label = lab;
            st = PTD_OK;
        }
    }
    free(own), free(p.x), free(p.y), free(p.drawn);
    if (st == PTD_ENOCONV)
        return ptd_error(PTD_ENOCONV, "pathfinder: no image of %u separated paths of %u dashes fits %d x %d",
                         (o->distractors + 2), o->dashes, S, S);
    return st;
nomem:
    free(own), free(p.x), free(p.y), free(p.drawn);
    return ptd_error(PTD_ENOMEM, "out of memory");
}

int ptd_data_pathfinder_generate(const ptd_pathfinder_opts *o, size_t n, unsigned long seed, ptd_dataset **out)
{
    *out = NULL;
    ptd_clear_error();
    int st = check_pf(o);
    if (st) return st;
    size_t len = o->size * o->size;
    ptd_dataset *d = dataset_alloc(n, len, 1, 2);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!d || !r) {
        st = ptd_error(PTD_ENOMEM, "out of memory for %zu Pathfinder images", n);
        goto done;
    }
    gsl_rng_set(r, seed);
    for (size_t i = 0; i < n && !st; i++) st = ptd_data_pathfinder_sample(o, r, d->x + i * len, &d->y[i]);
    snprintf(d->name, sizeof d->name, "pathfinder");
done:
    gsl_rng_free(r);
    if (st) ptd_dataset_free(d);
    else *out = d;
    return st;
}
