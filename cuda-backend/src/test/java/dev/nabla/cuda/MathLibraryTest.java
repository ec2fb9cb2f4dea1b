package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.UnaryOp;
import dev.nabla.kernels.PtxResources;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The fusion math library is the code the eager kernels run: for every op that calls CUDA's math library, the
 * {@code .func} that fused_math.ptx exports has the same PTX body as the one unary.ptx or binary.ptx calls (nvcc
 * compiled both from math_ops.cuh), so a fused step and the eager kernel give the same bits on a GPU too.
 */
class MathLibraryTest {
    private static final List<Enum<?>> MATH_OPS = List.of(UnaryOp.EXP, UnaryOp.LOG, UnaryOp.SIN, UnaryOp.COS,
            UnaryOp.TANH, UnaryOp.SIGMOID, BinaryOp.POW);

    /** The body of the {@code .func} whose name contains {@code name}: its name, label numbers and comments neutral. */
    private static String body(String ptx, String name) {
        Matcher m = Pattern.compile("\\.func\\s*\\([^)]*\\)\\s*(\\w*" + name + "\\w*)\\s*\\(").matcher(ptx);
        int at = -1;
        String full = null;
        while (m.find()) {
            int open = ptx.indexOf(')', m.end());
            String after = ptx.substring(open + 1).stripLeading();
            if (after.startsWith("{")) {
                at = m.start();
                full = m.group(1);
                break;
            }
        }
        assertTrue(at >= 0, "no definition of a .func named like " + name);
        int start = ptx.indexOf('{', at);
        int depth = 0;
        int end = start;
        for (int i = start; i < ptx.length(); i++) {
            char c = ptx.charAt(i);
            depth += c == '{' ? 1 : c == '}' ? -1 : 0;
            if (depth == 0) {
                end = i;
                break;
            }
        }
        return ptx.substring(start, end + 1).replace(full, "F").replaceAll("\\$L__BB\\d+_", "\\$L__BB_")
                .replaceAll("//[^\n]*", ""); // comments number the call sites of the module
    }

    @Test
    void theLibraryExportsTheFunctionsTheEagerKernelsCall() {
        String library = PtxResources.text(EmulatorBuild.MATH_LIBRARY);
        int compared = 0;
        for (Enum<?> op : MATH_OPS) {
            String module = op instanceof UnaryOp ? "unary" : "binary";
            for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
                String f = FusedPtx.mathFunction(op, t);
                assertTrue(MathLibrary.shipped().defines(f), f + " is exported by fused_math.ptx");
                assertTrue(library.contains(".visible .func"), "the library's functions are visible");
                assertEquals(body(PtxResources.text(module), f), body(library, f),
                        f + ": the eager kernels' function and the library's differ (run kernels/build-ptx.sh)");
                compared++;
            }
        }
        assertEquals(14, compared);
    }

    @Test
    void aClosureCarriesWhatTheFunctionUses() {
        String sin = MathLibrary.shipped().closure(List.of(FusedPtx.mathFunction(UnaryOp.SIN, DType.FLOAT64)));
        assertTrue(sin.contains("nabla_sin_float64"), sin);
        for (MathLibrary.Item item : MathLibrary.items(sin)) {
            assertTrue(!item.function() || item.name().equals("nabla_sin_float64") || !item.name().startsWith("nabla_"),
                    "only what sin uses: " + item.name());
        }
        String exp = MathLibrary.shipped().closure(List.of(FusedPtx.mathFunction(UnaryOp.EXP, DType.FLOAT32)));
        assertEquals(1, MathLibrary.items(exp).size(), exp);
    }
}
