/*
 * Hashed word and character n-gram counts, and the linear scores of their features, exactly as
 * models/features.py computes them in Python.
 *
 * Why C: featurizing a webhook's conversation and the replies guidance checks
 * creates tens of thousands of short Python strings (every word 1-3-gram, every
 * char_wb 2-5-gram) only to hash them. Here the same grams are hashed straight
 * from the text's code points, with the same rules:
 *
 * - words: the matches of scikit-learn's token pattern (?u)\b\w[\w']*\b|[!?]{2,}
 *   (\w and \b as Python's re module defines them in Unicode mode), joined into
 *   1- to 3-grams with single spaces;
 * - chars: char_wb 2- to 5-grams of each whitespace-separated token padded with
 *   one space on each side (str.split() whitespace), a token of n or fewer padded
 *   characters counting once;
 * - each gram's UTF-8 bytes hashed with MurmurHash3 x86_32, seed 0, column
 *   |h| mod n_features (scikit-learn's HashingVectorizer without alternate sign).
 *
 * Counts are summed per owner row and returned as CSR arrays (columns sorted and
 * unique within a row). A text that cannot be encoded as UTF-8 (a lone surrogate)
 * raises UnicodeEncodeError, as encoding it in Python does; the caller falls back.
 *
 * merge() adds sentence rows up into message rows, and linear() computes the
 * scores' product (features @ coefficients) from the counts without building the
 * feature matrix: tf-idf, the role crossing and the cue groups laid out as
 * MessageFeaturizer._assemble lays them, each row's entries added in column order
 * in float32, as scipy's sparse product adds them, so the scores are the same.
 * tests/models/test_fast_paths.py checks every output against the Python path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- MurmurHash3 x86_32 (public domain, Austin Appleby), as scikit-learn's murmurhash3_bytes_s32 ---- */

static inline uint32_t rotl32(uint32_t x, int8_t r) { return (x << r) | (x >> (32 - r)); }

static int32_t murmur3_32(const uint8_t *data, Py_ssize_t len, uint32_t seed) {
    const Py_ssize_t nblocks = len / 4;
    uint32_t h1 = seed;
    const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
    for (Py_ssize_t i = 0; i < nblocks; i++) {
        uint32_t k1;
        memcpy(&k1, data + 4 * i, 4); /* little-endian, as the reference implementation on x86 */
        k1 *= c1; k1 = rotl32(k1, 15); k1 *= c2;
        h1 ^= k1; h1 = rotl32(h1, 13); h1 = h1 * 5 + 0xe6546b64;
    }
    const uint8_t *tail = data + nblocks * 4;
    uint32_t k1 = 0;
    switch (len & 3) {
        case 3: k1 ^= (uint32_t)tail[2] << 16; /* fall through */
        case 2: k1 ^= (uint32_t)tail[1] << 8;  /* fall through */
        case 1: k1 ^= tail[0]; k1 *= c1; k1 = rotl32(k1, 15); k1 *= c2; h1 ^= k1;
    }
    h1 ^= (uint32_t)len;
    h1 ^= h1 >> 16; h1 *= 0x85ebca6b; h1 ^= h1 >> 13; h1 *= 0xc2b2ae35; h1 ^= h1 >> 16;
    return (int32_t)h1;
}

static inline int64_t column_of(const uint8_t *bytes, Py_ssize_t len, int64_t n_features) {
    int64_t h = murmur3_32(bytes, len, 0);
    return (h < 0 ? -h : h) % n_features;
}

/* ---- growable buffers ---- */

typedef struct { uint8_t *data; Py_ssize_t len, cap; } Bytes;
typedef struct { int64_t *data; Py_ssize_t len, cap; } Keys;

