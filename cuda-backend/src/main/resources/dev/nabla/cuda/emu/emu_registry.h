// Included after a module's .cu by the generated registry source: the table that maps each kernel's name to an
// invoker taking CUDA's launch convention (an array of pointers to the parameter values, in signature order).
#pragma once
#include <cstddef>
#include <type_traits>
#include <utility>

namespace nabla_emu {
struct Entry {
    const char* name;
    void (*invoke)(void**);
    long long params;             // number of parameters
    const long long* sizes;       // their sizes in bytes, to check against the PTX .param list
};

template <class... A, std::size_t... I>
inline void call(void (*f)(A...), void** args, std::index_sequence<I...>) {
    f(*reinterpret_cast<std::remove_cv_t<std::remove_reference_t<A>>*>(args[I])...);
}
template <class... A> constexpr std::size_t arity(void (*)(A...)) { return sizeof...(A); }
template <auto F> void invoke(void** args) { call(F, args, std::make_index_sequence<arity(F)>{}); }

template <class... A> struct Sizes {
    static constexpr long long value[sizeof...(A) + 1] = {(long long)sizeof(A)..., 0};
};
template <class... A> constexpr const long long* sizes_of(void (*)(A...)) { return Sizes<A...>::value; }
}  // namespace nabla_emu

#define NABLA_EMU_KERNEL(name) \
    {#name, &::nabla_emu::invoke<&name>, (long long)::nabla_emu::arity(&name), ::nabla_emu::sizes_of(&name)}
