// registry.h — kernels register themselves by name so the JVM can launch them like the CUDA
// driver launches a function of a module: by name, with a grid, a block, dynamic shared memory
// and an array of arguments. Each argument travels as 64 bits (a device address, an int, a
// float's bits) and is unpacked to the kernel's parameter type here.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "cuda_emu.h"

namespace emu {

using Launcher = void (*)(dim3 grid, dim3 block, size_t shared, const uint64_t* args, int nargs);

void registerKernel(const char* name, Launcher launcher);
Launcher findKernel(const std::string& name);
std::vector<std::string> kernelNames();

template <typename T>
inline T unpack(uint64_t bits) {
    if constexpr (std::is_pointer_v<T>) {
        return reinterpret_cast<T>(static_cast<uintptr_t>(bits));
    } else {
        static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "kernel parameter must fit 64 bits");
        T v;
        std::memcpy(&v, &bits, sizeof(T));
        return v;
    }
}

template <typename Sig>
struct LaunchOf;

template <typename... Ps>
struct LaunchOf<void (*)(Ps...)> {
    template <void (*Kernel)(Ps...), size_t... I>
    static void call(const uint64_t* a, std::index_sequence<I...>) {
        Kernel(unpack<Ps>(a[I])...);
    }

    template <void (*Kernel)(Ps...)>
    static void run(dim3 grid, dim3 block, size_t shared, const uint64_t* args, int nargs) {
        if (nargs != static_cast<int>(sizeof...(Ps))) {
            throw std::invalid_argument("kernel takes " + std::to_string(sizeof...(Ps)) + " arguments, got " +
                                        std::to_string(nargs));
        }
        std::vector<uint64_t> copy(args, args + nargs);
        launch(grid, block, shared, [&] { call<Kernel>(copy.data(), std::index_sequence_for<Ps...>{}); });
    }
};

struct Registrar {
    Registrar(const char* name, Launcher l) { registerKernel(name, l); }
};

}  // namespace emu

// After a kernel's definition: makes it launchable by name on the emulated device.
#define EMU_KERNEL(name) \
    static emu::Registrar emu_registrar_##name(#name, &emu::LaunchOf<decltype(&name)>::run<&name>)
