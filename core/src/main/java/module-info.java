/**
 * Nabla: tensors, a gradient tape, optimizers and layers. The API packages and the backend SPI are exported; the
 * op implementations ({@code dev.nabla.ops}), the tape's internals ({@code dev.nabla.autograd}) and the tensor
 * accessor ({@code dev.nabla.internal}) are not. A backend module ({@code dev.nabla.cpu}, {@code dev.nabla.cuda})
 * provides {@link dev.nabla.backend.BackendProvider}.
 *
 * <pre>{@code
 * // module-info.java of an application
 * module my.app {
 *     requires dev.nabla;
 *     requires dev.nabla.cpu;   // or only at run time: --add-modules dev.nabla.cpu
 * }
 * }</pre>
 */
// protobuf-java has no module-info: it is the automatic module its manifest names
@SuppressWarnings("requires-automatic")
module dev.nabla {
    requires com.google.gson;
    requires com.google.protobuf;
    requires jdk.jfr;

    // the generated TensorBoard messages: protobuf reads their descriptors reflectively
    opens dev.nabla.summary.proto to com.google.protobuf;

    exports dev.nabla;
    exports dev.nabla.backend;
    exports dev.nabla.check;
    exports dev.nabla.io;
    exports dev.nabla.nn;
    exports dev.nabla.optim;
    exports dev.nabla.summary;

    uses dev.nabla.backend.BackendProvider;
}
