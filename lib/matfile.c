/* matfile.c - PTD systems as MATLAB files (v5 and v7.3, the format the PTD authors' PyTorch
 * and JAX code reads with scipy.io.loadmat), through libmatio.
 *
 * Variables: Lam (n x 1, the eigenvalues), V and Vinv (n x n, V diag(Lam) Vinv = A + E when
 * nothing was reflected), E and A (n x n), and the scalars kappa, rel_E, backward_error and
 * reflected (what ptdkit measured; a reader recomputes them).  A file with only Lam, V and
 * Vinv (the authors' MATLAB) loads too: E is then V diag(Lam) Vinv - A for the caller's A.
 * Everything read is validated, sizes against limits and the file's size before any
 * allocation of data. */
#include "config.h"
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <matio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* libmatio logs to stderr by default; ptdkit's errors are one line of its own */
static void quiet_log(int level, char *message)
{
    (void)level, (void)message;
}

static void matio_quiet(void)
{
    static int done;
    if (!done) {
        Mat_LogInitFunc("libptd", quiet_log);
        done = 1;
    }
}

/* --- writing ------------------------------------------------------------------------------------ */

/* Write the n-vector or rows x cols matrix x as a double variable, real when every
 * imaginary part is 0 (or `force_complex`), complex otherwise. */
