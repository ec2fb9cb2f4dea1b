package dev.nabla.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The few cuBLAS functions Nabla calls, bound with {@code java.lang.foreign}. NOTE: not JCublas: JCublas 12 links
 * {@code libcublas.so.12} with versioned symbols and cannot load where only {@code libcublas.so.13} exists, while
 * these handles bind by name to whichever major version {@link CublasLocator} finds. Device pointers and the stream
 * pass as raw addresses; alpha and beta as host pointers (the default pointer mode).
 *
 * <p>The FFM calls are "restricted": they need {@code --enable-native-access=ALL-UNNAMED}, which Nabla's launcher,
 * surefire and gpu-check.sh pass (without it the JDK only warns).
 */
@SuppressWarnings("restricted")
final class Cublas implements Blas {
    static final int OP_N = 0;
    static final int OP_T = 1;
    /** cublasMath_t: plain FP32 (no tensor-core reduced precision). */
    static final int DEFAULT_MATH = 0;
    /** cublasMath_t: FP32 GEMMs may use TF32 tensor cores. */
    static final int TF32_TENSOR_OP_MATH = 3;

    /** What loading found: the binding, or null and every reason a candidate failed. */
    record Loaded(Cublas cublas, String location, List<String> failures) {
    }

    private static volatile Loaded loaded;

    private final MethodHandle create;
    private final MethodHandle destroy;
    private final MethodHandle setStream;
    private final MethodHandle setMathMode;
    private final MethodHandle sgemm;
    private final MethodHandle dgemm;
    private final MethodHandle sgemmStridedBatched;
    private final MethodHandle dgemmStridedBatched;

    private Cublas(SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        create = bind(linker, lib, "cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        destroy = bind(linker, lib, "cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        setStream = bind(linker, lib, "cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        setMathMode = bind(linker, lib, "cublasSetMathMode", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        // (handle, transa, transb, m, n, k, alpha*, A, lda, B, ldb, beta*, C, ldc)
        FunctionDescriptor gemm = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);
        sgemm = bind(linker, lib, "cublasSgemm_v2", gemm);
        dgemm = bind(linker, lib, "cublasDgemm_v2", gemm);
        // (handle, transa, transb, m, n, k, alpha*, A, lda, strideA, B, ldb, strideB, beta*, C, ldc, strideC, count)
        FunctionDescriptor batched = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS,
                JAVA_INT, JAVA_LONG, JAVA_INT);
        sgemmStridedBatched = bind(linker, lib, "cublasSgemmStridedBatched", batched);
        dgemmStridedBatched = bind(linker, lib, "cublasDgemmStridedBatched", batched);
    }

    private static MethodHandle bind(Linker linker, SymbolLookup lib, String name, FunctionDescriptor fd) {
        MemorySegment symbol = lib.find(name)
                .orElseThrow(() -> new IllegalStateException("symbol " + name + " not found"));
        return linker.downcallHandle(symbol, fd);
    }

    /**
     * Loads cuBLAS once per JVM from the first {@link CublasLocator} candidate that binds and creates a handle (a
     * {@code libcublas.so.13} that binds but cannot create a handle on an older driver is passed over for
     * {@code .so.12}); never throws. The device's context must be current: handle creation needs it.
     */
    static Loaded load() {
        Loaded l = loaded;
        if (l == null) {
            synchronized (Cublas.class) {
                l = loaded;
                if (l == null) {
                    l = load(CublasLocator.system().candidates(), Cublas::probe);
                    loaded = l;
                }
            }
        }
        return l;
    }

    /** Creates and destroys a handle: the library works with this driver. */
    static void probe(Cublas cublas) {
        cublas.destroy(cublas.createHandle());
    }

    static Loaded load(List<CublasLocator.Candidate> candidates) {
        return load(candidates, c -> { });
    }

    /** The first candidate that binds and passes {@code probe} (which throws to reject it). */
    static Loaded load(List<CublasLocator.Candidate> candidates, java.util.function.Consumer<Cublas> probe) {
        List<String> failures = new ArrayList<>();
        for (CublasLocator.Candidate c : candidates) {
            try {
                SymbolLookup lib;
                if (c.file() == null) {
                    lib = SymbolLookup.libraryLookup(c.soname(), Arena.global());
                } else {
                    preloadLt(c);
                    lib = SymbolLookup.libraryLookup(c.file(), Arena.global());
                }
                Cublas cublas = new Cublas(lib);
                try {
                    probe.accept(cublas);
                } catch (RuntimeException e) {
                    failures.add(c.describe() + ": binds, but " + e.getMessage());
                    continue;
                }
                String where = c.file() != null ? c.file().toString() : loadedFrom(c.soname());
                return new Loaded(cublas, where, List.copyOf(failures));
            } catch (Throwable t) { // IllegalArgumentException for a missing library, LinkageError, ...
                failures.add(c.describe() + ": " + t.getMessage());
            }
        }
        return new Loaded(null, null, List.copyOf(failures));
    }

