// The greeting of an interactive `./nabla shell` (not printed when it runs a script)
System.out.println("Nabla on " + Device.defaultDevice() + "; dev.nabla.*, dev.nabla.nn.* and dev.nabla.optim.* are imported.");
System.out.println("Try: var x = Variable.of(3f); var t = new GradientTape(); t.gradient(x.mul(x), x)   (/exit to leave)");