static int bytes_reserve(Bytes *b, Py_ssize_t extra) {
    if (b->len + extra <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *grown = PyMem_Realloc(b->data, cap);
    if (!grown) { PyErr_NoMemory(); return -1; }
    b->data = grown; b->cap = cap;
    return 0;
}

static int keys_push(Keys *k, int64_t value) {
    if (k->len == k->cap) {
        Py_ssize_t cap = k->cap ? 2 * k->cap : 1024;
        int64_t *grown = PyMem_Realloc(k->data, cap * sizeof(int64_t));
        if (!grown) { PyErr_NoMemory(); return -1; }
        k->data = grown; k->cap = cap;
    }
    k->data[k->len++] = value;
    return 0;
}

/* UTF-8 of one code point; -1 (MemoryError set), or -2 (nothing set) for a surrogate, which UTF-8 cannot hold. */
static int put_utf8(Bytes *b, Py_UCS4 c) {
    if (bytes_reserve(b, 4) < 0) return -1;
    uint8_t *p = b->data + b->len;
    if (c < 0x80) { p[0] = (uint8_t)c; b->len += 1; }
    else if (c < 0x800) { p[0] = 0xC0 | (c >> 6); p[1] = 0x80 | (c & 0x3F); b->len += 2; }
    else if (c < 0x10000) {
        if (c >= 0xD800 && c <= 0xDFFF) return -2;
        p[0] = 0xE0 | (c >> 12); p[1] = 0x80 | ((c >> 6) & 0x3F); p[2] = 0x80 | (c & 0x3F); b->len += 3;
    } else {
        p[0] = 0xF0 | (c >> 18); p[1] = 0x80 | ((c >> 12) & 0x3F); p[2] = 0x80 | ((c >> 6) & 0x3F);
        p[3] = 0x80 | (c & 0x3F); b->len += 4;
    }
    return 0;
}

/* \w in Python's re, Unicode mode: SRE_UNI_IS_WORD. */
static inline int is_word(Py_UCS4 c) { return Py_UNICODE_ISALNUM(c) || c == '_'; }

typedef struct { Py_ssize_t start, end; } Span;

/* The matches of (?u)\b\w[\w']*\b|[!?]{2,} in order, as re.findall finds them. */
static int word_tokens(const Py_UCS4 *s, Py_ssize_t n, Span **out, Py_ssize_t *count, Py_ssize_t *cap) {
    Py_ssize_t i = 0;
    *count = 0;
    while (i < n) {
        Py_ssize_t end = -1;
        if (is_word(s[i]) && (i == 0 || !is_word(s[i - 1]))) {
            /* [\w']* runs greedily; the match then ends just after its last word character,
               the only place inside the run where \b holds at the end of the match. */
            Py_ssize_t j = i + 1, last = i;
            while (j < n && (is_word(s[j]) || s[j] == '\'')) {
                if (is_word(s[j])) last = j;
                j++;
            }
            end = last + 1;
        } else if ((s[i] == '!' || s[i] == '?') && i + 1 < n && (s[i + 1] == '!' || s[i + 1] == '?')) {
            Py_ssize_t j = i + 2;
            while (j < n && (s[j] == '!' || s[j] == '?')) j++;
            end = j;
        }
        if (end < 0) { i++; continue; }
        if (*count == *cap) {
            Py_ssize_t grown_cap = *cap ? 2 * *cap : 64;
            Span *grown = PyMem_Realloc(*out, grown_cap * sizeof(Span));
            if (!grown) { PyErr_NoMemory(); return -1; }
            *out = grown; *cap = grown_cap;
        }
        (*out)[(*count)++] = (Span){i, end};
        i = end;
    }
    return 0;
}

static int word_grams(const Py_UCS4 *s, const Span *tokens, Py_ssize_t n_tokens, int64_t row, int64_t n_features,
                      Bytes *buf, Keys *keys) {
    for (int n = 1; n <= 3; n++) {
        for (Py_ssize_t i = 0; i + n <= n_tokens; i++) {
            buf->len = 0;
            for (int k = 0; k < n; k++) {
                if (k && put_utf8(buf, ' ') < 0) return -1;
                for (Py_ssize_t p = tokens[i + k].start; p < tokens[i + k].end; p++) {
                    int e = put_utf8(buf, s[p]);
                    if (e) return e;
                }
            }
            if (keys_push(keys, row * n_features + column_of(buf->data, buf->len, n_features)) < 0) return -1;
        }
    }
    return 0;
}

/* char_wb 2..5-grams of each whitespace-separated token, padded " token ". */
static int char_grams(const Py_UCS4 *s, Py_ssize_t n, int64_t row, int64_t n_features, Bytes *buf, Keys *keys,
                      Py_UCS4 **padded, Py_ssize_t *padded_cap) {
    Py_ssize_t i = 0;
    while (i < n) {
        while (i < n && Py_UNICODE_ISSPACE(s[i])) i++;
        if (i >= n) break;
        Py_ssize_t j = i;
        while (j < n && !Py_UNICODE_ISSPACE(s[j])) j++;
        Py_ssize_t w_len = j - i + 2;
        if (w_len > *padded_cap) {
            Py_UCS4 *grown = PyMem_Realloc(*padded, w_len * sizeof(Py_UCS4));
            if (!grown) { PyErr_NoMemory(); return -1; }
            *padded = grown; *padded_cap = w_len;
        }
        Py_UCS4 *w = *padded;
        w[0] = ' ';
        memcpy(w + 1, s + i, (j - i) * sizeof(Py_UCS4));
        w[w_len - 1] = ' ';
        for (Py_ssize_t size = 2; size <= 5; size++) {
            Py_ssize_t offset = 0;
            for (;;) {
                buf->len = 0;
                Py_ssize_t stop = offset + size < w_len ? offset + size : w_len;
                for (Py_ssize_t p = offset; p < stop; p++) {
                    int e = put_utf8(buf, w[p]);
                    if (e) return e;
                }
                if (keys_push(keys, row * n_features + column_of(buf->data, buf->len, n_features)) < 0) return -1;
                if (offset + size >= w_len) break;
                offset++;
            }
            if (offset == 0) break; /* a token of `size` or fewer padded characters counts once */
        }
        i = j;
    }
    return 0;
}

/* Sort non-negative keys below `limit` in place: LSD radix sort, 11 bits a pass (a few passes, no comparisons). */
static int radix_sort(Keys *keys, int64_t limit) {
    enum { BITS = 11, BUCKETS = 1 << BITS };
    if (keys->len < 2) return 0;
    int64_t *other = PyMem_Malloc(keys->len * sizeof(int64_t));
    if (!other) { PyErr_NoMemory(); return -1; }
    int64_t *from = keys->data, *to = other;
    for (int shift = 0; shift < 64 && ((limit - 1) >> shift) > 0; shift += BITS) {
        Py_ssize_t start[BUCKETS] = {0};
        for (Py_ssize_t i = 0; i < keys->len; i++) start[(from[i] >> shift) & (BUCKETS - 1)]++;
        Py_ssize_t total = 0;
        for (int b = 0; b < BUCKETS; b++) { Py_ssize_t count = start[b]; start[b] = total; total += count; }
        for (Py_ssize_t i = 0; i < keys->len; i++) to[start[(from[i] >> shift) & (BUCKETS - 1)]++] = from[i];
        int64_t *swap = from; from = to; to = swap;
    }
    if (from != keys->data) memcpy(keys->data, from, keys->len * sizeof(int64_t));
    PyMem_Free(other);
    return 0;
}

/* (indptr, indices, data) as bytearrays (writable for numpy): int64, int64, float32; keys are row * n_features + column. */
static PyObject *csr_of(Keys *keys, Py_ssize_t n_rows, int64_t n_features) {
    if (radix_sort(keys, (int64_t)n_rows * n_features) < 0) return NULL;
    Py_ssize_t unique = 0;
    for (Py_ssize_t i = 0; i < keys->len; i++)
        if (i == 0 || keys->data[i] != keys->data[i - 1]) unique++;
    PyObject *indptr = PyByteArray_FromStringAndSize(NULL, (n_rows + 1) * sizeof(int64_t));
    PyObject *indices = PyByteArray_FromStringAndSize(NULL, unique * sizeof(int64_t));
    PyObject *data = PyByteArray_FromStringAndSize(NULL, unique * sizeof(float));
    if (!indptr || !indices || !data) { Py_XDECREF(indptr); Py_XDECREF(indices); Py_XDECREF(data); return NULL; }
    int64_t *ip = (int64_t *)PyByteArray_AS_STRING(indptr), *ix = (int64_t *)PyByteArray_AS_STRING(indices);
    float *dx = (float *)PyByteArray_AS_STRING(data);
    memset(ip, 0, (n_rows + 1) * sizeof(int64_t));
    Py_ssize_t u = -1;
    for (Py_ssize_t i = 0; i < keys->len; i++) {
        int64_t key = keys->data[i];
        if (i == 0 || key != keys->data[i - 1]) {
            u++;
            ix[u] = key % n_features;
            dx[u] = 0.0f;
            ip[key / n_features + 1]++;
        }
        dx[u] += 1.0f;
    }
    for (Py_ssize_t r = 0; r < n_rows; r++) ip[r + 1] += ip[r];
    return Py_BuildValue("(NNN)", indptr, indices, data);
}

static PyObject *counts(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *texts, *owners_obj;
    Py_ssize_t n_rows;
    long long word_features, char_features;
    if (!PyArg_ParseTuple(args, "OOnLL", &texts, &owners_obj, &n_rows, &word_features, &char_features)) return NULL;
    PyObject *seq = PySequence_Fast(texts, "texts must be a sequence of str");
    if (!seq) return NULL;
    Py_buffer owners;
    if (PyObject_GetBuffer(owners_obj, &owners, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) { Py_DECREF(seq); return NULL; }
    PyObject *result = NULL;
    Keys words = {0}, chars = {0};
    Bytes buf = {0};
    Span *tokens = NULL;
    Py_ssize_t tokens_cap = 0, n_tokens = 0, padded_cap = 0;
    Py_UCS4 *padded = NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (owners.itemsize != 8 || owners.len / 8 != n) {
        PyErr_SetString(PyExc_ValueError, "owners must be one int64 per text");
        goto done;
    }
    const int64_t *owner = (const int64_t *)owners.buf;
    for (Py_ssize_t t = 0; t < n; t++) {
        PyObject *text = PySequence_Fast_GET_ITEM(seq, t);
        if (!PyUnicode_Check(text)) { PyErr_SetString(PyExc_TypeError, "texts must be str"); goto done; }
        if (owner[t] < 0 || owner[t] >= n_rows) { PyErr_SetString(PyExc_ValueError, "owner out of range"); goto done; }
        Py_UCS4 *s = PyUnicode_AsUCS4Copy(text);
        if (!s) goto done;
        Py_ssize_t len = PyUnicode_GET_LENGTH(text);
        int failed = word_tokens(s, len, &tokens, &n_tokens, &tokens_cap) < 0
                     || word_grams(s, tokens, n_tokens, owner[t], word_features, &buf, &words) != 0
                     || char_grams(s, len, owner[t], char_features, &buf, &chars, &padded, &padded_cap) != 0;
        PyMem_Free(s);
        if (failed) {
            if (!PyErr_Occurred()) { /* a surrogate: the error encoding the text in Python raises */
                PyObject *error = PyObject_CallFunction(PyExc_UnicodeEncodeError, "sOnns", "utf-8", text, (Py_ssize_t)0,
                                                        len, "surrogates not allowed");
                if (error) { PyErr_SetObject(PyExc_UnicodeEncodeError, error); Py_DECREF(error); }
            }
            goto done;
        }
    }
    PyObject *w = csr_of(&words, n_rows, word_features);
    PyObject *c = w ? csr_of(&chars, n_rows, char_features) : NULL;
    if (w && c) result = Py_BuildValue("(NN)", w, c);
    else { Py_XDECREF(w); Py_XDECREF(c); }
done:
    PyMem_Free(words.data); PyMem_Free(chars.data); PyMem_Free(buf.data); PyMem_Free(tokens); PyMem_Free(padded);
    PyBuffer_Release(&owners);
    Py_DECREF(seq);
    return result;
}

/* ---- sparse rows: merging sentence rows into message rows, and the linear scores of features ---- */

/* A CSR argument: three C-contiguous arrays int64 indptr, int64 indices, float32 data. */
typedef struct { Py_buffer indptr, indices, data; int held; } Csr;

static int buffer_of(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, char kind, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    char format = view->format ? view->format[strlen(view->format) - 1] : 'B';
    int ok = view->itemsize == itemsize && (kind == 'i' ? (format == 'l' || format == 'q') : format == kind);
    if (!ok) {
        PyErr_Format(PyExc_TypeError, "%s must be a contiguous %s array", what, kind == 'i' ? "int64" : kind == 'f' ? "float32" : "float64");
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static void csr_release(Csr *m) {
    if (m->held > 2) PyBuffer_Release(&m->data);
    if (m->held > 1) PyBuffer_Release(&m->indices);
    if (m->held > 0) PyBuffer_Release(&m->indptr);
    m->held = 0;
}

/* Parse (indptr, indices, data) and check that indptr is a valid, non-decreasing pointer into the entries. */
static int csr_parse(PyObject *obj, Csr *m, const char *what) {
    PyObject *a, *b, *c;
    m->held = 0;
    if (!PyArg_ParseTuple(obj, "OOO", &a, &b, &c)) return -1;
    if (buffer_of(a, &m->indptr, 8, 'i', what) < 0) return -1;
    m->held = 1;
    if (buffer_of(b, &m->indices, 8, 'i', what) < 0) { csr_release(m); return -1; }
    m->held = 2;
    if (buffer_of(c, &m->data, 4, 'f', what) < 0) { csr_release(m); return -1; }
    m->held = 3;
    Py_ssize_t rows = m->indptr.len / 8 - 1, entries = m->indices.len / 8;
    const int64_t *ip = m->indptr.buf;
    int ok = rows >= 0 && m->data.len / 4 == entries && ip[0] == 0 && ip[rows] == entries;
    for (Py_ssize_t r = 0; ok && r < rows; r++) ok = ip[r] <= ip[r + 1];
    if (!ok) { PyErr_Format(PyExc_ValueError, "%s is not a valid CSR structure", what); csr_release(m); return -1; }
    return 0;
}

static inline Py_ssize_t csr_rows(const Csr *m) { return m->indptr.len / 8 - 1; }

/* merge(rows, bounds) -> (indptr, indices, data): row g of the result adds up rows bounds[g]..bounds[g+1]
 * (columns sorted and unique within each row, as summed() in features.py gives them). */
static PyObject *merge(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *rows_obj, *bounds_obj;
    if (!PyArg_ParseTuple(args, "OO", &rows_obj, &bounds_obj)) return NULL;
    Csr m;
    if (csr_parse(rows_obj, &m, "rows") < 0) return NULL;
    Py_buffer bounds;
    if (buffer_of(bounds_obj, &bounds, 8, 'i', "bounds") < 0) { csr_release(&m); return NULL; }
    PyObject *result = NULL, *indptr = NULL, *indices = NULL, *data = NULL;
    int64_t *acc_col = NULL, *tmp_col = NULL;
    double *acc_val = NULL, *tmp_val = NULL;
    const int64_t *ip = m.indptr.buf, *ix = m.indices.buf, *bd = bounds.buf;
    const float *dx = m.data.buf;
    Py_ssize_t groups = bounds.len / 8 - 1, n_rows = csr_rows(&m), entries = m.indices.len / 8, longest = 0;
    int ok = groups >= 0 && bd[0] == 0 && bd[groups] == n_rows;
    for (Py_ssize_t g = 0; ok && g < groups; g++) {
        ok = bd[g] <= bd[g + 1] && bd[g + 1] <= n_rows;  /* checked before bd[g + 1] indexes indptr */
        if (ok && ip[bd[g + 1]] - ip[bd[g]] > longest) longest = ip[bd[g + 1]] - ip[bd[g]];
    }
    if (!ok) { PyErr_SetString(PyExc_ValueError, "bounds must rise from 0 to the number of rows"); goto done; }
    acc_col = PyMem_Malloc((longest + 1) * sizeof(int64_t)); tmp_col = PyMem_Malloc((longest + 1) * sizeof(int64_t));
    acc_val = PyMem_Malloc((longest + 1) * sizeof(double)); tmp_val = PyMem_Malloc((longest + 1) * sizeof(double));
    indptr = PyByteArray_FromStringAndSize(NULL, (groups + 1) * sizeof(int64_t));
    indices = PyByteArray_FromStringAndSize(NULL, entries * sizeof(int64_t));
    data = PyByteArray_FromStringAndSize(NULL, entries * sizeof(float));
    if (!acc_col || !tmp_col || !acc_val || !tmp_val) { PyErr_NoMemory(); goto done; }
    if (!indptr || !indices || !data) goto done;
    int64_t *out_ip = (int64_t *)PyByteArray_AS_STRING(indptr), *out_ix = (int64_t *)PyByteArray_AS_STRING(indices);
    float *out_dx = (float *)PyByteArray_AS_STRING(data);
    Py_ssize_t written = 0;
    out_ip[0] = 0;
    for (Py_ssize_t g = 0; g < groups; g++) {
        Py_ssize_t n_acc = 0;
        for (int64_t r = bd[g]; r < bd[g + 1]; r++) {  /* merge row r into the sorted accumulator */
            Py_ssize_t i = 0, j = ip[r], n = 0;
            while (i < n_acc || j < ip[r + 1]) {
                if (j == ip[r + 1] || (i < n_acc && acc_col[i] < ix[j])) { tmp_col[n] = acc_col[i]; tmp_val[n++] = acc_val[i++]; }
                else if (i == n_acc || ix[j] < acc_col[i]) { tmp_col[n] = ix[j]; tmp_val[n++] = dx[j++]; }
                else { tmp_col[n] = acc_col[i]; tmp_val[n++] = acc_val[i++] + dx[j++]; }
            }
            int64_t *swap_col = acc_col; acc_col = tmp_col; tmp_col = swap_col;
            double *swap_val = acc_val; acc_val = tmp_val; tmp_val = swap_val;
            n_acc = n;
        }
        for (Py_ssize_t i = 0; i < n_acc; i++) { out_ix[written] = acc_col[i]; out_dx[written++] = (float)acc_val[i]; }
        out_ip[g + 1] = written;
    }
    if (PyByteArray_Resize(indices, written * sizeof(int64_t)) < 0 || PyByteArray_Resize(data, written * sizeof(float)) < 0)
        goto done;
    result = Py_BuildValue("(OOO)", indptr, indices, data);
done:
    Py_XDECREF(indptr); Py_XDECREF(indices); Py_XDECREF(data);
    PyMem_Free(acc_col); PyMem_Free(tmp_col); PyMem_Free(acc_val); PyMem_Free(tmp_val);
    PyBuffer_Release(&bounds);
    csr_release(&m);
    return result;
}

/* out[k] += a * x[k] in float32, one product and one sum at a time (no fused multiply-add: setup.py turns
 * contraction off), the order scipy's csr_matvecs adds a row's entries in. */
static inline void axpy(Py_ssize_t n, float a, const float *x, float *out) {
    for (Py_ssize_t k = 0; k < n; k++) out[k] += a * x[k];
}

/* An idf vector: float32 (as TfidfTransformer keeps it when fitted on float32 counts) or float64. */
typedef struct { Py_buffer view; int wide; } Idf;

static int idf_parse(PyObject *obj, Idf *idf, const char *what) {
    if (PyObject_GetBuffer(obj, &idf->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    char format = idf->view.format ? idf->view.format[strlen(idf->view.format) - 1] : 'B';
    if (!((format == 'f' && idf->view.itemsize == 4) || (format == 'd' && idf->view.itemsize == 8))) {
        PyErr_Format(PyExc_TypeError, "%s must be a contiguous float32 or float64 array", what);
        PyBuffer_Release(&idf->view);
        return -1;
    }
    idf->wide = format == 'd';
    return 0;
}

static inline Py_ssize_t idf_len(const Idf *idf) { return idf->view.len / idf->view.itemsize; }

static inline double idf_at(const Idf *idf, int64_t k) {
    return idf->wide ? ((const double *)idf->view.buf)[k] : (double)((const float *)idf->view.buf)[k];
}

/* Sublinear tf-idf of one row with l2 norm, as features._tfidf: float64 arithmetic, float32 result. */
static void tfidf_row(const Csr *m, Py_ssize_t r, const Idf *idf, double *work, float *out) {
    const int64_t *ip = m->indptr.buf, *ix = m->indices.buf;
    const float *dx = m->data.buf;
    Py_ssize_t n = ip[r + 1] - ip[r];
    double squares = 0.0;
    for (Py_ssize_t k = 0; k < n; k++) {
        double v = (log((double)dx[ip[r] + k]) + 1.0) * idf_at(idf, ix[ip[r] + k]);
        work[k] = v;
        squares += v * v;
    }
    double norm = sqrt(squares);
    if (norm == 0.0) norm = 1.0;
    for (Py_ssize_t k = 0; k < n; k++) out[k] = (float)(work[k] / norm);
}

/* linear(words, chars, cues, rows, agent, word_idf, char_idf, coef, out): out = features @ coef for the chosen rows,
 * features laid out as MessageFeaturizer._assemble lays them (words, chars, words x agent, words x customer,
 * role bias, cues x role), each row's entries added in that column order. */
static PyObject *linear(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *w_obj, *c_obj, *q_obj, *rows_obj, *agent_obj, *widf_obj, *cidf_obj, *coef_obj, *out_obj;
    if (!PyArg_ParseTuple(args, "OOOOOOOOO", &w_obj, &c_obj, &q_obj, &rows_obj, &agent_obj, &widf_obj, &cidf_obj,
                          &coef_obj, &out_obj)) return NULL;
    Csr w = {0}, c = {0}, q = {0};
    Py_buffer rows = {0}, agent = {0}, coef = {0}, out = {0};
    Idf widf = {0}, cidf = {0};
    int held = 0;  /* how many of rows .. out are held */
    PyObject *result = NULL;
    double *work = NULL;
    float *word_values = NULL, *char_values = NULL;
    if (csr_parse(w_obj, &w, "words") < 0 || csr_parse(c_obj, &c, "chars") < 0 || csr_parse(q_obj, &q, "cues") < 0) goto done;
    if (buffer_of(rows_obj, &rows, 8, 'i', "rows") < 0) goto done;
    held = 1;
    if (buffer_of(agent_obj, &agent, 4, 'f', "agent") < 0) goto done;
    held = 2;
    if (idf_parse(widf_obj, &widf, "word_idf") < 0) goto done;
    held = 3;
    if (idf_parse(cidf_obj, &cidf, "char_idf") < 0) goto done;
    held = 4;
    if (buffer_of(coef_obj, &coef, 4, 'f', "coef") < 0) goto done;
    held = 5;
    if (PyObject_GetBuffer(out_obj, &out, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) goto done;
    held = 6;
    Py_ssize_t n_sel = rows.len / 8, n_words = idf_len(&widf), n_chars = idf_len(&cidf);
    Py_ssize_t n_out = coef.ndim == 2 ? coef.shape[1] : -1, n_features = coef.ndim == 2 ? coef.shape[0] : -1;
    Py_ssize_t n_cues = (n_features - 3 * n_words - n_chars - 2) / 2;
    if (n_out < 1 || n_cues < 0 || n_features != 3 * n_words + n_chars + 2 + 2 * n_cues) {
        PyErr_SetString(PyExc_ValueError, "coef must be (3 x word features + char features + 2 + 2 x cues) x outputs");
        goto done;
    }
    if (out.itemsize != 4 || out.len != n_sel * n_out * 4 || agent.len / 4 != n_sel) {
        PyErr_SetString(PyExc_ValueError, "out must be float32 rows x outputs, and agent one value per row");
        goto done;
    }
    const int64_t *sel = rows.buf;
    Py_ssize_t n_rows = csr_rows(&w), longest = 1;
    if (csr_rows(&c) != n_rows || csr_rows(&q) != n_rows) { PyErr_SetString(PyExc_ValueError, "words, chars and cues must have the same rows"); goto done; }
    for (Py_ssize_t i = 0; i < n_sel; i++) {
        if (sel[i] < 0 || sel[i] >= n_rows) { PyErr_SetString(PyExc_ValueError, "row out of range"); goto done; }
        const int64_t *wp = w.indptr.buf, *cp = c.indptr.buf;
        if (wp[sel[i] + 1] - wp[sel[i]] > longest) longest = wp[sel[i] + 1] - wp[sel[i]];
        if (cp[sel[i] + 1] - cp[sel[i]] > longest) longest = cp[sel[i] + 1] - cp[sel[i]];
    }
    const Csr *blocks[3] = {&w, &c, &q};
    const int64_t limits[3] = {n_words, n_chars, n_cues};
    for (int b = 0; b < 3; b++) {
        const int64_t *ix = blocks[b]->indices.buf;
        for (Py_ssize_t e = 0; e < blocks[b]->indices.len / 8; e++)
            if (ix[e] < 0 || ix[e] >= limits[b]) { PyErr_SetString(PyExc_ValueError, "column out of range"); goto done; }
    }
    work = PyMem_Malloc(longest * sizeof(double));
    word_values = PyMem_Malloc(longest * sizeof(float));
    char_values = PyMem_Malloc(longest * sizeof(float));
    if (!work || !word_values || !char_values) { PyErr_NoMemory(); goto done; }
    const float *x = coef.buf, *role = agent.buf;
    float *y = out.buf;
    for (Py_ssize_t i = 0; i < n_sel; i++) {
        Py_ssize_t r = sel[i];
        int64_t customer = role[i] == 0.0f;
        float *yi = y + i * n_out;
        for (Py_ssize_t k = 0; k < n_out; k++) yi[k] = 0.0f;
        const int64_t *wp = w.indptr.buf, *wx = w.indices.buf, *cp = c.indptr.buf, *cx = c.indices.buf;
        const int64_t *qp = q.indptr.buf, *qx = q.indices.buf;
        const float *qd = q.data.buf;
        Py_ssize_t nw = wp[r + 1] - wp[r], nc = cp[r + 1] - cp[r];
        tfidf_row(&w, r, &widf, work, word_values);
        for (Py_ssize_t k = 0; k < nw; k++) axpy(n_out, word_values[k], x + wx[wp[r] + k] * n_out, yi);
        tfidf_row(&c, r, &cidf, work, char_values);
        for (Py_ssize_t k = 0; k < nc; k++) axpy(n_out, char_values[k], x + (n_words + cx[cp[r] + k]) * n_out, yi);
        int64_t crossed = n_words + n_chars + customer * n_words;
        for (Py_ssize_t k = 0; k < nw; k++) axpy(n_out, word_values[k], x + (crossed + wx[wp[r] + k]) * n_out, yi);
        axpy(n_out, 1.0f, x + (3 * n_words + n_chars + customer) * n_out, yi);
        int64_t cue_base = 3 * n_words + n_chars + 2 + customer * n_cues;
        for (Py_ssize_t k = qp[r]; k < qp[r + 1]; k++) axpy(n_out, log1pf(qd[k]), x + (cue_base + qx[k]) * n_out, yi);
    }
    Py_INCREF(Py_None);
    result = Py_None;
done:
    PyMem_Free(work); PyMem_Free(word_values); PyMem_Free(char_values);
    if (held > 5) PyBuffer_Release(&out);
    if (held > 4) PyBuffer_Release(&coef);
    if (held > 3) PyBuffer_Release(&cidf.view);
    if (held > 2) PyBuffer_Release(&widf.view);
    if (held > 1) PyBuffer_Release(&agent);
    if (held > 0) PyBuffer_Release(&rows);
    csr_release(&w); csr_release(&c); csr_release(&q);
    return result;
}

static PyMethodDef methods[] = {
    {"counts", counts, METH_VARARGS,
     "counts(texts, owners, n_rows, word_features, char_features) -> ((indptr, indices, data) of words, same of chars)"},
    {"merge", merge, METH_VARARGS, "merge((indptr, indices, data), bounds) -> the rows of each group added up"},
    {"linear", linear, METH_VARARGS,
     "linear(words, chars, cues, rows, agent, word_idf, char_idf, coef, out) -> None; out = features of rows @ coef"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_grams", .m_doc = "Hashed n-gram counts (see models/features.py).", .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__grams(void) { return PyModule_Create(&module); }
