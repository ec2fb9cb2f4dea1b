package dev.nabla.bench.peers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.nabla.Tensor;
import dev.nabla.bench.suite.Data;
import dev.nabla.bench.suite.NablaWorkloads;
import java.util.ArrayList;
import java.util.List;
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
 * W5 (MLP step), W6 (sum((A + b)^2) forward and backward) and W7 (MNIST CNN Adam step) for the peers. Each checks
 * its first losses (W5, W7: from the same initial weights as Nabla's model) or its values (W6) against Nabla's.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true"})
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class W5to7Peers {
    private Djl.Mlp djlMlp;
    private Tf.Mlp tfMlp;
    private NDManager manager;
    private NDArray da;
    private NDArray db;
    private Tf.SquaredSum tfW6;
    private TFloat32 ta;
    private TFloat32 tb;
    private Djl.Cnn djlCnn;
    private Tf.Cnn tfCnn;

    @Setup
    public void setUp() {
        // W5: the first three losses
        float[] nabla = NablaWorkloads.mlpLosses(3);
        djlMlp = new Djl.Mlp();
        tfMlp = new Tf.Mlp();
        for (int i = 0; i < nabla.length; i++) {
            Data.check("W5 djl loss " + i, nabla[i], djlMlp.step(), 1e-4);
            Data.check("W5 tf loss " + i, nabla[i], tfMlp.step(), 1e-4);
        }
        // W6: y, dA[0][0], db[0]
        Tensor[] in = NablaWorkloads.w6Inputs();
        float[] a = in[0].toFloatArray();
        float[] b = in[1].toFloatArray();
        List<Tensor> r = NablaWorkloads.w6Body(in[0], in[1]);
        float[] expected = {r.get(0).item(), r.get(1).toFloatArray()[0], r.get(2).toFloatArray()[0]};
        manager = Djl.manager();
        da = manager.create(a, new Shape(Data.SIDE, Data.SIDE));
        db = manager.create(b, new Shape(Data.SIDE));
        da.setRequiresGradient(true);
        db.setRequiresGradient(true);
        tfW6 = new Tf.SquaredSum();
        ta = Tf.tensor(a, Data.SIDE, Data.SIDE);
        tb = Tf.tensor(b, Data.SIDE);
        float[] dj = Djl.w6(manager, da, db, true);
        float[] tf = tfW6.run(ta, tb);
        String[] names = {"y", "dA[0][0]", "db[0]"};
        for (int i = 0; i < 3; i++) {
            Data.check("W6 djl " + names[i], expected[i], dj[i], 1e-4);
            Data.check("W6 tf " + names[i], expected[i], tf[i], 1e-4);
        }
        // W7: the first two losses from Nabla's initial weights
        NablaWorkloads.Cnn cnn = new NablaWorkloads.Cnn();
        List<float[]> weights = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        cnn.model.namedVariables().values().forEach(v -> {
            weights.add(v.toFloatArray());
            shapes.add(v.shape().dims());
        });
        djlCnn = new Djl.Cnn(weights, shapes);
        tfCnn = new Tf.Cnn(weights, shapes);
        for (int i = 0; i < 2; i++) {
            float l = cnn.step();
            Data.check("W7 djl loss " + i, l, djlCnn.step(), 1e-3);
            Data.check("W7 tf loss " + i, l, tfCnn.step(), 1e-3);
        }
    }

    @TearDown
    public void tearDown() {
        tfMlp.close();
        tfW6.close();
        ta.close();
        tb.close();
        tfCnn.close();
        manager.close();
    }

    @Benchmark
    public float mlpDjl() {
        return djlMlp.step();
    }

    @Benchmark
    public float mlpTf() {
        return tfMlp.step();
    }

    @Benchmark
    public float squaredSumDjl() {
        return Djl.w6(manager, da, db, false)[0];
    }

    @Benchmark
    public float squaredSumTf() {
        return tfW6.run(ta, tb)[0];
    }

    @Benchmark
    public float cnnDjl() {
        return djlCnn.step();
    }

    @Benchmark
    public float cnnTf() {
        return tfCnn.step();
    }
}
