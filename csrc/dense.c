/* dense.c -- the fully connected layer: out = inp @ weight + bias (Keras layout).
 *
 * B is the number of rows: the batch, times every leading axis of a rank > 2 input (Dense
 * applies to the last axis). All products go through aenn_gemm, whose per-element order is
 * fixed (k = 0..K-1), so the results never depend on the thread count:
 *   - dweight = inp^T @ dout sums over the batch in row order for each element;
 *   - dbias sums each column of dout in row order; a column is owned by one thread.
 */
#include "dense.h"

#include "gemm.h"

/* ---- bias helpers (parallel over columns or rows, each output written by one item) ---- */

typedef struct {
    float *out;
    const float *bias;
    int64_t OC;
} add_bias_ctx;

static void add_bias_rows(void *ctx, int64_t begin, int64_t end) {
    const add_bias_ctx *a = (const add_bias_ctx *)ctx;
    for (int64_t b = begin; b < end; b++) {
        float *row = a->out + b * a->OC;
        for (int64_t o = 0; o < a->OC; o++) row[o] = row[o] + a->bias[o];
    }
}

typedef struct {
    float *dbias;
    const float *dout;
    int64_t B, OC;
} col_sum_ctx;

#define COLS_PER_ITEM 64

/* Elements below which a second thread costs more (waking it, sharing cache lines) than it
 * saves on these memory-bound loops: ~16k floats, as the elementwise kernels use. */
#define MIN_ELEMS 16384

/* dbias[o] = dout[0][o] + dout[1][o] + ... + dout[B-1][o], rows in order. Item = 64 columns. */
static void col_sum_task(void *ctx, int64_t begin, int64_t end) {
    const col_sum_ctx *s = (const col_sum_ctx *)ctx;
    int64_t o0 = begin * COLS_PER_ITEM, o1 = end * COLS_PER_ITEM;
    if (o1 > s->OC) o1 = s->OC;
    for (int64_t o = o0; o < o1; o++) s->dbias[o] = 0.0f;
    for (int64_t b = 0; b < s->B; b++) {
        const float *row = s->dout + b * s->OC;
        for (int64_t o = o0; o < o1; o++) s->dbias[o] = s->dbias[o] + row[o];
    }
}

/* ---------------------------------------------------------------------------------------- */

/* out (B, OC) = inp (B, C) @ weight (C, OC) [+ bias (OC)]; bias may be NULL.
 * Per element: the dot product over c in order, then + bias. */
void aenn_dense_forward(float *out, const float *inp, const float *weight, const float *bias,
                        int64_t B, int64_t C, int64_t OC) {
    aenn_gemm(out, inp, weight, B, OC, C, 0, 0, 0.0f);
    if (bias != NULL) {
        add_bias_ctx a = {out, bias, OC};
        int64_t min_rows = OC >= MIN_ELEMS ? 1 : MIN_ELEMS / OC;
        aenn_parallel_for(B, min_rows, add_bias_rows, &a);
    }
}

/* dout (B, OC), inp (B, C), weight (C, OC) ->
 *   dinp (B, C) = dout @ weight^T        (may be NULL: first layer)
 *   dweight (C, OC) = inp^T @ dout       (overwritten)
 *   dbias (OC) = sum over rows of dout   (may be NULL: use_bias=False) */
void aenn_dense_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                         const float *inp, const float *weight, int64_t B, int64_t C, int64_t OC) {
    if (dinp != NULL) aenn_gemm(dinp, dout, weight, B, C, OC, 0, 1, 0.0f);
    if (dweight != NULL) aenn_gemm(dweight, inp, dout, C, OC, B, 1, 0, 0.0f);
    if (dbias != NULL) {
        col_sum_ctx s = {dbias, dout, B, OC};
        int64_t per_item = B * COLS_PER_ITEM; /* elements one item reads */
        int64_t min_items = per_item >= MIN_ELEMS ? 1 : MIN_ELEMS / per_item;
        aenn_parallel_for((OC + COLS_PER_ITEM - 1) / COLS_PER_ITEM, min_items, col_sum_task, &s);
    }
}
