// The emulator's execution engine: runs a grid block by block on the calling thread. Kernels without barriers run
// their threads one after another in a loop; kernels with __syncthreads or warp shuffles run each thread as a
// fiber (ucontext) of a cooperative round-robin scheduler, switched at barriers. A barrier that some live thread
// never reaches (divergent __syncthreads) is reported as a deadlock instead of hanging.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <mutex>
#include "cuda_shim.h"

namespace nabla_emu {
thread_local nabla_dim3 thread_idx;
thread_local nabla_dim3 block_idx;
thread_local nabla_dim3 block_dim;
thread_local nabla_dim3 grid_dim;
thread_local unsigned long long shuffle_buffer[32 * 32];

namespace {
constexpr size_t STACK = 64 * 1024;
constexpr int MAX_THREADS = 1024;

struct Fiber {
    ucontext_t context;
    nabla_dim3 idx;
    int linear;
    bool done;
    bool waiting;
};

struct Launch {
    void (*invoke)(void**);
    void** args;
    bool fibers;
    int threads;
    Fiber* fiber;       // fibers of the current block
    int current;
    ucontext_t scheduler;
    int alive;
    // the block barrier
    int blockArrived;
    unsigned long long blockGeneration;
    // warp barriers
    int warpAlive[32];
    int warpArrived[32];
    unsigned long long warpGeneration[32];
    unsigned long long progress;  // bumped at every arrival and exit: a round without it is a deadlock
    const char* error;
};

thread_local Launch* active;
thread_local char* stacks;  // MAX_THREADS stacks, kept for the thread's lifetime
std::mutex launches;        // __shared__ statics are global: one launch at a time in the process

void yield() {
    Launch& l = *active;
    Fiber& f = l.fiber[l.current];
    swapcontext(&f.context, &l.scheduler);
}

void fiber_main() {
    Launch& l = *active;
    l.invoke(l.args);
    Fiber& f = l.fiber[l.current];
    f.done = true;
    l.alive--;
    l.progress++;
    int warp = f.linear >> 5;
    l.warpAlive[warp]--;
    // a finished thread no longer holds back the barriers it would have reached
    if (l.blockArrived > 0 && l.blockArrived >= l.alive) {
        l.blockArrived = 0;
        l.blockGeneration++;
    }
    if (l.warpArrived[warp] > 0 && l.warpArrived[warp] >= l.warpAlive[warp]) {
        l.warpArrived[warp] = 0;
        l.warpGeneration[warp]++;
    }
    // returns to the scheduler through uc_link
}

void fail(const char* why) {
    if (active && !active->error) active->error = why;
}
}  // namespace

int lane_linear() {
    return (int)(thread_idx.x + block_dim.x * (thread_idx.y + block_dim.y * thread_idx.z));
}

void sync_block() {
    Launch* l = active;
    if (!l || !l->fibers) {
        fail("__syncthreads in a kernel run without fibers (its PTX has no bar.sync?)");
        return;
    }
    unsigned long long generation = l->blockGeneration;
    l->progress++;
    if (++l->blockArrived >= l->alive) {
        l->blockArrived = 0;
        l->blockGeneration++;
        return;
    }
    while (l->blockGeneration == generation && !l->error) {
        l->fiber[l->current].waiting = true;
        yield();
    }
    l->fiber[l->current].waiting = false;
}

void sync_warp() {
    Launch* l = active;
    if (!l || !l->fibers) {
        fail("warp shuffle in a kernel run without fibers (its PTX has no shfl.sync?)");
        return;
    }
    int warp = lane_linear() >> 5;
    unsigned long long generation = l->warpGeneration[warp];
    l->progress++;
    if (++l->warpArrived[warp] >= l->warpAlive[warp]) {
        l->warpArrived[warp] = 0;
        l->warpGeneration[warp]++;
        return;
    }
    while (l->warpGeneration[warp] == generation && !l->error) {
        l->fiber[l->current].waiting = true;
        yield();
    }
    l->fiber[l->current].waiting = false;
}

static void run_block_fibers(Launch& l, Fiber* fiber) {
    if (!stacks) stacks = (char*)malloc(STACK * MAX_THREADS);
    l.alive = l.threads;
    l.blockArrived = 0;
    for (int w = 0; w < 32; w++) {
        l.warpAlive[w] = 0;
        l.warpArrived[w] = 0;
    }
    for (int t = 0; t < l.threads; t++) {
        Fiber& f = fiber[t];
        f.linear = t;
        f.idx.x = t % block_dim.x;
        f.idx.y = (t / block_dim.x) % block_dim.y;
        f.idx.z = t / (block_dim.x * block_dim.y);
        f.done = false;
        f.waiting = false;
        l.warpAlive[t >> 5]++;
        getcontext(&f.context);
        f.context.uc_stack.ss_sp = stacks + (size_t)t * STACK;
        f.context.uc_stack.ss_size = STACK;
        f.context.uc_link = &l.scheduler;
        makecontext(&f.context, fiber_main, 0);
    }
    while (l.alive > 0 && !l.error) {
        unsigned long long before = l.progress;
        bool started = false;
        for (int t = 0; t < l.threads && !l.error; t++) {
            Fiber& f = fiber[t];
            if (f.done) continue;
            if (!f.waiting) started = true;
            l.current = t;
            thread_idx = f.idx;
            swapcontext(&l.scheduler, &f.context);
        }
        if (!started && l.progress == before && l.alive > 0) {
            l.error = "deadlock: every live thread of the block waits at a barrier the others never reach";
        }
    }
}

}  // namespace nabla_emu

using namespace nabla_emu;

extern "C" int nabla_emu_launch(void (*invoke)(void**), void** args, int gx, int gy, int gz, int bx, int by, int bz,
                                int fibers, char* error, int errorLength) {
    if (bx * by * bz > MAX_THREADS || bx * by * bz <= 0 || gx <= 0 || gy <= 0 || gz <= 0) {
        snprintf(error, errorLength, "invalid launch configuration: grid (%d, %d, %d), block (%d, %d, %d)", gx, gy,
                 gz, bx, by, bz);
        return 1;
    }
    std::lock_guard<std::mutex> lock(launches);
    static thread_local Fiber* fiber = nullptr;
    if (!fiber) fiber = new Fiber[MAX_THREADS];
    Launch l{};
    l.invoke = invoke;
    l.args = args;
    l.fibers = fibers != 0;
    l.threads = bx * by * bz;
    l.fiber = fiber;
    Launch* previous = active;
    active = &l;
    block_dim = {(unsigned)bx, (unsigned)by, (unsigned)bz};
    grid_dim = {(unsigned)gx, (unsigned)gy, (unsigned)gz};
    for (int z = 0; z < gz && !l.error; z++) {
        for (int y = 0; y < gy && !l.error; y++) {
            for (int x = 0; x < gx && !l.error; x++) {
                block_idx = {(unsigned)x, (unsigned)y, (unsigned)z};
                if (l.fibers) {
                    run_block_fibers(l, fiber);
                } else {
                    for (int t = 0; t < l.threads; t++) {
                        thread_idx = {(unsigned)(t % bx), (unsigned)((t / bx) % by), (unsigned)(t / (bx * by))};
                        invoke(args);
                    }
                }
            }
        }
    }
    active = previous;
    if (l.error) {
        snprintf(error, errorLength, "%s", l.error);
        return 2;
    }
    return 0;
}
