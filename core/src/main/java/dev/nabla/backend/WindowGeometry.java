package dev.nabla.backend;

/**
 * The sliding windows of a 2-D convolution or pooling over {@code images × channels} planes of
 * {@code height × width} (an NCHW buffer): {@code kernelH × kernelW} windows moving by {@code stride}, the image
 * padded with zeros by {@code padTop} rows above and {@code padLeft} columns to the left (and as many as the output
 * size needs below and to the right), giving {@code outH × outW} windows per plane.
 *
 * <p>{@link Backend#im2col} lays the windows out as columns: row {@code (c·kernelH + i)·kernelW + j}, column
 * {@code (n·outH + oy)·outW + ox} holds {@code x[n, c, oy·stride + i − padTop, ox·stride + j − padLeft]} (zero
 * outside the image), so a convolution is one matrix product {@code kernel (O, C·KH·KW) · cols}.
 *
 * <pre>{@code
 * // 2 images of 1 channel, 4 x 4, with 3 x 3 windows, stride 1, "same" padding (one row and column each side)
 * WindowGeometry g = new WindowGeometry(2, 1, 4, 4, 3, 3, 1, 1, 1, 4, 4);
 * long rows = g.rows();        // 9
 * long columns = g.columns();  // 32
 * }</pre>
 *
 * @param images   N
 * @param channels C
 * @param height   H
 * @param width    W
 * @param kernelH  the window's height
 * @param kernelW  the window's width
 * @param stride   the step between windows, in both directions
 * @param padTop   zero rows above the image
 * @param padLeft  zero columns left of the image
 * @param outH     windows per column of the image
 * @param outW     windows per row of the image
 */
public record WindowGeometry(int images, int channels, int height, int width, int kernelH, int kernelW, int stride,
        int padTop, int padLeft, int outH, int outW) {

    /** Rows of the column matrix: {@code channels · kernelH · kernelW}. */
    public long rows() {
        return (long) channels * kernelH * kernelW;
    }

    /** Columns of the column matrix: {@code images · outH · outW}. */
    public long columns() {
        return (long) images * outH * outW;
    }

    /** Elements of the input: {@code images · channels · height · width}. */
    public long inputSize() {
        return (long) images * channels * height * width;
    }
}
