/**
 * Nabla's CPU backend: Java Vector API kernels, bit-identical to their scalar definitions on every host.
 *
 * <pre>{@code
 * java --module-path libs --add-modules dev.nabla.cpu -m my.app/my.app.Main
 * }</pre>
 */
module dev.nabla.cpu {
    requires dev.nabla;
    requires jdk.incubator.vector;

    provides dev.nabla.backend.BackendProvider with dev.nabla.cpu.CpuBackendProvider;
}
