/* checkpoint.c - a model's checkpoint: "PTDSSM", a version, the configuration, the epochs
 * done, the parameters and the optimiser's moments, then a CRC-32; every field validated
 * against the limits and the file's size before anything is allocated. */
#include "config.h"
#include "train-internal.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- checkpoints ------------------------------------------------------------------------------ */

#define CK_MAGIC "PTDSSM\r\n"
#define CK_VERSION 1u

typedef struct {
    char magic[8];
    uint32_t version, init;
    uint64_t din, nclass, len, layers, width, state, seed, np, epochs, step;
    double dt_min, dt_max;
} ck_header;

int ptd_train_model_save(const ptd_train_model *m, const char *path)
{
    ptd_clear_error();
    ck_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CK_MAGIC, 8);
    h.version = CK_VERSION, h.init = (uint32_t)m->cfg.init;
    h.din = m->cfg.din, h.nclass = m->cfg.nclass, h.len = m->cfg.len, h.layers = m->cfg.layers;
    h.width = m->cfg.width, h.state = m->cfg.state, h.seed = m->cfg.seed, h.np = m->np;
    h.epochs = m->epochs_done, h.step = m->step, h.dt_min = m->cfg.dt_min, h.dt_max = m->cfg.dt_max;
    size_t sz = sizeof h + 3 * m->np * sizeof(double) + 8 * sizeof(double), off = 0;
    unsigned char *buf = malloc(sz + 4);
    if (!buf) return ptd_error(PTD_ENOMEM, "out of memory");
    memcpy(buf, &h, sizeof h), off = sizeof h;
    memcpy(buf + off, m->p, m->np * sizeof(double)), off += m->np * sizeof(double);
    memcpy(buf + off, m->am, m->np * sizeof(double)), off += m->np * sizeof(double);
    memcpy(buf + off, m->av, m->np * sizeof(double)), off += m->np * sizeof(double);
    /* extra[1]: the modes per channel (s5: states per layer) when not the default N/2 (N for
     * an s5 model without conjugate symmetry): a PTD model whose real-E system has real
     * eigenvalues; 0 otherwise.  extra[2..4]: the layer (0 s4, 1 s5), s5's blocks and
     * s5_full; 0 for an s4 model, so its files are as before the s5 layer */
    int s5 = m->cfg.layer == PTD_LAYER_S5;
    double extra[8] = {m->wmax, m->M != ptdi_train_default_modes(&m->cfg) ? (double)m->M : 0, s5 ? 1 : 0,
                       s5 ? (double)m->cfg.blocks : 0, s5 ? (double)m->cfg.s5_full : 0};
    memcpy(buf + off, extra, sizeof extra), off += sizeof extra;
    uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)off);
    memcpy(buf + off, &crc, 4), off += 4;
    int st = ptd_plot_write_file(path, (const char *)buf, off);
    free(buf);
    return st;
}

/* Every field of a checkpoint's header against the limits, before anything is sized from it. */
static int check_header(const char *path, const ck_header *h)
{
    static const struct {
        const char *name;
        size_t off;
        uint64_t lo, hi;
    } lim[] = {
        {"din", offsetof(ck_header, din), 1, PTD_TRAIN_MAX_DIN},
        {"nclass", offsetof(ck_header, nclass), 2, PTD_TRAIN_MAX_NCLASS},
        {"len", offsetof(ck_header, len), 2, PTD_TRAIN_MAX_LEN},
        {"layers", offsetof(ck_header, layers), 1, PTD_TRAIN_MAX_LAYERS},
        {"width", offsetof(ck_header, width), 1, PTD_TRAIN_MAX_WIDTH},
        {"state", offsetof(ck_header, state), 2, PTD_TRAIN_MAX_STATE},
        {"epochs_done", offsetof(ck_header, epochs), 0, PTD_TRAIN_MAX_EPOCHS},
        {"step", offsetof(ck_header, step), 0, PTD_TRAIN_MAX_STEPS},
    };
    for (size_t k = 0; k < sizeof lim / sizeof lim[0]; k++) {
        uint64_t v;
        memcpy(&v, (const char *)h + lim[k].off, sizeof v);
        if (v < lim[k].lo || v > lim[k].hi)
            return ptd_error(PTD_EFORMAT, "%s: checkpoint field %s = %llu is out of range %llu..%llu", path,
                             lim[k].name, (unsigned long long)v, (unsigned long long)lim[k].lo,
                             (unsigned long long)lim[k].hi);
    }
    if (h->state % 2)
        return ptd_error(PTD_EFORMAT, "%s: checkpoint field state = %llu is odd (N/2 conjugate pairs)", path,
                         (unsigned long long)h->state);
    if (h->step < h->epochs)
        return ptd_error(PTD_EFORMAT, "%s: checkpoint field step = %llu is below epochs_done = %llu (every epoch "
                         "takes a step)", path, (unsigned long long)h->step, (unsigned long long)h->epochs);
    if (h->init > PTD_INIT_S4_PTD)
        return ptd_error(PTD_EFORMAT, "%s: checkpoint field init: unknown initialisation %u", path, h->init);
    if (!(isfinite(h->dt_min) && isfinite(h->dt_max) && h->dt_min > 0 && h->dt_max > 0))
        return ptd_error(PTD_EFORMAT, "%s: checkpoint fields dt_min = %g, dt_max = %g must be finite and positive",
                         path, h->dt_min, h->dt_max);
    if (h->dt_min > h->dt_max)
        return ptd_error(PTD_EFORMAT, "%s: checkpoint field dt_min = %g is above dt_max = %g", path, h->dt_min,
                         h->dt_max);
    return PTD_OK;
}

