package dev.nabla.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Reads the PTX modules shipped in this jar. The lookup goes through this class because on the module path a
 * resource can only be found from inside the module that holds it.
 *
 * <pre>{@code
 * String ptx = PtxResources.text("reduce");   // the text of dev/nabla/kernels/reduce.ptx
 * }</pre>
 */
public final class PtxResources {
    private PtxResources() {
    }

    /**
     * The PTX text of {@code module} ({@code dev/nabla/kernels/<module>.ptx}).
     *
     * @throws IllegalArgumentException if no such module is shipped
     */
    public static String text(String module) {
        return read(module + ".ptx", "PTX module '" + module + "'", StandardCharsets.US_ASCII);
    }

    /**
     * The text of one CUDA source shipped beside the PTX ({@code dev/nabla/kernels/cuda/<file>}, e.g.
     * {@code "reduce.cu"} or {@code "common.cuh"}): the cuda-emu device compiles them for the host.
     *
     * <pre>{@code
     * String cu = PtxResources.source("binary.cu");
     * }</pre>
     *
     * @throws IllegalArgumentException if no such source is shipped
     */
    public static String source(String file) {
        return read("cuda/" + file, "CUDA source '" + file + "'", StandardCharsets.UTF_8);
    }

    /** The text of {@code resource} (relative to this package); {@code what} names it in the errors. */
    private static String read(String resource, String what, Charset charset) {
        try (InputStream in = PtxResources.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no " + what + " (resource dev/nabla/kernels/" + resource
                        + ") in nabla-kernels");
            }
            return new String(in.readAllBytes(), charset);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + what + " (resource dev/nabla/kernels/" + resource + ")",
                    e);
        }
    }
}
