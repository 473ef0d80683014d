/*
 * _halfgemm: y = x @ W + b for a few rows of float32 x against a float16 weight matrix.
 *
 * Why this exists: a vibe query runs all-MiniLM-L6-v2 over a handful of tokens, so every
 * dense layer is a "skinny" product (about 4-16 rows of x against a 384x1536-class weight
 * matrix). OpenBLAS packs both operands for every sgemm call, which at these shapes costs
 * more than the arithmetic (measured: 6.3 ms for the 24 encoder matmuls at 4 rows against
 * 2.6 ms for a single row), and streaming 42 MB of float32 weights keeps the working set
 * out of the 32 MB L3. Weights held as float16 (21 MB, cosine to the float32 embedding
 * >= 0.9999997 on the library texts) and pre-packed once at load into column panels let one
 * pass over each panel serve every row from registers.
 *
 * Layout: W (K x N, N a multiple of 16) is packed as N/16 panels, each K rows of 16
 * consecutive columns: packed[p][k][j] = W[k][16 p + j] (see pack_panels in halfgemm.py).
 * Products accumulate in float32 with FMA; float16 -> float32 conversion is exact.
 * Buffers must be C-contiguous, x/bias/y float32 and W float16 (checked by format code).
 *
 * The kernel needs x86-64 AVX2 + FMA + F16C (every x86 CPU since ~2013); `available()`
 * reports whether this CPU has them, and callers fall back to numpy otherwise. Nothing here
 * depends on numpy's C API: arrays arrive through the buffer protocol, sizes are checked
 * against the buffers before any access, and the GIL is released while the kernel runs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define PANEL 16
#define ROW_BLOCK 6

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HALFGEMM_X86 1
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,f16c")))

/* One panel (16 columns) for `rows` (1..ROW_BLOCK) rows of x: 2 * rows accumulators in
 * registers, each weight row converted once and used by every x row. `rows` is a
 * compile-time constant at each call site below, so the loops unroll fully. */
static inline __attribute__((always_inline)) TARGET void
panel_block(const int rows, const float *x, Py_ssize_t ldx, const uint16_t *wp, Py_ssize_t K,
            __m256 b0, __m256 b1, float *y, Py_ssize_t ldy)
{
    __m256 acc0[ROW_BLOCK], acc1[ROW_BLOCK];
#pragma GCC unroll 8
    for (int r = 0; r < rows; r++) {
        acc0[r] = b0;
        acc1[r] = b1;
    }
    for (Py_ssize_t k = 0; k < K; k++) {
        const uint16_t *wk = wp + k * PANEL;
        __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)wk));
        __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wk + 8)));
#pragma GCC unroll 8
        for (int r = 0; r < rows; r++) {
            __m256 xr = _mm256_broadcast_ss(x + r * ldx + k);
            acc0[r] = _mm256_fmadd_ps(xr, w0, acc0[r]);
            acc1[r] = _mm256_fmadd_ps(xr, w1, acc1[r]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < rows; r++) {
        _mm256_storeu_ps(y + r * ldy, acc0[r]);
        _mm256_storeu_ps(y + r * ldy + 8, acc1[r]);
    }
}

static TARGET void
gemm_avx2(const float *x, const uint16_t *w, const float *bias, float *y, Py_ssize_t M,
          Py_ssize_t K, Py_ssize_t N)
{
    const Py_ssize_t panels = N / PANEL;
    for (Py_ssize_t p = 0; p < panels; p++) {
        const uint16_t *wp = w + p * K * PANEL;
        const __m256 b0 = bias ? _mm256_loadu_ps(bias + p * PANEL) : _mm256_setzero_ps();
        const __m256 b1 = bias ? _mm256_loadu_ps(bias + p * PANEL + 8) : _mm256_setzero_ps();
        /* Split the rows into equal blocks of at most ROW_BLOCK (7 rows as 4 + 3, not 6 + 1):
         * a block of one or two rows is bound by weight loads, not arithmetic. */
        const Py_ssize_t blocks = (M + ROW_BLOCK - 1) / ROW_BLOCK;
        Py_ssize_t m = 0;
        for (Py_ssize_t blk = 0; blk < blocks; blk++) {
            const Py_ssize_t rows = M / blocks + (blk < M % blocks ? 1 : 0);
            const float *xm = x + m * K;
            float *ym = y + m * N + p * PANEL;
            switch (rows) {
            case 6: panel_block(6, xm, K, wp, K, b0, b1, ym, N); break;
            case 5: panel_block(5, xm, K, wp, K, b0, b1, ym, N); break;
            case 4: panel_block(4, xm, K, wp, K, b0, b1, ym, N); break;
            case 3: panel_block(3, xm, K, wp, K, b0, b1, ym, N); break;
            case 2: panel_block(2, xm, K, wp, K, b0, b1, ym, N); break;
            default: panel_block(1, xm, K, wp, K, b0, b1, ym, N); break;
            }
            m += rows;
        }
    }
}

static int
cpu_ok(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("f16c");
}
#else
static int
cpu_ok(void)
{
    return 0;
}
#endif

