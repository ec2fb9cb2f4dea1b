package dev.nabla.examples;

/** Text of a confusion matrix: rows are true labels, columns predictions. */
final class ConfusionMatrix {
    private ConfusionMatrix() {
    }

    static String format(int[][] m) {
        StringBuilder sb = new StringBuilder("confusion matrix (rows: true digit, columns: predicted)\n     ");
        for (int c = 0; c < m.length; c++) {
            sb.append(String.format("%5d", c));
        }
        for (int r = 0; r < m.length; r++) {
            sb.append(String.format("%n%5d", r));
            for (int c = 0; c < m.length; c++) {
                sb.append(String.format("%5d", m[r][c]));
            }
        }
        return sb.toString();
    }
}
