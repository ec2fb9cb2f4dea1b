// The TensorFlow GradientTape tutorial, one cell at a time, for `./nabla shell`.
// `./nabla shell examples/notebook.jsh` runs it whole; it prints what `./nabla notebook` prints.

// A float32 as Python prints it in a list (shortest round-trip digits)
String pyFloat(float f) {
    return Tensor.scalar(f).toString().replaceFirst("^Tensor\\(", "").replaceFirst(", shape=.*$", "");
}

// Cell 1. y = x^2 + 2x at x = 4: dy/dx = 2x + 2 = 10
Variable x = Variable.of(4.0f);
try (GradientTape tape = new GradientTape()) {
    Tensor y = x.square().add(x.mul(2));
    System.out.println(tape.gradient(y, x));
}

// Cell 2. y = w^2 for a (1, 3) matrix: dy/dw = 2w
Variable w = Variable.of(new float[][] {{5, 10, 15.23232f}});
try (GradientTape tape = new GradientTape()) {
    Tensor y = w.square();
    System.out.println(tape.gradient(y, w));
}

// Cell 3. a non-scalar target is summed: d(sum(x * [1, 2, 4]))/dx = 7
Variable s = Variable.of(2.0f);
try (GradientTape tape = new GradientTape()) {
    Tensor y = s.mul(Tensor.of(new float[] {1, 2, 4}));
    System.out.println(tape.gradient(y, s));
}

// Cell 4. minimise x^2 + x - 1 from x = 3 with SGD(0.1)
Variable v = Variable.of(3.0f);
Optimizer sgd = new SGD(0.1);
for (int epoch = 0; epoch < 30; epoch++) {
    float before = v.item();
    Tensor loss = sgd.minimize(() -> v.square().add(v).sub(1), List.of(v));
    System.out.println("Epoch : " + epoch + " [" + pyFloat(before) + ", " + pyFloat(loss.item()) + "]");
}

// Cell 5. the tape's gradient agrees with central finite differences
Tensor at = Tensor.of(new double[] {v.item()});
var j = dev.nabla.check.GradientChecker.jacobians(in -> in.get(0).square().add(in.get(0)).sub(1), List.of(at));
System.out.printf("Gradient check of d(x**2 + x - 1)/dx at x = %s: theoretical %.10f, numerical %.10f, "
        + "max abs error %.1e%n", pyFloat(v.item()), j.theoretical().get(0)[0][0], j.numerical().get(0)[0][0],
        j.result().maxAbsError());

/exit