static PyObject *
halfgemm_available(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    return PyBool_FromLong(cpu_ok());
}

/* Release every buffer that was acquired (their .obj is NULL until acquired). */
static void
release(Py_buffer *bufs, int n)
{
    for (int i = 0; i < n; i++)
        if (bufs[i].obj != NULL)
            PyBuffer_Release(&bufs[i]);
}

/* True if a buffer format string is the native-endian (little-endian here) scalar `code`. */
static int
is_format(const char *format, char code)
{
    if (format == NULL)
        return 0; /* unsigned bytes */
    if (format[0] == '<' || format[0] == '=' || format[0] == '@')
        format++;
    return format[0] == code && format[1] == '\0';
}

static PyObject *
halfgemm_matmul(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *x_obj, *w_obj, *b_obj, *y_obj;
    Py_ssize_t M, K, N;
    if (!PyArg_ParseTuple(args, "OOOOnnn:matmul", &x_obj, &w_obj, &b_obj, &y_obj, &M, &K, &N))
        return NULL;
    if (!cpu_ok()) {
        PyErr_SetString(PyExc_RuntimeError, "halfgemm: this CPU lacks AVX2/FMA/F16C");
        return NULL;
    }
    if (M < 0 || K < 1 || N < PANEL || N % PANEL != 0) {
        PyErr_Format(PyExc_ValueError,
                     "halfgemm: bad shape M=%zd K=%zd N=%zd (N must be a positive multiple of %d)",
                     M, K, N, PANEL);
        return NULL;
    }
    if (M > PY_SSIZE_T_MAX / K / 4 || N > PY_SSIZE_T_MAX / K / 2 || M > PY_SSIZE_T_MAX / N / 4) {
        PyErr_SetString(PyExc_OverflowError, "halfgemm: shape too large");
        return NULL;
    }
    Py_buffer bufs[4] = {{0}};
    const int has_bias = b_obj != Py_None;
    const int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT;
    if (PyObject_GetBuffer(x_obj, &bufs[0], flags) < 0 ||
        PyObject_GetBuffer(w_obj, &bufs[1], flags) < 0 ||
        (has_bias && PyObject_GetBuffer(b_obj, &bufs[2], flags) < 0) ||
        PyObject_GetBuffer(y_obj, &bufs[3], flags | PyBUF_WRITABLE) < 0) {
        release(bufs, 4);
        return NULL;
    }
    static const char *const names[4] = {"x", "w", "bias", "y"};
    for (int i = 0; i < 4; i++) {
        if (bufs[i].obj == NULL)
            continue;
        const char want = i == 1 ? 'e' : 'f'; /* float16 weights, float32 everything else */
        if (!is_format(bufs[i].format, want)) {
            PyErr_Format(PyExc_TypeError, "halfgemm: %s must be %s, got buffer format '%s'",
                         names[i], i == 1 ? "float16" : "float32",
                         bufs[i].format ? bufs[i].format : "B");
            release(bufs, 4);
            return NULL;
        }
    }
    if (bufs[0].len < M * K * 4 || bufs[1].len < K * N * 2 || (has_bias && bufs[2].len < N * 4) ||
        bufs[3].len < M * N * 4) {
        release(bufs, 4);
        PyErr_Format(PyExc_ValueError,
                     "halfgemm: buffers too small for M=%zd K=%zd N=%zd (x %zd B, w %zd B, "
                     "y %zd B)",
                     M, K, N, bufs[0].len, bufs[1].len, bufs[3].len);
        return NULL;
    }
#ifdef HALFGEMM_X86
    const float *x = (const float *)bufs[0].buf;
    const uint16_t *w = (const uint16_t *)bufs[1].buf;
    const float *b = has_bias ? (const float *)bufs[2].buf : NULL;
    float *y = (float *)bufs[3].buf;
    Py_BEGIN_ALLOW_THREADS
    gemm_avx2(x, w, b, y, M, K, N);
    Py_END_ALLOW_THREADS
#endif
    release(bufs, 4);
    Py_RETURN_NONE;
}

static PyMethodDef halfgemm_methods[] = {
    {"available", halfgemm_available, METH_NOARGS,
     "available() -> bool: True if this CPU can run the kernel (x86-64 AVX2 + FMA + F16C)."},
    {"matmul", halfgemm_matmul, METH_VARARGS,
     "matmul(x, w_packed, bias_or_None, y, M, K, N): y[M,N] = x[M,K] @ W + bias.\n\n"
     "x: float32 C-contiguous (M, K); w_packed: float16 panels (N/16, K, 16); bias: float32\n"
     "(N,) or None; y: writable float32 C-contiguous (M, N). N must be a multiple of 16.\n"
     "Buffer sizes are checked; dtypes are the caller's contract (see halfgemm.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef halfgemm_module = {
    PyModuleDef_HEAD_INIT,
    "_halfgemm",
    "Skinny float32 x float16-weight matrix products for the MiniLM query path.",
    -1,
    halfgemm_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__halfgemm(void)
{
    return PyModule_Create(&halfgemm_module);
}
