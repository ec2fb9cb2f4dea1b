package dev.nabla.bench.peers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.nabla.bench.suite.Data;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.tensorflow.types.TFloat32;

/**
 * W2 ({@code a*b + a}, 2^24), W3 ({@code sum}, 2^24) and W4 (1024^3 matmul) for the peers, on the inputs of
 * {@code W2MulAdd}, {@code W3Sum} and {@code W4Matmul}, each result checked against a plain-Java reference as
 * Nabla's is. DJL closes each result (and its temporaries) every iteration.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true"})
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class W2to4Peers {
    private NDManager manager;
    private float[] a2;
    private float[] b2;
    private NDArray da;
    private NDArray db;
    private NDArray ds;
    private NDArray dm1;
    private NDArray dm2;
    private Tf.Binary tfMulAdd;
    private Tf.Binary tfSum;
    private Tf.Binary tfMatmul;
    private TFloat32 ta;
    private TFloat32 tb;
    private TFloat32 ts;
    private TFloat32 tm1;
    private TFloat32 tm2;

    @Setup
    public void setUp() {
        manager = Djl.manager();
        a2 = Data.uniform(21, Data.N, 0, 1);
        b2 = Data.uniform(22, Data.N, 0, 1);
        float[] s3 = Data.uniform(31, Data.N, 0, 1);
        float[] m1 = Data.uniform(41, Data.SIDE * Data.SIDE, -1, 1);
        float[] m2 = Data.uniform(42, Data.SIDE * Data.SIDE, -1, 1);
        da = manager.create(a2, new Shape(Data.N));
        db = manager.create(b2, new Shape(Data.N));
        ds = manager.create(s3, new Shape(Data.N));
        dm1 = manager.create(m1, new Shape(Data.SIDE, Data.SIDE));
        dm2 = manager.create(m2, new Shape(Data.SIDE, Data.SIDE));
        tfMulAdd = new Tf.Binary("muladd", Data.N);
        tfSum = new Tf.Binary("sum", Data.N);
        tfMatmul = new Tf.Binary("matmul", Data.SIDE, Data.SIDE);
        ta = Tf.tensor(a2, Data.N);
        tb = Tf.tensor(b2, Data.N);
        ts = Tf.tensor(s3, Data.N);
        tm1 = Tf.tensor(m1, Data.SIDE, Data.SIDE);
        tm2 = Tf.tensor(m2, Data.SIDE, Data.SIDE);
        // W2: a few elements
        try (NDManager sub = manager.newSubManager()) {
            da.tempAttach(sub);
            db.tempAttach(sub);
            float[] r = da.mul(db).add(da).toFloatArray();
            for (int i = 0; i < Data.N; i += 1 << 20) {
                Data.check("W2 djl element " + i, a2[i] * b2[i] + a2[i], r[i], 0);
                Data.check("W2 tf element " + i, a2[i] * b2[i] + a2[i], tfMulAdd.run(ta, tb, i), 0);
            }
        }
        // W3
        double exact = 0;
        for (float v : s3) {
            exact += v;
        }
        Data.check("W3 djl sum", exact, sumDjl(), 1e-5);
        Data.check("W3 tf sum", exact, sumTf(), 1e-5);
        // W4: one entry per 97 rows
        try (NDManager sub = manager.newSubManager()) {
            dm1.tempAttach(sub);
            dm2.tempAttach(sub);
            NDArray c = dm1.matMul(dm2);
            for (int i = 0; i < Data.SIDE; i += 97) {
                int j = (i * 31) % Data.SIDE;
                double ref = 0;
                for (int k = 0; k < Data.SIDE; k++) {
                    ref += (double) m1[i * Data.SIDE + k] * m2[k * Data.SIDE + j];
                }
                Data.check("W4 djl c[" + i + "][" + j + "]", ref, c.getFloat(i, j), 1e-3);
                Data.check("W4 tf c[" + i + "][" + j + "]", ref, tfMatmul.run(tm1, tm2, i, j), 1e-3);
            }
        }
    }

    @TearDown
    public void tearDown() {
        for (TFloat32 t : new TFloat32[] {ta, tb, ts, tm1, tm2}) {
            t.close();
        }
        tfMulAdd.close();
        tfSum.close();
        tfMatmul.close();
        manager.close();
    }

    @Benchmark
    public long mulAddDjl() {
        try (NDManager sub = manager.newSubManager()) {
            da.tempAttach(sub);
            db.tempAttach(sub);
            return da.mul(db).add(da).size();
        }
    }

    @Benchmark
    public float mulAddTf() {
        return tfMulAdd.run(ta, tb, 0);
    }

    @Benchmark
    public float sumDjl() {
        try (NDManager sub = manager.newSubManager()) {
            ds.tempAttach(sub);
            return ds.sum().getFloat();
        }
    }

    @Benchmark
    public float sumTf() {
        return tfSum.run(ts, null);
    }

    @Benchmark
    public long matmulDjl() {
        try (NDManager sub = manager.newSubManager()) {
            dm1.tempAttach(sub);
            dm2.tempAttach(sub);
            return dm1.matMul(dm2).size();
        }
    }

    @Benchmark
    public float matmulTf() {
        return tfMatmul.run(tm1, tm2, 0, 0);
    }
}
