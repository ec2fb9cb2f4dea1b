package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.nabla.Device;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.ops.Indexing;

/**
 * INT32 arithmetic wraps in two's complement, as TF, NumPy and Java do, on every device and path: never through
 * double (which saturates, and loses the low bits of a large product). Expected values are Java's own {@code int}
 * arithmetic, which the language defines as wrapping, or constants worked out by hand.
 */
class IntegerArithmeticTest {
    private static final int MAX = Integer.MAX_VALUE;
    private static final int MIN = Integer.MIN_VALUE;
    private static final int[] A = {MAX, MIN, 100000, -100000, 46341, 7, -7, 0, 1, -1, MIN, MAX, 65536, 3};
    private static final int[] B = {1, -1, 100000, 100000, 46341, 2, 2, 5, MAX, MIN, -1, MAX, 65536, 21};

    @OnEachDevice
    void theIssuesExamplesWrap(Device d) {
        // MAX_VALUE + 1 == MIN_VALUE; 100000 * 100000 = 10^10 = 2 * 2^32 + 1410065408
        assertArrayEquals(new int[] {MIN}, Tensor.of(d, new int[] {MAX}).add(Tensor.of(d, new int[] {1})).toIntArray());
        assertArrayEquals(new int[] {1410065408},
                Tensor.of(d, new int[] {100000}).mul(Tensor.of(d, new int[] {100000})).toIntArray());
    }

    @OnEachDevice
    void binaryOpsWrapOnDenseAndBroadcastLayouts(Device d) {
        int n = A.length;
        int[] add = new int[n];
        int[] sub = new int[n];
        int[] mul = new int[n];
        int[] max = new int[n];
        int[] min = new int[n];
        for (int i = 0; i < n; i++) {
            add[i] = A[i] + B[i];
            sub[i] = A[i] - B[i];
            mul[i] = A[i] * B[i];
            max[i] = Math.max(A[i], B[i]);
            min[i] = Math.min(A[i], B[i]);
        }
        Tensor a = Tensor.of(d, A);
        Tensor b = Tensor.of(d, B);
        assertArrayEquals(add, a.add(b).toIntArray(), "add");
        assertArrayEquals(sub, a.sub(b).toIntArray(), "sub");
        assertArrayEquals(mul, a.mul(b).toIntArray(), "mul");
        assertArrayEquals(max, a.maximum(b).toIntArray(), "maximum");
        assertArrayEquals(min, a.minimum(b).toIntArray(), "minimum");
        // a (2, n) against a broadcast row, and a scalar operand
        Tensor rows = Tensor.of(d, concat(A, B), 2, n);
        assertArrayEquals(concat(add, addAll(B, B)), rows.add(b).toIntArray(), "broadcast add");
        int[] plusMax = new int[n];
        for (int i = 0; i < n; i++) {
            plusMax[i] = A[i] + MAX;
        }
        assertArrayEquals(plusMax, a.add(Tensor.scalar(d, MAX)).toIntArray(), "scalar add");
    }

    @OnEachDevice
    void divisionTruncatesTowardZeroAndWrapsAtMinOverMinusOne(Device d) {
        int[] x = {7, -7, 7, -7, MIN, MIN, 5, 0, MAX};
        int[] y = {2, 2, -2, -2, -1, 1, 0, 0, -1};
        // truncation toward zero as C and Java; MIN / -1 wraps to MIN; division by zero gives 0 (documented)
        int[] expected = {3, -3, -3, 3, MIN, MIN, 0, 0, -MAX};
        assertArrayEquals(expected, Tensor.of(d, x).div(Tensor.of(d, y)).toIntArray());
    }

    @OnEachDevice
    void powMultipliesWithWrapAround(Device d) {
        int[] x = {2, 2, 3, -2, 10, 0, 0, 1, -1, -1, 2, 7};
        int[] y = {10, 31, 21, 3, 10, 0, 3, -5, -3, -4, -1, 1};
        // 2^31 wraps to MIN; 3^21 = 10460353203 = 2 * 2^32 + 1870418611; 10^10 wraps as in the issue; 0^0 = 1;
        // negative exponents give the truncated real result
        int[] expected = {1024, MIN, 1870418611, -8, 1410065408, 1, 0, 1, -1, 1, 0, 7};
        assertArrayEquals(expected, Tensor.of(d, x).pow(Tensor.of(d, y)).toIntArray());
    }

    @OnEachDevice
    void unaryOpsWrap(Device d) {
        Tensor x = Tensor.of(d, new int[] {MIN, MAX, -5, 0, 46341, 65536});
        // -MIN = MIN and |MIN| = MIN in two's complement; 46341^2 = 2147488281 wraps to -2147479015; 65536^2 = 2^32 -> 0
        assertArrayEquals(new int[] {MIN, -MAX, 5, 0, -46341, -65536}, x.neg().toIntArray(), "neg");
        assertArrayEquals(new int[] {MIN, MAX, 5, 0, 46341, 65536}, x.abs().toIntArray(), "abs");
        assertArrayEquals(new int[] {0, 1, 25, 0, -2147479015, 0},
                x.square().toIntArray(), "square");
        assertArrayEquals(new int[] {-1, 1, -1, 0, 1, 1}, x.sign().toIntArray(), "sign");
    }

    @OnEachDevice
    void sumsWrapAlongEveryAxis(Device d) {
        int[] v = new int[3 * 5000];
        for (int i = 0; i < v.length; i++) {
            v[i] = MAX - i;
        }
        int total = 0;
        int[] rows = new int[3];
        int[] cols = new int[5000];
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 5000; c++) {
                int e = v[r * 5000 + c];
                total += e;
                rows[r] += e;
                cols[c] += e;
            }
        }
        Tensor x = Tensor.of(d, v, 3, 5000);
        assertArrayEquals(new int[] {total}, x.sum().toIntArray(), "sum");
        assertArrayEquals(rows, x.sum(1).toIntArray(), "sum over axis 1");
        assertArrayEquals(cols, x.sum(0).toIntArray(), "sum over axis 0");
    }

    @OnEachDevice
    void matmulAccumulatesWithWrapAround(Device d) {
        int[] a = {MAX, 2, 65536, 65536};
        int[] b = {2, 3, 65536, 1};
        // [[MAX, 2], [65536, 65536]] . [[2, 3], [65536, 1]]: every product and sum wraps
        int[] expected = {MAX * 2 + 2 * 65536, MAX * 3 + 2, 65536 * 2 + 65536 * 65536, 65536 * 3 + 65536};
        assertArrayEquals(expected, Tensor.of(d, a, 2, 2).matmul(Tensor.of(d, b, 2, 2)).toIntArray());
    }

    @OnEachDevice
    void scatterAddWraps(Device d) {
        Tensor updates = Tensor.of(d, new int[] {MAX, 1, MIN, -1, 5});
        Tensor indices = Tensor.of(d, new int[] {0, 0, 1, 1, 2});
        // repeated indices add up: MAX + 1 = MIN, MIN + -1 = MAX
        Tensor out = Indexing.scatterAdd(Shape.of(3), 0, indices, updates);
        assertArrayEquals(new int[] {MIN, MAX, 5}, out.toIntArray());
    }

    private static int[] concat(int[] x, int[] y) {
        int[] out = java.util.Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, out, x.length, y.length);
        return out;
    }

    private static int[] addAll(int[] x, int[] y) {
        int[] out = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] + y[i];
        }
        return out;
    }
}
