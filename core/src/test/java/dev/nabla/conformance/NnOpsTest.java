package dev.nabla.conformance;

import dev.nabla.Device;
import dev.nabla.conformance.OpInfo.Family;

/**
 * The neural-network functions (conv2d, pooling, cross-entropy, mean squared error, dropout) and the layers'
 * forward, from the op table.
 */
class NnOpsTest {
    @OnEachDevice
    void nnOpsMatchScalarReference(Device d) {
        OpConformance.assertForward(d, Family.NN);
    }

    @OnEachDevice
    void nnOpsOnLargeShapesMatchScalarReference(Device d) {
        OpConformance.assertForwardOnLargeShapes(d, Family.NN);
    }

    @OnEachDevice
    void nnGradientsMatchFiniteDifferences(Device d) {
        OpConformance.assertGradients(d, Family.NN);
    }
}
