// registry.cpp — the table of kernels launchable by name on the emulated device.
#include "registry.h"

#include <map>

namespace emu {

namespace {
std::map<std::string, Launcher>& table() {
    static std::map<std::string, Launcher> t;
    return t;
}
}  // namespace

void registerKernel(const char* name, Launcher launcher) { table()[name] = launcher; }

Launcher findKernel(const std::string& name) {
    auto it = table().find(name);
    return it == table().end() ? nullptr : it->second;
}

std::vector<std::string> kernelNames() {
    std::vector<std::string> names;
    for (auto& e : table()) {
        names.push_back(e.first);
    }
    return names;
}

}  // namespace emu
