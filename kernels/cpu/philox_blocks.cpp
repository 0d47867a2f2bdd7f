// philox_blocks (philox_blocks.h).
#include "graft/kernels/cpu/philox_blocks.h"

#include "graft/kernels/cpu/cpu_features.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "graft/kernels/cpu/avx512_file.h"
#define GRAFT_PHILOX_AVX512 1
#endif

namespace graft::kernels::cpu {
namespace {

#if GRAFT_PHILOX_AVX512

// The high and low 32 bits of c * multiplier in each of 16 lanes: the even lanes' products
// from one vpmuludq, the odd lanes' from another on the lanes shifted down.
GRAFT_AVX512 void multiply(__m512i c, __m512i multiplier, __m512i& high, __m512i& low) {
  const __m512i even = _mm512_mul_epu32(c, multiplier);
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(c, 32), multiplier);
  const __m512i upper = _mm512_set1_epi64(static_cast<int64_t>(0xffffffff00000000ull));
  high = _mm512_or_si512(_mm512_srli_epi64(even, 32), _mm512_and_si512(odd, upper));
  low = _mm512_or_si512(_mm512_andnot_si512(upper, even), _mm512_slli_epi64(odd, 32));
}

// Blocks first .. first + 15: philox4x32_10 on counters {index lo, index hi, 0, 0}, the key
// {seed lo, seed hi}, round for round as core/random.h.
__attribute__((target("avx512f"))) void sixteen_blocks(uint64_t seed, uint64_t first,
                                                       PhiloxBlock* out) {
  const auto first_low = static_cast<uint32_t>(first);
  __m512i c0 =
      _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(first_low)),
                       _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  // A lane whose low word wrapped past 2^32 carries one into the high word.
  const __mmask16 carried =
      _mm512_cmplt_epu32_mask(c0, _mm512_set1_epi32(static_cast<int>(first_low)));
  __m512i c1 =
      _mm512_mask_add_epi32(_mm512_set1_epi32(static_cast<int>(first >> 32)), carried,
                            _mm512_set1_epi32(static_cast<int>(first >> 32)), _mm512_set1_epi32(1));
  __m512i c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
  auto key0 = static_cast<uint32_t>(seed), key1 = static_cast<uint32_t>(seed >> 32);
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(kPhiloxMultiplier0));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(kPhiloxMultiplier1));
  for (int round = 0; round < kPhiloxRounds; ++round) {
    __m512i high0, low0, high1, low1;
    multiply(c0, m0, high0, low0);
    multiply(c2, m1, high1, low1);
    const __m512i next0 =
        _mm512_xor_si512(_mm512_xor_si512(high1, c1), _mm512_set1_epi32(static_cast<int>(key0)));
    const __m512i next2 =
        _mm512_xor_si512(_mm512_xor_si512(high0, c3), _mm512_set1_epi32(static_cast<int>(key1)));
    c0 = next0;
    c1 = low1;
    c2 = next2;
    c3 = low0;
    key0 += kPhiloxWeyl0;
    key1 += kPhiloxWeyl1;
  }
  // Lane l of c0..c3 is block l's four words: stored side by side, then gathered per block.
  alignas(64) uint32_t words[4][16];
  _mm512_store_si512(words[0], c0);
  _mm512_store_si512(words[1], c1);
  _mm512_store_si512(words[2], c2);
  _mm512_store_si512(words[3], c3);
  for (int l = 0; l < 16; ++l) out[l] = {{words[0][l], words[1][l], words[2][l], words[3][l]}};
}

#endif

}  // namespace

void philox_blocks(uint64_t seed, uint64_t first, int64_t count, PhiloxBlock* out) {
  int64_t i = 0;
#if GRAFT_PHILOX_AVX512
  if (cpu_runs_avx512())
    for (; i + 16 <= count; i += 16)
      sixteen_blocks(seed, first + static_cast<uint64_t>(i), out + i);
#endif
  for (; i < count; ++i) out[i] = philox_block(seed, first + static_cast<uint64_t>(i));
}

}  // namespace graft::kernels::cpu