/* The values behind the header: parameters and first moments finite, second moments finite
 * and >= 0, the initial zero state at step 0, w_max finite and positive, reserved words 0.
 * `v` points at the 3 np + 8 doubles after the header (unaligned). */
static int check_values(const char *path, const ptd_train_model *m, const unsigned char *v, uint64_t step)
{
    static const char *const what[3] = {"parameter", "first moment of", "second moment of"};
    size_t np = m->np;
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < np; i++) {
            double x;
            memcpy(&x, v + 8 * (k * np + i), 8);
            const char *bad = !isfinite(x) ? "is not finite" : k == 2 && x < 0 ? "is negative" : NULL;
            if (!bad && step == 0 && k > 0 && x != 0) bad = "is not zero at step 0";
            if (bad)
                return ptd_error(PTD_EFORMAT, "%s: %s %zu (%s) %s (%g)", path, what[k], i, ptd_train_param_name(m, i),
                                 bad, x);
        }
    double extra[8];
    memcpy(extra, v + 8 * 3 * np, sizeof extra);
    if (!(isfinite(extra[0]) && extra[0] > 0))
        return ptd_error(PTD_EFORMAT, "%s: noise frequency w_max = %g is not finite and positive", path, extra[0]);
    for (size_t k = 5; k < 8; k++)
        if (extra[k] != 0 || signbit(extra[k]))
            return ptd_error(PTD_EFORMAT, "%s: reserved word %zu after the parameters is not zero", path, k);
    return PTD_OK;
}

