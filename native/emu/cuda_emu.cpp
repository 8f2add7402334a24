// cuda_emu.cpp — the launch machinery behind cuda_emu.h: a pool of worker threads, one per
// CUDA thread of a block, that persists across blocks and launches (creating an OS thread per
// CUDA thread per block made a 64-block launch take seconds).
#include "cuda_emu.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace emu {

thread_local dim3 tlThreadIdx;
thread_local int tlLinear = 0;
Block* currentBlock = nullptr;

namespace {

// Workers wait for a generation number to change; each generation is one block to run.
class Pool {
public:
    ~Pool() {
        {
            std::lock_guard<std::mutex> g(mu_);
            stopping_ = true;
            generation_++;
        }
        cv_.notify_all();
        for (auto& t : threads_) {
            t.join();
        }
    }

    // Runs body on `active` workers (thread indices 0..active-1) and waits for all of them.
    void runBlock(int active, const std::function<void(int)>& body) {
        grow(active);
        {
            std::unique_lock<std::mutex> g(mu_);
            body_ = &body;
            active_ = active;
            remaining_ = active;
            generation_++;
        }
        cv_.notify_all();
        std::unique_lock<std::mutex> g(mu_);
        done_.wait(g, [&] { return remaining_ == 0; });
    }

private:
    void grow(int n) {
        while (static_cast<int>(threads_.size()) < n) {
            int index = static_cast<int>(threads_.size());
            threads_.emplace_back([this, index] { work(index); });
        }
    }

    void work(int index) {
        uint64_t seen = 0;
        for (;;) {
            const std::function<void(int)>* body;
            {
                std::unique_lock<std::mutex> g(mu_);
                cv_.wait(g, [&] { return generation_ != seen; });
                seen = generation_;
                if (stopping_) {
                    return;
                }
                if (index >= active_) {
                    continue;
                }
                body = body_;
            }
            (*body)(index);
            std::lock_guard<std::mutex> g(mu_);
            if (--remaining_ == 0) {
                done_.notify_one();
            }
        }
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::condition_variable done_;
    std::vector<std::thread> threads_;
    const std::function<void(int)>* body_ = nullptr;
    uint64_t generation_ = 0;
    int active_ = 0;
    int remaining_ = 0;
    bool stopping_ = false;
};

Pool& pool() {
    static Pool p;
    return p;
}

std::mutex launchMutex;  // one launch at a time: shared memory is a single static copy

}  // namespace

void launch(dim3 grid, dim3 block, size_t dynamicSharedBytes, const std::function<void()>& body) {
    int threads = static_cast<int>(block.x * block.y * block.z);
    if (threads <= 0 || threads > 1024) {
        throw std::invalid_argument("block of " + std::to_string(threads) + " threads (1..1024 allowed)");
    }
    std::lock_guard<std::mutex> serial(launchMutex);
    std::barrier<> blockSync(threads);
    int warps = (threads + WARP - 1) / WARP;
    std::vector<std::unique_ptr<std::barrier<>>> warpSync;
    std::vector<Warp> warpSlots(warps);
    for (int w = 0; w < warps; w++) {
        int lanes = std::min(WARP, threads - w * WARP);
        warpSync.push_back(std::make_unique<std::barrier<>>(lanes));
        warpSlots[w].sync = warpSync.back().get();
    }
    std::vector<unsigned char> dynamicShared(std::max<size_t>(dynamicSharedBytes, 1));
    Block b{dim3(), block, grid, &blockSync, warpSlots.data(), dynamicShared.data()};
    std::function<void(int)> perThread = [&](int linear) {
        tlLinear = linear;
        tlThreadIdx = dim3(linear % block.x, (linear / block.x) % block.y, linear / (block.x * block.y));
        body();
    };
    for (unsigned z = 0; z < grid.z; z++) {
        for (unsigned y = 0; y < grid.y; y++) {
            for (unsigned x = 0; x < grid.x; x++) {
                b.index = dim3(x, y, z);
                currentBlock = &b;
                pool().runBlock(threads, perThread);
            }
        }
    }
    currentBlock = nullptr;
}

}  // namespace emu
