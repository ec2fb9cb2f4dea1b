/**
 * The committed PTX of Nabla's CUDA kernels, as resources, read through {@link dev.nabla.kernels.PtxResources}.
 *
 * <pre>{@code
 * String ptx = dev.nabla.kernels.PtxResources.text("binary");
 * }</pre>
 */
module dev.nabla.kernels {
    exports dev.nabla.kernels;
}
