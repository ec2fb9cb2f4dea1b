package dev.nabla.conformance.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.Scope;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.graph.TracedFunction;

/** A traced function's compiled plan belongs to the function, not to the memory scope it was first called in. */
class TracedFunctionScopeTest {
    @OnEachDevice
    void aPlanFirstRunInsideAScopeStillRunsAfterTheScopeCloses(Device d) {
        // reductions between element-wise steps: intermediates in buffers that the plan allocates
        TracedFunction f = Nabla.function((Tensor x) -> x.mul(x).sum().add(x).max().mul(x));
        // past the CPU pool's 16 KiB floor, so that a buffer wrongly returned to the pool is handed out again
        float[] in = new float[10_000];
        for (int i = 0; i < in.length; i++) {
            in[i] = (float) Math.sin(i) * 0.001f;
        }
        Tensor e = Tensor.of(d, in);
        float[] expected = e.mul(e).sum().add(e).max().mul(e).toFloatArray();
        try (Scope s = Nabla.scope()) {
            for (int call = 0; call < 3; call++) {
                assertArrayEquals(expected, f.call(Tensor.of(d, in)).toFloatArray());
            }
        }
        for (int call = 0; call < 3; call++) {
            assertArrayEquals(expected, f.call(Tensor.of(d, in)).toFloatArray(), "call " + call + " after the scope");
        }
    }
}
