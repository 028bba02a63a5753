/* blas.c - the one matrix-product wrapper over CBLAS, and its reference. */
#include "core/internal.h"

#include <cblas.h>

/* One output row or column is a matrix-vector product. SGEMM would first
 * copy ("pack") the whole of the other operand, tripling the memory traffic
 * of a product that is bound by reading that operand once: at batch 1 (one
 * sample through a model, the latency case) that is most of the time.
 * SGEMV reads it in place. beta = 0 is applied here: C may hold anything,
 * NaN included, and BLAS libraries differ on whether SGEMV's beta = 0
 * overwrites it or scales it. */
static void gemv(bool trans_m, int rows, int cols, float alpha, const float *m, int ldm,
                 const float *x, int incx, float beta, float *y, int incy, int ny)
{
    if (beta == 0.0f) {
        for (int i = 0; i < ny; i++) y[(size_t)i * incy] = 0.0f;
        beta = 1.0f;
    }
    cblas_sgemv(CblasRowMajor, trans_m ? CblasTrans : CblasNoTrans, rows, cols, alpha, m, ldm,
                x, incx, beta, y, incy);
}

void lc_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta,
              float *c, int ldc)
{
    if (m == 0 || n == 0) return;
    if (k > 0 && m == 1) /* c = op(B)^T x, x the row of A (a column of A^T: stride lda) */
        gemv(!trans_b, trans_b ? n : k, trans_b ? k : n, alpha, b, ldb, a, trans_a ? lda : 1, beta,
             c, 1, n);
    else if (k > 0 && n == 1) /* c = op(A) x, x the column of op(B); c a column: stride ldc */
        gemv(trans_a, trans_a ? k : m, trans_a ? m : k, alpha, a, lda, b, trans_b ? 1 : ldb, beta,
             c, ldc, m);
    else
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                    trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
                    ldc);
}

void lc_sgemm_ref(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                  const float *a, int lda, const float *b, int ldb, float beta,
                  float *c, int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                double av = trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                double bv = trans_b ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                s += av * bv;
            }
            float *cij = &c[(size_t)i * ldc + j];
            *cij = (float)(alpha * s + (beta == 0 ? 0.0 : (double)beta * *cij));
        }
}
