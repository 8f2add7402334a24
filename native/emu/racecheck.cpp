// racecheck.cpp — runs every kernel that uses shared memory, barriers or warp exchanges on small
// shapes (including sizes that are not multiples of a tile), built with -fsanitize=thread. A
// missing __syncthreads or a lane reading a slot before it is written is a data race between
// the OS threads that run a block, and ThreadSanitizer reports it (exit status 66).
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "registry.h"

namespace {

std::mt19937 rng(7);

std::vector<float> random(size_t n) {
    std::normal_distribution<float> d(0, 1);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

uint64_t p(const void* ptr) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(ptr)); }
uint64_t i(long long v) { return static_cast<uint64_t>(v); }
uint64_t f(float v) {
    uint32_t b;
    std::memcpy(&b, &v, 4);
    return b;
}

void run(const char* name, dim3 grid, dim3 block, size_t shared, std::vector<uint64_t> args) {
    emu::Launcher l = emu::findKernel(name);
    if (l == nullptr) {
        std::fprintf(stderr, "no kernel %s\n", name);
        std::exit(2);
    }
    l(grid, block, shared, args.data(), static_cast<int>(args.size()));
}

}  // namespace

int main() {
    const int rows = 19, cols = 45;
    auto x = random(rows * cols), g = random(rows * cols), gamma = random(cols), beta = random(cols);
    std::vector<float> y(rows * cols), mean(rows), rstd(rows), dx(rows * cols), dg(cols), db(cols);
    run("layernorm_forward_f32", dim3(rows), dim3(128), 0,
        {p(x.data()), p(gamma.data()), p(beta.data()), p(y.data()), p(mean.data()), p(rstd.data()), i(rows), i(cols),
         f(1e-6f)});
    run("layernorm_backward_dx_f32", dim3(rows), dim3(128), 0,
        {p(g.data()), p(x.data()), p(gamma.data()), p(mean.data()), p(rstd.data()), p(dx.data()), i(rows), i(cols)});
    run("softmax_forward_f32", dim3(5), dim3(128), 0, {p(y.data()), i(rows), i(cols)});
    run("softmax_backward_f32", dim3(5), dim3(128), 0, {p(y.data()), p(g.data()), i(rows), i(cols)});
    std::vector<double> partial(3);
    run("sum_squares_f32", dim3(3), dim3(256), 0, {p(x.data()), i(rows * cols), p(partial.data())});
    std::vector<float> t(rows * cols);
    run("transpose_f32", dim3(2, 1), dim3(32, 8), 0, {p(x.data()), p(t.data()), i(rows), i(cols)});
    std::vector<int> labels(rows), correct(rows);
    for (int r = 0; r < rows; r++) labels[r] = r % cols;
    std::vector<float> loss(rows), dl(rows * cols);
    run("cross_entropy_f32", dim3(5), dim3(128), 0,
        {p(x.data()), p(labels.data()), p(dl.data()), p(loss.data()), p(correct.data()), i(rows), i(cols), f(0.1f),
         f(1.0f / rows), i(0)});
    run("soft_target_ce_f32", dim3(5), dim3(128), 0,
        {p(x.data()), p(g.data()), p(dl.data()), p(loss.data()), i(rows), i(cols), f(1.0f / rows), i(1)});
    // fused low-rank at r < R, sizes off every tile
    const int in = 37, out = 29, R = 21, r = 13, n = 23;
    auto xin = random(n * in), vt = random(R * in), u = random(out * R), bias = random(out), dyo = random(n * out);
    std::vector<float> h(n * r), yo(n * out), dh(n * r), dxin(n * in);
    run("lowrank_forward_f32", dim3((n + 7) / 8), dim3(256), 8 * r * 4,
        {p(xin.data()), p(vt.data()), p(u.data()), p(bias.data()), p(h.data()), p(yo.data()), i(n), i(in), i(out),
         i(r), i(R)});
    run("lowrank_backward_dx_f32", dim3((n + 7) / 8), dim3(256), 8 * r * 4,
        {p(dyo.data()), p(vt.data()), p(u.data()), p(dh.data()), p(dxin.data()), i(n), i(in), i(out), i(r), i(R)});
    int rPad = (r + 15) / 16 * 16;
    size_t tf32Shared = 16 * rPad * 4 + 4 * 32 * 8 * 4 + 4 * 256 * 4;
    size_t bf16Shared = 16 * rPad * 4 + 4 * 32 * 16 * 2 + 4 * 256 * 4;
    run("lowrank_forward_tf32", dim3((n + 15) / 16), dim3(128), tf32Shared,
        {p(xin.data()), p(vt.data()), p(u.data()), p(bias.data()), p(h.data()), p(yo.data()), i(n), i(in), i(out),
         i(r), i(R)});
    run("lowrank_forward_bf16", dim3((n + 15) / 16), dim3(128), bf16Shared,
        {p(xin.data()), p(vt.data()), p(u.data()), p(bias.data()), p(0), p(yo.data()), i(n), i(in), i(out), i(r),
         i(R)});
    run("lowrank_backward_dx_tf32", dim3((n + 15) / 16), dim3(128), tf32Shared,
        {p(dyo.data()), p(vt.data()), p(u.data()), p(dh.data()), p(dxin.data()), i(n), i(in), i(out), i(r), i(R)});
    std::printf("racecheck: %zu kernels ran\n", emu::kernelNames().size());
    return 0;
}
