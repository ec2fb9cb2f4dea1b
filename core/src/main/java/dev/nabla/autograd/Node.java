package dev.nabla.autograd;

import dev.nabla.Tensor;
import dev.nabla.Variable;

/** One recorded op: its inputs, its output, its gradient rule, and the versions of the Variables it saved. */
final class Node {
    final String op;
    final Tensor[] inputs;
    final Tensor output;
    final Vjp vjp;
    /** Versions of Variable inputs when recorded, or null when the rule does not read its inputs' values. */
    final long[] savedVersions;
    /** The caller's line that ran the op, when checkNumerics was on; else null. */
    final StackTraceElement userFrame;

    Node(String op, Tensor[] inputs, Tensor output, Vjp vjp, boolean savesInputs, StackTraceElement userFrame) {
        this.op = op;
        this.userFrame = userFrame;
        this.inputs = inputs;
        this.output = output;
        this.vjp = vjp;
        long[] versions = null;
        if (savesInputs) {
            for (int i = 0; i < inputs.length; i++) {
                if (inputs[i] instanceof Variable v) {
                    if (versions == null) {
                        versions = new long[inputs.length];
                    }
                    versions[i] = v.version();
                }
            }
        }
        this.savedVersions = versions;
    }

    /** Throws when a Variable this node saved was changed in place since it was recorded. */
    void checkVersions() {
        if (savedVersions == null) {
            return;
        }
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] instanceof Variable v && v.version() != savedVersions[i]) {
                throw new IllegalStateException("gradient: Variable '" + v.name() + "' saved by " + op
                        + " was modified in place (version " + savedVersions[i] + " -> " + v.version()
                        + ") after the tape recorded it; compute the gradient before assigning");
            }
        }
    }
}
