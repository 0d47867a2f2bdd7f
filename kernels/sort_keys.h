// The order every sort, argsort and topk kernel uses, written once for the CPU and CUDA.
//
// Each element becomes an unsigned integer key whose plain unsigned order is the order the
// op wants, and ties between equal keys go to the lower index. Comparing (key, index) pairs
// lexicographically is then a strict total order, so any sort of the pairs -- std::sort, a
// partial selection, a bitonic network, a radix select -- gives the one result a stable sort
// gives, on every backend. The keys, as in a radix sort:
//   - unsigned (bool, uint8): the value itself;
//   - signed integers: the value with its sign bit flipped (INT_MIN -> 0, -1 -> 0x7f..f);
//   - floating (the 16-bit types too, whose bits are laid out alike): the IEEE bits with
//     the sign bit set for positives and all bits flipped for negatives, which orders
//     -inf < negatives < 0 < positives < +inf; -0.0 is taken as +0.0 (they compare equal,
//     so they keep their order, as PyTorch's sort does) and every NaN gets the largest
//     key, so NaN sorts last ascending and first descending and counts as the largest in
//     topk, as in PyTorch;
//   - descending: every bit flipped, which reverses the order of the keys but not the tie
//     rule, so equal values still come in index order (torch.sort(stable=True)).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "graft/core/half.h"
#include "graft/core/host_device.h"

namespace graft::kernels {

// The unsigned key of a value type: as wide as the value.
template <class T>
using SortKey = std::conditional_t<
    sizeof(T) == 1, uint8_t,
    std::conditional_t<sizeof(T) == 2, uint16_t,
                       std::conditional_t<sizeof(T) == 4, uint32_t,
                                          std::conditional_t<sizeof(T) == 8, uint64_t, void>>>>;

template <class T>
GRAFT_HOST_DEVICE SortKey<T> sort_key(T value, bool descending) {
  using K = SortKey<T>;
  constexpr K kSignBit = static_cast<K>(K{1} << (8 * sizeof(K) - 1));
  K key;
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    // The same key in integer operations alone, which vectorise (topk scans its keys a block
    // at a time): NaN is an exponent of all ones with a nonzero fraction.
    constexpr K kMagnitude = static_cast<K>(~kSignBit);
    constexpr K kInfinity =
        sizeof(K) == 4 ? static_cast<K>(0x7f800000u) : static_cast<K>(0x7ff0000000000000ull);
    K bits;
    memcpy(&bits, &value, sizeof(K));
    bits = bits == kSignBit ? K{0} : bits;  // -0.0 -> +0.0
    key = (bits & kSignBit) != 0 ? static_cast<K>(~bits) : static_cast<K>(bits | kSignBit);
    key = (bits & kMagnitude) > kInfinity ? static_cast<K>(~K{0}) : key;
  } else if constexpr (is_floating_type_v<T>) {
    if (value != value) {
      key = static_cast<K>(~K{0});
    } else {
      const T zero_folded = value == T(0) ? T(0) : value;  // -0.0 -> +0.0
      K bits;
      memcpy(&bits, &zero_folded, sizeof(K));
      key = (bits & kSignBit) != 0 ? static_cast<K>(~bits) : static_cast<K>(bits | kSignBit);
    }
  } else if constexpr (std::is_signed_v<T>) {
    key = static_cast<K>(static_cast<K>(value) ^ kSignBit);
  } else {
    key = static_cast<K>(value);
  }
  return descending ? static_cast<K>(~key) : key;
}

// The value whose sort_key is `key`, into `value`: false, and `value` untouched, where the key
// does not tell (a floating zero, whose two signs share a key, and NaN, all of which share
// the largest). A sort writes its values from its keys so, reading the input again only for
// those, where reading each element back through its index is a random access.
template <class T>
GRAFT_HOST_DEVICE bool value_of_key(SortKey<T> key, bool descending, T& value) {
  using K = SortKey<T>;
  constexpr K kSignBit = static_cast<K>(K{1} << (8 * sizeof(K) - 1));
  if (descending) key = static_cast<K>(~key);
  K bits;
  if constexpr (is_floating_type_v<T>) {
    if (key == static_cast<K>(~K{0}) || key == kSignBit) return false;  // NaN, zero
    bits = (key & kSignBit) != 0 ? static_cast<K>(key ^ kSignBit) : static_cast<K>(~key);
  } else if constexpr (std::is_signed_v<T>) {
    bits = static_cast<K>(key ^ kSignBit);
  } else {
    bits = key;
  }
  if constexpr (std::is_same_v<T, bool>)
    value = bits != 0;
  else if constexpr (is_float16_v<T>)
    value = T::from_bits(bits);
  else
    memcpy(&value, &bits, sizeof(K));
  return true;
}

// True when (key a, index a) comes before (key b, index b).
template <class K>
GRAFT_HOST_DEVICE bool sorts_before(K key_a, int64_t index_a, K key_b, int64_t index_b) {
  return key_a < key_b || (key_a == key_b && index_a < index_b);
}

}  // namespace graft::kernels