    // libcublas needs libcublasLt of the same version; a toolkit folder that is not on the loader's path would
    // leave it unresolved, so load it first from beside libcublas (the loader then matches it by soname).
    private static void preloadLt(CublasLocator.Candidate c) {
        Path lt = c.file().resolveSibling(c.soname().replace("libcublas", "libcublasLt"));
        if (Files.isRegularFile(lt)) {
            SymbolLookup.libraryLookup(lt, Arena.global());
        }
    }

    // the file the dynamic loader picked for a bare soname, from this process's memory map
    private static String loadedFrom(String soname) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash >= 0 && line.contains("/" + soname)) {
                    return line.substring(slash) + " (via the library search path)";
                }
            }
        } catch (Exception e) {
            // fall through: the soname alone still says which major version
        }
        return soname + " (library search path)";
    }

    // ---- calls --------------------------------------------------------------------------------------------------

    /** A new handle (cuBLAS binds it to the context current on this thread). */
    @Override
    public long createHandle() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            status((int) create.invokeExact(out), "cublasCreate_v2");
            return out.get(ADDRESS, 0).address();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cublasCreate_v2", t);
        }
    }

    @Override
    public void destroy(long handle) {
        invoke("cublasDestroy_v2", () -> (int) destroy.invokeExact(MemorySegment.ofAddress(handle)));
    }

    @Override
    public void setStream(long handle, long stream) {
        invoke("cublasSetStream_v2", () -> (int) setStream.invokeExact(MemorySegment.ofAddress(handle),
                MemorySegment.ofAddress(stream)));
    }

    @Override
    public void setMathMode(long handle, int mode) {
        invoke("cublasSetMathMode", () -> (int) setMathMode.invokeExact(MemorySegment.ofAddress(handle), mode));
    }

    /**
     * Column-major {@code C = op(A) op(B)} ({@code alpha = 1, beta = 0}) for FLOAT32 or FLOAT64 ({@code isDouble}),
     * {@code batchCount} times with the given element strides (a single plain GEMM when the count is 1).
     */
    @Override
    public void gemm(boolean isDouble, long handle, int transa, int transb, int m, int n, int k, long a, int lda,
            long strideA, long b, int ldb, long strideB, long c, int ldc, long strideC, int batchCount) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment alpha = isDouble ? arena.allocateFrom(JAVA_DOUBLE, 1.0) : arena.allocateFrom(JAVA_FLOAT, 1f);
            MemorySegment beta = isDouble ? arena.allocateFrom(JAVA_DOUBLE, 0.0) : arena.allocateFrom(JAVA_FLOAT, 0f);
            MemorySegment h = MemorySegment.ofAddress(handle);
            MemorySegment pa = MemorySegment.ofAddress(a);
            MemorySegment pb = MemorySegment.ofAddress(b);
            MemorySegment pc = MemorySegment.ofAddress(c);
            int status;
            String name;
            if (batchCount == 1) {
                name = isDouble ? "cublasDgemm_v2" : "cublasSgemm_v2";
                MethodHandle mh = isDouble ? dgemm : sgemm;
                status = (int) mh.invokeExact(h, transa, transb, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
            } else {
                name = isDouble ? "cublasDgemmStridedBatched" : "cublasSgemmStridedBatched";
                MethodHandle mh = isDouble ? dgemmStridedBatched : sgemmStridedBatched;
                status = (int) mh.invokeExact(h, transa, transb, m, n, k, alpha, pa, lda, strideA, pb, ldb, strideB,
                        beta, pc, ldc, strideC, batchCount);
            }
            status(status, name);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cuBLAS GEMM call failed", t);
        }
    }

    @FunctionalInterface
    private interface Call {
        int run() throws Throwable;
    }

    private static void invoke(String name, Call call) {
        int status;
        try {
            status = call.run();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(name + " failed", t);
        }
        status(status, name);
    }

    private static void status(int status, String name) {
        if (status != 0) {
            throw new IllegalStateException(name + " failed: " + statusName(status));
        }
    }

    /** cublasStatus_t names. */
    static String statusName(int status) {
        String name = switch (status) {
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "cuBLAS status";
        };
        return name + " (" + status + ")";
    }
}