static int put_var(mat_t *mat, const char *name, const double complex *x, size_t rows, size_t cols, int force_complex)
{
    size_t count = rows * cols, dims[2] = {rows, cols};
    int cplx = force_complex;
    for (size_t k = 0; !cplx && k < count; k++) cplx = cimag(x[k]) != 0;
    double *re = malloc(count * sizeof *re), *im = cplx ? malloc(count * sizeof *im) : NULL;
    if (!re || (cplx && !im)) {
        free(re);
        free(im);
        return ptd_error(PTD_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < count; k++) {
        re[k] = creal(x[k]);
        if (cplx) im[k] = cimag(x[k]);
    }
    mat_complex_split_t z = {re, im};
    matvar_t *v = Mat_VarCreate(name, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, cplx ? (void *)&z : (void *)re,
                                cplx ? MAT_F_COMPLEX | MAT_F_DONT_COPY_DATA : MAT_F_DONT_COPY_DATA);
    int st = v && Mat_VarWrite(mat, v, MAT_COMPRESSION_NONE) == 0 ? PTD_OK
                                                                 : ptd_error(PTD_EIO, "writing the variable %s", name);
    Mat_VarFree(v);
    free(re);
    free(im);
    return st;
}

static int put_scalar(mat_t *mat, const char *name, double x)
{
    double complex z = x;
    return put_var(mat, name, &z, 1, 1, 0);
}

static int read_whole(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ptd_error(PTD_EIO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    int st = b ? PTD_OK : ptd_error(PTD_ENOMEM, "out of memory");
    while (!st) {
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                st = ptd_error(PTD_ENOMEM, "out of memory");
                break;
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) st = ptd_error(PTD_EIO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st) {
        free(b);
        return st;
    }
    *buf = b;
    *len = n;
    return PTD_OK;
}

int ptd_perturb_save_mat(const char *path, const ptd_ptd *p, const ptd_matrix *A, int version)
{
    ptd_clear_error();
    if (!path || !*path || !p || !p->V || !p->Vinv || !p->lambda || !p->E)
        return ptd_error(PTD_EINVAL, "save MAT: a path and a complete PTD system are needed");
    if (version != 5 && version != 73) return ptd_error(PTD_EINVAL, "save MAT: version must be 5 or 73 (7.3)");
    if (A && (A->rows != p->n || A->cols != p->n)) return ptd_error(PTD_EINVAL, "save MAT: A must be of order %zu", p->n);
    matio_quiet();
    /* libmatio writes a path of its own choosing: into a private temporary directory, then
     * through the one writer (links followed, devices written through, renamed into place) */
    const char *tmpdir = getenv("TMPDIR");
    char *dir = NULL, *file = NULL, *buf = NULL;
    size_t len = 0;
    int slot = -1;
    if (ptdi_tmp_create(tmpdir && *tmpdir ? tmpdir : "/tmp", "ptdmat-", 1, 0700, &dir, &slot) != 0)
        return ptd_error(PTD_EIO, "save MAT: cannot make a temporary directory: %s", strerror(errno));
    int st = (file = ptdi_concat3(dir, "/ptd.mat", NULL)) ? PTD_OK : ptd_error(PTD_ENOMEM, "out of memory");
    mat_t *mat = NULL;
    if (!st && !(mat = Mat_CreateVer(file, version == 5 ? "MATLAB 5.0 MAT-file, written by ptdkit: a PTD system, V diag(Lam) Vinv = A + E"
                                                    : "MATLAB 7.3 MAT-file, written by ptdkit: a PTD system, V diag(Lam) Vinv = A + E",
                                     version == 5 ? MAT_FT_MAT5 : MAT_FT_MAT73)))
        st = ptd_error(PTD_EEXTERN, "save MAT: libmatio cannot create a version %s file%s", version == 5 ? "5" : "7.3",
                       version == 73 ? " (is it built with HDF5?)" : "");
    size_t n = p->n;
    if (!st) st = put_var(mat, "Lam", p->lambda, n, 1, 1);
    if (!st) st = put_var(mat, "V", p->V->data, n, n, 1);
    if (!st) st = put_var(mat, "Vinv", p->Vinv->data, n, n, 1);
    if (!st) st = put_var(mat, "E", p->E->data, n, n, 0);
    if (!st && A) st = put_var(mat, "A", A->data, n, n, 0);
    if (!st) st = put_scalar(mat, "kappa", p->kappa_V);
    if (!st) st = put_scalar(mat, "rel_E", p->rel_E);
    if (!st) st = put_scalar(mat, "backward_error", p->backward_error);
    if (!st) st = put_scalar(mat, "reflected", (double)p->reflected);
    if (mat && Mat_Close(mat) != 0 && !st) st = ptd_error(PTD_EIO, "save MAT: closing the file failed");
    if (!st) st = read_whole(file, &buf, &len);
    ptdi_tmp_remove(slot, dir);
    free(dir);
    free(file);
    if (!st) {
        st = ptd_plot_write_file(path, buf, len);
        if (st) st = ptd_error(st, "%s", ptd_last_error()); /* the writer's message, kept */
    }
    free(buf);
    return st;
}

/* --- reading ------------------------------------------------------------------------------------ */

typedef struct {
    mat_t *mat;
    const char *name;
    size_t fsize;
} matin;

/* The header of variable `var`: absent (*info NULL, PTD_OK), or a real or complex double
 * matrix of rows x cols (cols 0: rows x 1 or 1 x rows) whose raw data the file can hold. */
static int var_info(matin *m, const char *var, size_t rows, size_t cols, matvar_t **info)
{
    *info = Mat_VarReadInfo(m->mat, var);
    matvar_t *v = *info;
    if (!v) return PTD_OK;
    const char *why = NULL;
    if (v->class_type != MAT_C_DOUBLE || v->isLogical) why = "is not a double (real or complex) matrix";
    else if (v->rank != 2 || !v->dims) why = "is not a matrix (rank 2)";
    else if (cols ? v->dims[0] != rows || v->dims[1] != cols
                  : !((v->dims[0] == rows && v->dims[1] == 1) || (v->dims[0] == 1 && v->dims[1] == rows)))
        why = "has the wrong size";
    if (why) {
        size_t r = v->rank == 2 && v->dims ? v->dims[0] : 0, c = v->rank == 2 && v->dims ? v->dims[1] : 0;
        int st = cols ? ptd_error(PTD_EFORMAT, "%s: variable %s %s (%zu x %zu; %zu x %zu expected)", m->name, var, why,
                                  r, c, rows, cols)
                      : ptd_error(PTD_EFORMAT, "%s: variable %s %s (%zu x %zu; a vector of %zu expected)", m->name, var,
                                  why, r, c, rows);
        Mat_VarFree(v);
        *info = NULL;
        return st;
    }
    return PTD_OK;
}

/* Read variable `var` (its header checked by var_info) into dst (count entries). */
static int var_read(matin *m, const char *var, size_t count, double complex *dst)
{
    matvar_t *v = Mat_VarRead(m->mat, var);
    int st = PTD_OK;
    if (!v || !v->data || v->class_type != MAT_C_DOUBLE || v->rank != 2 || v->dims[0] * v->dims[1] != count)
        st = ptd_error(PTD_EFORMAT, "%s: variable %s cannot be read (file truncated or corrupt)", m->name, var);
    else if (v->isComplex) {
        const mat_complex_split_t *z = v->data;
        const double *re = z->Re, *im = z->Im;
        if (!re || !im) st = ptd_error(PTD_EFORMAT, "%s: variable %s cannot be read (file truncated or corrupt)", m->name, var);
        for (size_t k = 0; !st && k < count; k++) dst[k] = CMPLX(re[k], im[k]);
    } else {
        const double *re = v->data;
        for (size_t k = 0; k < count; k++) dst[k] = re[k];
    }
    for (size_t k = 0; !st && k < count; k++)
        if (!isfinite(creal(dst[k])) || !isfinite(cimag(dst[k])))
            st = ptd_error(PTD_EFORMAT, "%s: variable %s has a NaN or infinite entry (index %zu)", m->name, var, k);
    Mat_VarFree(v);
    return st;
}

static int read_scalar(matin *m, const char *var, double *x)
{
    matvar_t *v;
    int st = var_info(m, var, 1, 1, &v);
    if (st || !v) return st;
    Mat_VarFree(v);
    double complex z;
    if ((st = var_read(m, var, 1, &z))) return st;
    if (cimag(z) != 0) return ptd_error(PTD_EFORMAT, "%s: variable %s must be real", m->name, var);
    *x = creal(z);
    return PTD_OK;
}

/* A MAT file: the v5 header's version and byte-order mark at bytes 124..127 (0x0100 "IM",
 * or byte-swapped), or HDF5's signature after v7.3's 512-byte user block (which, like the
 * v5 header, begins with text such as "MATLAB 7.3 MAT-file"). */
static int is_mat_header(const unsigned char *h, size_t len)
{
    static const unsigned char hdf5[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (len >= 128 && ((h[124] == 0x00 && h[125] == 0x01 && h[126] == 'I' && h[127] == 'M') ||
                       (h[124] == 0x01 && h[125] == 0x00 && h[126] == 'M' && h[127] == 'I')))
        return 5;
    if (len >= 520 && memcmp(h + 512, hdf5, 8) == 0) return 73;
    return 0;
}

/* The first 520 bytes of path (fewer if it is shorter) into head; -1 if it cannot be read. */
static long read_head(const char *path, unsigned char head[520])
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t got = fread(head, 1, 520, f);
    fclose(f);
    return (long)got;
}

int ptd_perturb_is_mat(const char *path)
{
    unsigned char head[520];
    long got = read_head(path, head);
    return got > 0 && is_mat_header(head, (size_t)got) != 0;
}

/* A v5 file is a 128-byte header and top-level data elements (a tag: type and byte count,
 * then the data, padded to 8 bytes unless compressed) that end exactly at the end of the
 * file.  libmatio trusts the byte counts inside an element (a variable name of 0x48000009
 * bytes was a 1.2 GB allocation, found by fuzzing) and reports a variable cut short as
 * absent (a truncated file loaded without its E).  So every element is checked here first:
 * its tag within the file, and for a matrix (plain or zlib-compressed: its first bytes
 * inflated) the array flags, dimensions and name within the element, the class numeric or
 * char.  (A v7.3 file records its length in HDF5's superblock, which HDF5 checks.) */
typedef struct {
    const unsigned char *b;
    size_t len;
    int swap;
} v5buf;

static uint32_t v5_u32(const v5buf *v, size_t at)
{
    const unsigned char *t = v->b + at;
    return v->swap ? (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3]
                   : (uint32_t)t[3] << 24 | (uint32_t)t[2] << 16 | (uint32_t)t[1] << 8 | t[0];
}

/* A sub-element at `at` of an element ending at `end` (end <= v->len, or the element's
 * stated end beyond an inflated prefix when `prefix`): its total size (tag, data, padding)
 * in *size, 0 if it does not fit. */
static int v5_sub(const v5buf *v, size_t at, size_t end, size_t *size, uint32_t *type)
{
    if (at + 8 > v->len || at + 8 > end) return 0;
    uint32_t w = v5_u32(v, at);
    if (w >> 16) { /* small data element: type and byte count in one word, data in 4 bytes */
        *type = w & 0xffff;
        *size = 8;
        return (w >> 16) <= 4;
    }
    *type = w;
    size_t nb = v5_u32(v, at + 4);
    if (nb > end - at - 8) return 0;
    *size = 8 + (nb + 7) / 8 * 8;
    if (*size > end - at) *size = end - at;
    return 1;
}

/* The matrix element whose data (after its tag) is v->b[0 .. v->len) and states `stated`
 * bytes (more than len for an inflated prefix): flags, dimensions, name. */
static const char *v5_matrix(const v5buf *v, size_t stated)
{
    size_t at = 0, size;
    uint32_t type;
    if (!v5_sub(v, at, stated, &size, &type) || type != 6 /* miUINT32 */ || size != 16) return "bad array flags";
    unsigned cls = v5_u32(v, 8) & 0xff;
    if (cls < 4 || cls > 15 || cls == 5) return "a cell, structure, object or sparse variable (not read)";
    at += size;
    if (!v5_sub(v, at, stated, &size, &type) || type != 5 /* miINT32 */) return "bad dimensions";
    size_t nb = v5_u32(v, at) >> 16 ? v5_u32(v, at) >> 16 : v5_u32(v, at + 4);
    if (nb < 8 || nb % 4 || nb > 4 * 32) return "bad dimensions";
    at += size;
    if (!v5_sub(v, at, stated, &size, &type) || type != 1 /* miINT8 */ || size > 8 + 4096) return "bad name";
    return NULL;
}

static int v5_check(const char *path, const unsigned char *head, size_t fsize)
{
    char *buf = NULL;
    size_t len = 0;
    int st = read_whole(path, &buf, &len);
    if (st) return st;
    v5buf v = {(const unsigned char *)buf, len, head[126] == 'M'};
    unsigned char inf[8192];
    size_t at = 128;
    while (!st && at < len) {
        if (len - at < 8) {
            st = ptd_error(PTD_EFORMAT, "%s: truncated (a data element's tag is cut at byte %zu of %zu)", path, at, fsize);
            break;
        }
        uint32_t type = v5_u32(&v, at);
        size_t nb = v5_u32(&v, at + 4), elen = type == 15 /* miCOMPRESSED */ ? nb : (nb + 7) / 8 * 8;
        if (elen > len - at - 8) {
            st = ptd_error(PTD_EFORMAT, "%s: truncated (a data element of %zu bytes at byte %zu; the file has %zu)", path,
                           elen, at, fsize);
            break;
        }
        const char *why = NULL;
        if (type == 14 /* miMATRIX */) {
            v5buf e = {v.b + at + 8, nb, v.swap};
            why = v5_matrix(&e, nb);
        } else if (type == 15) {
            z_stream z = {0};
            z.next_in = (unsigned char *)buf + at + 8;
            z.avail_in = (uInt)nb;
            z.next_out = inf;
            z.avail_out = sizeof inf;
            int zr = inflateInit(&z);
            if (zr == Z_OK) zr = inflate(&z, Z_SYNC_FLUSH);
            size_t got = sizeof inf - z.avail_out;
            inflateEnd(&z);
            if ((zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) || got < 8) why = "a compressed variable that does not inflate";
            else {
                v5buf e = {inf, got, v.swap};
                uint32_t it = v5_u32(&e, 0);
                size_t inb = v5_u32(&e, 4);
                if (it != 14) why = "a compressed element that is not a matrix";
                else if ((double)inb > 1032.0 * (double)nb + 4096) why = "a compressed matrix larger than its data can inflate to";
                else {
                    v5buf d = {inf + 8, got - 8, v.swap};
                    why = v5_matrix(&d, inb);
                }
            }
        } else why = "an element that is not a matrix";
        if (why) st = ptd_error(PTD_EFORMAT, "%s: the data element at byte %zu: %s", path, at, why);
        at += 8 + elen;
    }
    free(buf);
    return st;
}

static void unit_columns(size_t n, double complex *V, double complex *Vinv)
{
    /* MATLAB's eig gives unit columns; another V is scaled to them (Vinv's rows inversely),
     * which leaves V diag(Lam) Vinv as it is; columns already unit to rounding are kept
     * bit for bit */
    for (size_t j = 0; j < n; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += creal(V[i + j * n] * conj(V[i + j * n]));
        s = sqrt(s);
        if (!(s > 0) || fabs(s - 1) <= 16 * (double)n * PTD_U) continue;
        for (size_t i = 0; i < n; i++) V[i + j * n] /= s, Vinv[j + i * n] *= s;
    }
}

int ptd_perturb_load_mat(const char *path, const ptd_matrix *A, const ptd_matrix *B, const ptd_matrix *C,
                         ptd_ptd **out)
{
    ptd_clear_error();
    if (!out) return ptd_error(PTD_EINVAL, "load MAT: no output pointer");
    *out = NULL;
    if (!path) return ptd_error(PTD_EINVAL, "load MAT: no path");
    if (A && (A->rows != A->cols || !ptd_matrix_is_finite(A)))
        return ptd_error(PTD_EINVAL, "load MAT: A must be square and finite");
    matio_quiet();
    struct stat sb;
    if (stat(path, &sb) != 0) return ptd_error(PTD_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return ptd_error(PTD_EFORMAT, "%s: not a regular file (a MAT file is read by seeking)", path);
    unsigned char head[520];
    long got = read_head(path, head);
    if (got < 0) return ptd_error(PTD_EIO, "%s: %s", path, strerror(errno));
    if (!is_mat_header(head, (size_t)got))
        return ptd_error(PTD_EFORMAT, "%s: not a MATLAB v5 or v7.3 file (no MAT header)%s", path,
                         got < 128 ? ", or truncated" : "");
    if (is_mat_header(head, (size_t)got) == 5) {
        int vst = v5_check(path, head, (size_t)sb.st_size);
        if (vst) return vst;
    }
    matin m = {Mat_Open(path, MAT_ACC_RDONLY), path, (size_t)sb.st_size};
    if (!m.mat) return ptd_error(PTD_EFORMAT, "%s: libmatio cannot open it (truncated or corrupt)", path);
    ptd_ptd *p = NULL;
    matvar_t *iv = NULL, *il = NULL, *ivi = NULL, *ie = NULL, *ia = NULL;
    ptd_matrix *Af = NULL;
    /* n from V; every size checked before anything is read */
    int st = PTD_OK;
    iv = Mat_VarReadInfo(m.mat, "V");
    if (!iv) st = ptd_error(PTD_EFORMAT, "%s: no variable V (the eigenvectors; Lam, V and Vinv are needed)", path);
    size_t n = 0;
    if (!st) {
        if (iv->rank != 2 || !iv->dims || iv->dims[0] != iv->dims[1] || iv->dims[0] == 0)
            st = ptd_error(PTD_EFORMAT, "%s: variable V must be a square matrix", path);
        else n = iv->dims[0];
        Mat_VarFree(iv);
        iv = NULL;
    }
    if (!st && n > PTD_ZOO_MAX_N) st = ptd_error(PTD_EFORMAT, "%s: V is %zu x %zu; at most %d is read", path, n, n, PTD_ZOO_MAX_N);
    /* zlib inflates at most about 1032:1: a file cannot hold more data than that */
    if (!st && (double)n * (double)n * 8 > 1032.0 * (double)m.fsize + 4096)
        st = ptd_error(PTD_EFORMAT, "%s: V claims %zu x %zu entries, more than a file of %zu bytes can hold", path, n,
                       n, m.fsize);
    if (!st && A && A->rows != n)
        st = ptd_error(PTD_EINVAL, "%s: the system has order %zu, the matrix %zu", path, n, A->rows);
    if (!st) st = var_info(&m, "V", n, n, &iv);
    if (!st) st = var_info(&m, "Lam", n, 0, &il);
    if (!st && !il) st = ptd_error(PTD_EFORMAT, "%s: no variable Lam (the eigenvalues)", path);
    if (!st) st = var_info(&m, "Vinv", n, n, &ivi);
    if (!st && !ivi) st = ptd_error(PTD_EFORMAT, "%s: no variable Vinv (the inverse of V)", path);
    if (!st) st = var_info(&m, "E", n, n, &ie);
    if (!st) st = var_info(&m, "A", n, n, &ia);
    if (!st && !A && !ia)
        st = ptd_error(PTD_EFORMAT, "%s: no variable A, and no matrix given to measure the system against", path);
    if (!st && !(p = calloc(1, sizeof *p))) st = ptd_error(PTD_ENOMEM, "out of memory");
    if (!st) {
        p->n = n;
        p->lambda = malloc(n * sizeof *p->lambda);
        p->V = ptd_matrix_alloc(n, n);
        p->Vinv = ptd_matrix_alloc(n, n);
        p->E = ptd_matrix_alloc(n, n);
        if (ia) Af = ptd_matrix_alloc(n, n);
        if (!p->lambda || !p->V || !p->Vinv || !p->E || (ia && !Af)) st = ptd_error(PTD_ENOMEM, "out of memory");
    }
    if (!st) st = var_read(&m, "Lam", n, p->lambda);
    if (!st) st = var_read(&m, "V", n * n, p->V->data);
    if (!st) st = var_read(&m, "Vinv", n * n, p->Vinv->data);
    if (!st && ie) st = var_read(&m, "E", n * n, p->E->data);
    if (!st && ia) st = var_read(&m, "A", n * n, Af->data);
    double refl = 0;
    if (!st) st = read_scalar(&m, "reflected", &refl);
    if (!st && (refl < 0 || refl > (double)n || refl != floor(refl)))
        st = ptd_error(PTD_EFORMAT, "%s: variable reflected must be a count 0..%zu", path, n);
    /* the matrix the system is measured against: the caller's, which the file's A (if any)
     * must be, to rounding */
    const ptd_matrix *Ause = A ? A : Af;
    if (!st) st = ptd_matrix_norm2(Ause, &p->norm_A);
    if (!st && A && Af) {
        double d = 0;
        for (size_t k = 0; k < n * n; k++) d = fmax(d, cabs(Af->data[k] - A->data[k]));
        if (d > 100 * (double)n * PTD_U * p->norm_A)
            st = ptd_error(PTD_EINVAL, "%s: its A is not the matrix of this run (largest difference %.3g, ||A||_2 = %.6g)",
                           path, d, p->norm_A);
    }
    if (!st) {
        unit_columns(n, p->V->data, p->Vinv->data);
        p->reflected = (size_t)refl;
        st = ptd_cond_kappa(p->V, &p->kappa_V);
    }
    if (!st) st = ptd_perturb_backward_error(Ause, p, &p->backward_error);
    if (!st && !ie) {
        /* the authors' files: E is what the system is, less A */
        double complex *M = malloc(n * n * sizeof *M);
        if (!M) st = ptd_error(PTD_ENOMEM, "out of memory");
        for (size_t j = 0; !st && j < n; j++)
            for (size_t i = 0; i < n; i++) M[i + j * n] = p->V->data[i + j * n] * p->lambda[j];
        if (!st) {
            ptdi_gemm(n, 'N', 'N', M, p->Vinv->data, p->E->data);
            for (size_t k = 0; k < n * n; k++) p->E->data[k] -= Ause->data[k];
        }
        free(M);
    }
    if (!st) {
        p->norm_E = ptdi_norm2_of(n, p->E->data);
        p->rel_E = p->norm_A > 0 ? p->norm_E / p->norm_A : p->norm_E;
        /* nothing reflected: the system is the diagonalization of A + E; otherwise that one
         * is not in the file */
        p->backward_error_unreflected = p->reflected ? NAN : p->backward_error;
        p->real = ptdi_is_real(n, Ause->data) && ptdi_is_real(n, p->E->data);
        if (B && (B->rows != n || B->cols != 1)) st = ptd_error(PTD_EINVAL, "load MAT: B must be %zu x 1", n);
        if (C && (C->rows != 1 || C->cols != n)) st = ptd_error(PTD_EINVAL, "load MAT: C must be 1 x %zu", n);
    }
    if (!st) st = ptdi_ptd_project(p, B, C);
    Mat_VarFree(iv);
    Mat_VarFree(il);
    Mat_VarFree(ivi);
    Mat_VarFree(ie);
    Mat_VarFree(ia);
    ptd_matrix_free(Af);
    Mat_Close(m.mat);
    if (st) {
        ptd_ptd_free(p);
        return st;
    }
    *out = p;
    return PTD_OK;
}

int ptd_perturb_read(const char *path, const ptd_matrix *A, const ptd_matrix *B, const ptd_matrix *C, ptd_ptd **out)
{
    ptd_clear_error();
    if (!out) return ptd_error(PTD_EINVAL, "read PTD: no output pointer");
    *out = NULL;
    if (!path) return ptd_error(PTD_EINVAL, "read PTD: no path");
    if (ptd_perturb_is_mat(path)) return ptd_perturb_load_mat(path, A, B, C, out);
    FILE *f = fopen(path, "r");
    if (!f) return ptd_error(PTD_EIO, "%s: cannot open: %s", path, strerror(errno));
    int st = ptd_perturb_load(f, path, out);
    fclose(f);
    if (st) return st;
    ptd_ptd *p = *out;
    size_t n = p->n;
    if ((A && (A->rows != n || A->cols != n)) || (B && (B->rows != n || B->cols != 1)) ||
        (C && (C->rows != 1 || C->cols != n))) {
        ptd_ptd_free(p);
        *out = NULL;
        return ptd_error(PTD_EINVAL, "%s: the system has order %zu, the matrix %zu", path, n, A ? A->rows : B ? B->rows : C->cols);
    }
    if ((st = ptdi_ptd_project(p, B, C))) {
        ptd_ptd_free(p);
        *out = NULL;
        return st;
    }
    return PTD_OK;
}

int ptd_perturb_file_order(const char *path, size_t *n)
{
    ptd_clear_error();
    if (!path || !n) return ptd_error(PTD_EINVAL, "PTD file order: no path");
    if (!ptd_perturb_is_mat(path)) {
        ptd_ptd *p = NULL;
        int st = ptd_perturb_read(path, NULL, NULL, NULL, &p);
        if (!st) *n = p->n;
        ptd_ptd_free(p);
        return st;
    }
    matio_quiet();
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mat) return ptd_error(PTD_EFORMAT, "%s: libmatio cannot open it (truncated or corrupt)", path);
    matvar_t *v = Mat_VarReadInfo(mat, "V");
    int st = PTD_OK;
    if (!v) st = ptd_error(PTD_EFORMAT, "%s: no variable V (the eigenvectors; Lam, V and Vinv are needed)", path);
    else if (v->rank != 2 || !v->dims || v->dims[0] != v->dims[1] || v->dims[0] == 0 || v->dims[0] > PTD_ZOO_MAX_N)
        st = ptd_error(PTD_EFORMAT, "%s: variable V must be a square matrix of order 1..%d", path, PTD_ZOO_MAX_N);
    else *n = v->dims[0];
    Mat_VarFree(v);
    Mat_Close(mat);
    return st;
}

int ptd_perturb_describe(const ptd_ptd *p, char *buf, size_t len)
{
    if (!p || !buf || !len) return ptd_error(PTD_EINVAL, "describe: no system or buffer");
    double lo = INFINITY, hi = -INFINITY;
    size_t pos = 0;
    for (size_t i = 0; i < p->n; i++) {
        double r = creal(p->lambda[i]);
        lo = fmin(lo, r), hi = fmax(hi, r);
        pos += r > 0;
    }
    snprintf(buf, len,
             "n = %zu, kappa_2(V) = %.4g, ||E||_2/||A||_2 = %.4g, backward error %.4g, Re lambda in [%.4g, %.4g], "
             "%zu of positive real part%s",
             p->n, p->kappa_V, p->rel_E, p->backward_error, lo, hi, pos, p->reflected ? " (after the reflection)" : "");
    return PTD_OK;
}
