package dev.nabla.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The emulator's execution engine on small kernels written for the test: shared memory and {@code __syncthreads}
 * as a block reduction, a warp shuffle, and the errors it reports instead of hanging or running on wrongly (a
 * barrier that some threads never reach, a barrier in a kernel launched without fibers).
 */
@SuppressWarnings("restricted")
class EmuRuntimeTest {
    private static final String SOURCE = """
            #include "cuda_shim.h"
            #include "emu_registry.h"
            extern "C" __global__ void block_sum(const int* in, int* out) {
                __shared__ int s[256];
                s[threadIdx.x] = in[blockIdx.x * blockDim.x + threadIdx.x];
                __syncthreads();
                for (int h = blockDim.x / 2; h > 0; h >>= 1) {
                    if (threadIdx.x < h) s[threadIdx.x] += s[threadIdx.x + h];
                    __syncthreads();
                }
                if (threadIdx.x == 0) out[blockIdx.x] = s[0];
            }
            extern "C" __global__ void shift_down(int* out) {
                int lane = threadIdx.x + blockDim.x * threadIdx.y;
                out[lane] = __shfl_down_sync(0xffffffffu, lane * 10, 3);
            }
            extern "C" __global__ void stuck(int* out) {
                // lane 0 of warp 0 waits at the block barrier while its warp waits for it at a shuffle
                if (threadIdx.x == 0) __syncthreads();
                else if (threadIdx.x < 32) out[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1, 1);
                else __syncthreads();
            }
            extern "C" const nabla_emu::Entry* test_entries(long long* n) {
                static const nabla_emu::Entry e[] = {NABLA_EMU_KERNEL(block_sum), NABLA_EMU_KERNEL(shift_down),
                                                     NABLA_EMU_KERNEL(stuck)};
                *n = 3;
                return e;
            }
            """;

    private static EmulatedDriver driver;
    private static final Map<String, MemorySegment> KERNELS = new HashMap<>();

    @BeforeAll
    static void build(@TempDir Path dir) throws Throwable {
        EmuTests.requireEmulator();
        driver = EmulatedDriver.instance();
        Path lib = driver.library();
        Path src = dir.resolve("runtime_test.cpp");
        Files.writeString(src, SOURCE);
        Path out = dir.resolve("libruntime_test.so");
        List<String> cmd = new java.util.ArrayList<>(List.of(EmulatorBuild.compiler()));
        cmd.addAll(EmulatorBuild.FLAGS);
        cmd.addAll(List.of("-shared", "-I" + lib.getParent(), "-o", out.toString(), src.toString(),
                "-x", "none", lib.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS) && p.exitValue() == 0, log);
        SymbolLookup lookup = SymbolLookup.libraryLookup(out, Arena.global());
        MethodHandle entries = Linker.nativeLinker().downcallHandle(lookup.find("test_entries").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, ADDRESS));
        MemorySegment count = Arena.global().allocate(JAVA_LONG);
        MemorySegment table = ((MemorySegment) entries.invokeExact(count)).reinterpret(32 * count.get(JAVA_LONG, 0));
        for (long i = 0; i < count.get(JAVA_LONG, 0); i++) {
            String name = table.get(ADDRESS, i * 32).reinterpret(64).getString(0, StandardCharsets.US_ASCII);
            KERNELS.put(name, table.get(ADDRESS, i * 32 + 8));
        }
    }

    /** The CUDA convention: an array of pointers to the argument values. */
    private static MemorySegment args(Arena arena, MemorySegment... pointers) {
        MemorySegment values = arena.allocate(ADDRESS, pointers.length);
        MemorySegment array = arena.allocate(ADDRESS, pointers.length);
        for (int i = 0; i < pointers.length; i++) {
            values.setAtIndex(ADDRESS, i, pointers[i]);
            array.setAtIndex(ADDRESS, i, values.asSlice(i * ADDRESS.byteSize()));
        }
        return array;
    }

    @Test
    void sharedMemoryAndBarriersReduceABlock() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(JAVA_INT, 3 * 256);
            for (int i = 0; i < 3 * 256; i++) {
                in.setAtIndex(JAVA_INT, i, i);
            }
            MemorySegment out = arena.allocate(JAVA_INT, 3);
            assertNull(driver.launchNow(KERNELS.get("block_sum"), args(arena, in, out), 3, 256, 1, true));
            int[] sums = out.toArray(JAVA_INT);
            assertArrayEquals(new int[] {255 * 256 / 2, 255 * 256 / 2 + 256 * 256, 255 * 256 / 2 + 512 * 256},
                    sums);
        }
    }

    @Test
    void shufflesReadTheLaneDeltaAboveAndKeepTheirOwnPastTheWarp() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT, 64);
            assertNull(driver.launchNow(KERNELS.get("shift_down"), args(arena, out), 1, 32, 2, true));
            int[] got = out.toArray(JAVA_INT);
            for (int lane = 0; lane < 64; lane++) {
                int inWarp = lane & 31;
                int expected = inWarp + 3 < 32 ? (lane + 3) * 10 : lane * 10;
                assertTrue(got[lane] == expected, "lane " + lane + ": " + got[lane] + ", expected " + expected);
            }
        }
    }

    @Test
    void aBarrierSomeThreadsNeverReachIsADeadlockNotAHang() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT, 64);
            String error = driver.launchNow(KERNELS.get("stuck"), args(arena, out), 1, 64, 1, true);
            assertTrue(error != null && error.startsWith("deadlock"), String.valueOf(error));
        }
    }

    @Test
    void aBarrierInAKernelRunWithoutFibersIsReported() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(JAVA_INT, 256);
            MemorySegment out = arena.allocate(JAVA_INT, 1);
            String error = driver.launchNow(KERNELS.get("block_sum"), args(arena, in, out), 1, 256, 1, false);
            assertTrue(error != null && error.contains("__syncthreads in a kernel run without fibers"),
                    String.valueOf(error));
        }
    }
}
