// The start of a .cpp file of AVX-512 intrinsics under graft's x86-64-v3 build: the
// intrinsics; GCC 12's false "may be used uninitialized" inside them (bug 105593;
// zmm_transpose.h) silenced for the rest of the file; and the attributes that compile a
// helper, or a lambda, for AVX-512 and inline it into its AVX-512 caller. Included inside the
// file's `#if defined(__x86_64__) && defined(__GNUC__)`, by .cpp files only: the pragmas and
// macros hold to the end of the file that includes it.
#pragma once

#include <immintrin.h>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#define GRAFT_AVX512 __attribute__((target("avx512f"), always_inline)) inline
// GCC 12 does not give a lambda its enclosing function's target.
#define GRAFT_AVX512_LAMBDA __attribute__((target("avx512f"), always_inline))
