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

// x86-64: a context switch is six callee-saved registers and the stack pointer (ucontext's swapcontext also saves
// the signal mask with a system call, which made barrier-heavy kernels ten times slower); elsewhere, ucontext.
#if defined(__x86_64__)
#define NABLA_EMU_ASM_SWITCH 1
extern "C" void nabla_emu_switch(void** save, void* load);
asm(R"(
    .text
    .globl nabla_emu_switch
    .type nabla_emu_switch, @function
nabla_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size nabla_emu_switch, .-nabla_emu_switch
)");
#else
#define NABLA_EMU_ASM_SWITCH 0
#endif

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
#if NABLA_EMU_ASM_SWITCH
    void* sp;
#else
    ucontext_t context;
#endif
    nabla_dim3 idx;
    int linear;
    bool done;
    int waitingOn;                       // -1: runnable; 32: the block barrier; 0..31: that warp's barrier
    unsigned long long waitGeneration;   // the barrier's generation when the fiber arrived
};

struct Launch {
    void (*invoke)(void**);
    void** args;
    bool fibers;
    int threads;
    Fiber* fiber;       // fibers of the current block
    int current;
#if NABLA_EMU_ASM_SWITCH
    void* schedulerSp;
#else
    ucontext_t scheduler;
#endif
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
#if NABLA_EMU_ASM_SWITCH
    nabla_emu_switch(&f.sp, l.schedulerSp);
#else
    swapcontext(&f.context, &l.scheduler);
#endif
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
#if NABLA_EMU_ASM_SWITCH
    void* dead;
    nabla_emu_switch(&dead, l.schedulerSp);  // never resumed
    __builtin_unreachable();
#endif
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
    Fiber& f = l->fiber[l->current];
    f.waitingOn = 32;
    f.waitGeneration = generation;
    while (l->blockGeneration == generation && !l->error) yield();
    f.waitingOn = -1;
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
    Fiber& f = l->fiber[l->current];
    f.waitingOn = warp;
    f.waitGeneration = generation;
    while (l->warpGeneration[warp] == generation && !l->error) yield();
    f.waitingOn = -1;
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
        f.waitingOn = -1;
        l.warpAlive[t >> 5]++;
#if NABLA_EMU_ASM_SWITCH
        // a fresh stack that "returns" into fiber_main with the ABI's alignment (rsp + 8 a multiple of 16)
        void** top = (void**)(stacks + (size_t)(t + 1) * STACK);
        *--top = nullptr;                   // fiber_main's return address: it never returns
        *--top = (void*)&fiber_main;        // popped by nabla_emu_switch's ret
        for (int r = 0; r < 6; r++) *--top = nullptr;  // rbp, rbx, r12-r15
        f.sp = top;
#else
        getcontext(&f.context);
        f.context.uc_stack.ss_sp = stacks + (size_t)t * STACK;
        f.context.uc_stack.ss_size = STACK;
        f.context.uc_link = &l.scheduler;
        makecontext(&f.context, fiber_main, 0);
#endif
    }
    while (l.alive > 0 && !l.error) {
        unsigned long long before = l.progress;
        bool started = false;
        for (int t = 0; t < l.threads && !l.error; t++) {
            Fiber& f = fiber[t];
            if (f.done) continue;
            if (f.waitingOn >= 0) {  // still held at its barrier: not worth a switch
                unsigned long long g = f.waitingOn == 32 ? l.blockGeneration : l.warpGeneration[f.waitingOn];
                if (g == f.waitGeneration) continue;
            }
            started = true;
            l.current = t;
            thread_idx = f.idx;
#if NABLA_EMU_ASM_SWITCH
            nabla_emu_switch(&l.schedulerSp, f.sp);
#else
            swapcontext(&l.scheduler, &f.context);
#endif
        }
        if (!started && l.progress == before && l.alive > 0) {
            l.error = "deadlock: every live thread of the block waits at a barrier the others never reach";
        }
    }
}

}  // namespace nabla_emu

using namespace nabla_emu;

// The driver keeps the current context per operating-system thread, not per Java thread: a virtual thread that
// resumes on another carrier finds that carrier's context, or none. The emulator keeps it in the same place, so
// code that caches "already current" per Java thread fails here as it does on a GPU.
static thread_local long nabla_emu_context = 0;
extern "C" void nabla_emu_set_context(long context) { nabla_emu_context = context; }
extern "C" long nabla_emu_get_context() { return nabla_emu_context; }

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
