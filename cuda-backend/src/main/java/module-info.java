/**
 * Nabla's CUDA backend: JCuda's driver API, the committed PTX kernels of {@code dev.nabla.kernels}, and cuBLAS
 * through the FFM API (so it needs {@code --enable-native-access=dev.nabla.cuda}).
 *
 * <pre>{@code
 * java --module-path libs --add-modules dev.nabla.cpu,dev.nabla.cuda --enable-native-access=dev.nabla.cuda ...
 * }</pre>
 */
// jcuda has no module-info: it is an automatic module named after its jar file
@SuppressWarnings("requires-automatic")
module dev.nabla.cuda {
    requires dev.nabla;
    requires dev.nabla.kernels;
    requires jcuda;

    // cuda-emu: the same backend on an emulated driver (the kernels compiled for the host), for tests
    provides dev.nabla.backend.BackendProvider with dev.nabla.cuda.CudaBackendProvider,
            dev.nabla.cuda.CudaEmuProvider;
}