int ptd_train_model_load(const char *path, ptd_train_model **out)
{
    *out = NULL;
    ptd_clear_error();
    FILE *f = fopen(path, "rb");
    if (!f) return ptd_error(PTD_EIO, "%s: cannot open: %s", path, strerror(errno));
    /* the buffer grows with the bytes that arrive, never by what the file says of itself */
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    int st = PTD_OK;
    for (;;) {
        if (ptdi_grow((void **)&buf, &cap, len + 1, SIZE_MAX, 1)) {
            st = ptd_error(PTD_ENOMEM, "%s: out of memory after %zu bytes", path, len);
            break;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0) break;
    }
    int ioerr = ferror(f);
    fclose(f);
    ck_header h;
    ptd_train_model *m = NULL;
    if (st) goto done;
    if (ioerr) {
        st = ptd_error(PTD_EIO, "%s: read error", path);
        goto done;
    }
    if (len < 8 || memcmp(buf, CK_MAGIC, 8) != 0) {
        st = ptd_error(PTD_EFORMAT, "%s: not an ssm-train checkpoint (no PTDSSM header)", path);
        goto done;
    }
    if (len < sizeof h + 8 * sizeof(double) + 4) {
        st = ptd_error(PTD_EFORMAT, "%s: truncated: %zu bytes, shorter than a checkpoint's header", path, len);
        goto done;
    }
    memcpy(&h, buf, sizeof h);
    if (h.version != CK_VERSION) {
        st = ptd_error(PTD_EFORMAT, "%s: checkpoint version %u; this build reads version %u", path, h.version, CK_VERSION);
        goto done;
    }
    /* the size the header implies, in checked arithmetic: 3 np + 8 doubles after it, a CRC */
    size_t want = (len - sizeof h - 4) / 8 - 8; /* doubles present beyond the 8 extra */
    if (h.np == 0 || h.np > want / 3 || len != sizeof h + (3 * h.np + 8) * sizeof(double) + 4) {
        st = ptd_error(PTD_EFORMAT, "%s: truncated or padded: %zu bytes for %llu parameters (checkpoint field np)",
                       path, len, (unsigned long long)h.np);
        goto done;
    }
    uint32_t crc;
    memcpy(&crc, buf + len - 4, 4);
    if (crc != (uint32_t)crc32(0L, buf, (uInt)(len - 4))) {
        st = ptd_error(PTD_EFORMAT, "%s: checksum mismatch: the file is corrupt", path);
        goto done;
    }
    if ((st = check_header(path, &h))) goto done;
    /* the layer (s4 0, s5 1), s5's blocks and s5_full, from the words after the modes */
    double xw[3];
    memcpy(xw, buf + sizeof h + (3 * h.np + 2) * 8, sizeof xw);
    for (size_t k = 0; k < 3; k++)
        if (!(xw[k] == floor(xw[k]) && xw[k] >= 0 && !signbit(xw[k]) && xw[k] <= (double)h.state)) {
            st = ptd_error(PTD_EFORMAT, "%s: the %s word after the parameters (%g) is not an integer in 0..%llu",
                           path, k == 0 ? "layer" : k == 1 ? "blocks" : "s5_full", xw[k],
                           (unsigned long long)h.state);
            goto done;
        }
    int s5 = xw[0] == 1;
    if (xw[0] > 1 || (!s5 && (xw[1] != 0 || xw[2] != 0)) || (s5 && (xw[1] < 1 || xw[2] > 1))) {
        st = ptd_error(PTD_EFORMAT, "%s: layer %g, blocks %g, s5_full %g: not an s4 model (0, 0, 0) or an s5 "
                       "model (1, J >= 1, 0 or 1)", path, xw[0], xw[1], xw[2]);
        goto done;
    }
    ptd_train_config c = {.din = h.din, .nclass = h.nclass, .len = h.len, .layers = h.layers, .width = h.width,
                          .state = h.state, .init = (ptd_train_init)h.init, .seed = h.seed,
                          .dt_min = h.dt_min, .dt_max = h.dt_max, .layer = s5 ? PTD_LAYER_S5 : PTD_LAYER_S4,
                          .blocks = (size_t)xw[1], .s5_full = (int)xw[2]};
    /* the modes per channel (s5: states per layer), from the word after w_max (0: the
     * default), before the layout */
    double xm;
    memcpy(&xm, buf + sizeof h + (3 * h.np + 1) * 8, sizeof xm);
    size_t m0 = ptdi_train_default_modes(&c);
    if (!(xm == 0 && !signbit(xm)) && !(xm == floor(xm) && xm >= (double)m0 && xm <= (double)h.state &&
                                        h.init == PTD_INIT_S4_PTD && !c.s5_full)) {
        st = ptd_error(PTD_EFORMAT, "%s: modes per channel = %g (the word after w_max) is not 0 or an integer in "
                       "N/2..N of a PTD model", path, xm);
        goto done;
    }
    c.modes = (size_t)xm;
    if ((st = ptdi_train_layout(&c, &m))) {
        st = ptd_error(PTD_EFORMAT, "%s: %s", path, ptd_last_error());
        goto done;
    }
    if (m->np != h.np) {
        st = ptd_error(PTD_EFORMAT, "%s: %llu parameters (checkpoint field np), but its configuration has %zu", path,
                       (unsigned long long)h.np, m->np);
        goto done;
    }
    const unsigned char *v = buf + sizeof h;
    if ((st = check_values(path, m, v, h.step))) goto done;
    if ((st = ptdi_train_buffers(m))) goto done;
    memcpy(m->p, v, m->np * 8);
    memcpy(m->am, v + m->np * 8, m->np * 8);
    memcpy(m->av, v + 2 * m->np * 8, m->np * 8);
    memcpy(&m->wmax, v + 3 * m->np * 8, sizeof m->wmax);
    m->epochs_done = h.epochs, m->step = h.step;
done:
    free(buf);
    if (st) ptd_train_model_free(m);
    else *out = m;
    return st;
}
