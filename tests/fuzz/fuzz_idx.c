/* fuzz_idx.c - ptd_data_idx_read (IDX, plain or gzip).  The input is read as it is and
 * gzip-compressed: both must give the same answer (zlib reads a plain file transparently),
 * and a plain file read must be exactly its header and data. */
#include "fuzz.h"

#include <zlib.h>

typedef struct {
    int st;
    size_t dims[4], nd;
    unsigned char *data;
} idx_result;

static void read_idx(const void *bytes, size_t size, idx_result *r)
{
    fuzz_file f;
    fuzz_file_open(&f, bytes, size);
    r->data = (unsigned char *)1;
    r->st = ptd_data_idx_read(f.path, r->dims, &r->nd, &r->data);
    fuzz_file_close(&f);
    if (r->st) {
        fuzz_failed(r->st, r->data);
        FUZZ_REQUIRE(r->nd == 0, "ndims %zu on failure", r->nd);
    }
}

static size_t data_bytes(const idx_result *r)
{
    size_t total = 1;
    for (size_t k = 0; k < r->nd; k++) total *= r->dims[k];
    return total;
}

/* gzip (RFC 1952) of data, malloc'd */
static unsigned char *gzip_of(const uint8_t *data, size_t size, size_t *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    FUZZ_REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
    size_t cap = deflateBound(&z, (uLong)size) + 32;
    unsigned char *buf = malloc(cap);
    z.next_in = (Bytef *)data, z.avail_in = (uInt)size;
    z.next_out = buf, z.avail_out = (uInt)cap;
    FUZZ_REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate");
    *out = cap - z.avail_out;
    deflateEnd(&z);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init_once();
    idx_result a, b;
    read_idx(data, size, &a);
    if (!a.st) {
        FUZZ_REQUIRE(a.nd >= 1 && a.nd <= 4, "ndims %zu", a.nd);
        size_t total = data_bytes(&a);
        /* a plain (not gzip) file is its 4 + 4 nd header bytes and then exactly the data */
        if (size < 2 || data[0] != 0x1f || data[1] != 0x8b)
            FUZZ_REQUIRE(size == 4 + 4 * a.nd + total && memcmp(data + 4 + 4 * a.nd, a.data, total) == 0,
                         "%zu bytes read as %zu data bytes", size, total);
    }
    size_t zn;
    unsigned char *z = gzip_of(data, size, &zn);
    read_idx(z, zn, &b);
    free(z);
    /* zlib reads a gzip stream inside a gzip stream once: compare only for plain inputs */
    if (size < 2 || data[0] != 0x1f || data[1] != 0x8b) {
        FUZZ_REQUIRE(a.st == b.st, "plain status %d, gzip status %d", a.st, b.st);
        if (!a.st)
            FUZZ_REQUIRE(a.nd == b.nd && memcmp(a.dims, b.dims, a.nd * sizeof *a.dims) == 0 &&
                             memcmp(a.data, b.data, data_bytes(&a)) == 0,
                         "plain and gzip reads differ");
    }
    if (!a.st) free(a.data);
    if (!b.st) free(b.data);
    return 0;
}
