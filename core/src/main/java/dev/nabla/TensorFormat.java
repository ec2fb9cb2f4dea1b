package dev.nabla;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * Text of tensors as TensorFlow prints them, which is NumPy's array text: shortest round-trip digits (at most 8
 * after the point), one width for all elements, scientific notation when magnitudes are far apart, and {@code ...}
 * summaries beyond 1000 elements.
 */
final class TensorFormat {
    private static final int PRECISION = 8;
    private static final int THRESHOLD = 1000;
    private static final int EDGE_ITEMS = 3;
    private static final int LINE_WIDTH = 75;

    private TensorFormat() {
    }

    /** {@code Tensor(<values>, shape=(..), dtype=..)}, with a line break after the parenthesis for multi-line values. */
    static String describe(String kind, Tensor t) {
        String values = values(t);
        if (kind.startsWith("Variable")) {
            return "<" + kind + " shape=" + t.shape() + " dtype=" + t.dtype() + ", numpy=" + values + ">";
        }
        return kind + "(" + (values.contains("\n") ? "\n" : "") + values + ", shape=" + t.shape() + ", dtype="
                + t.dtype() + ")";
    }

    /** NumPy's {@code str()} of the values. */
    static String values(Tensor t) {
        double[] v = t.toDoubleArray();
        long[] dims = t.shape().dims();
        DType dtype = t.dtype();
        if (dims.length == 0) {
            return scalar(v[0], dtype);
        }
        boolean summarise = v.length > THRESHOLD;
        List<Double> shown = new ArrayList<>();
        collect(v, dims, 0, 0, summarise, shown);
        ElementFormat f = new ElementFormat(dtype, shown);
        StringBuilder sb = new StringBuilder();
        render(sb, v, dims, 0, 0, summarise, f, 0);
        return sb.toString();
    }

    private static long stride(long[] dims, int axis) {
        long s = 1;
        for (int i = axis + 1; i < dims.length; i++) {
            s *= dims[i];
        }
        return s;
    }

    private static boolean elided(long n, boolean summarise) {
        return summarise && n > 2 * EDGE_ITEMS;
    }

    private static void collect(double[] v, long[] dims, int axis, long base, boolean summarise, List<Double> out) {
        long n = dims[axis];
        long st = stride(dims, axis);
        for (long i = 0; i < n; i++) {
            if (elided(n, summarise) && i == EDGE_ITEMS) {
                i = n - EDGE_ITEMS;
            }
            if (axis == dims.length - 1) {
                out.add(v[(int) (base + i)]);
            } else {
                collect(v, dims, axis + 1, base + i * st, summarise, out);
            }
        }
    }

    private static void render(StringBuilder sb, double[] v, long[] dims, int axis, long base, boolean summarise,
            ElementFormat f, int indent) {
        long n = dims[axis];
        long st = stride(dims, axis);
        sb.append('[');
        if (axis == dims.length - 1) {
            int lineStart = sb.lastIndexOf("\n") + 1;
            for (long i = 0; i < n; i++) {
                String word;
                if (elided(n, summarise) && i == EDGE_ITEMS) {
                    word = "...";
                    i = n - EDGE_ITEMS - 1;
                } else {
                    word = f.format(v[(int) (base + i)]);
                }
                boolean first = i == 0;
                if (!first && sb.length() - lineStart + 1 + word.length() > LINE_WIDTH - 1) {
                    sb.append('\n').append(" ".repeat(indent + 1));
                    lineStart = sb.length() - indent - 1;
                } else if (!first) {
                    sb.append(' ');
                }
                sb.append(word);
            }
        } else {
            String between = "\n".repeat(dims.length - axis - 1) + " ".repeat(indent + 1);
            for (long i = 0; i < n; i++) {
                if (i > 0) {
                    sb.append(between);
                }
                if (elided(n, summarise) && i == EDGE_ITEMS) {
                    sb.append("...").append(between);
                    i = n - EDGE_ITEMS;
                }
                render(sb, v, dims, axis + 1, base + i * st, summarise, f, indent + 1);
            }
        }
        sb.append(']');
    }

    /** A 0-d value as Python's {@code repr} of a NumPy scalar: {@code 10.0}, {@code 1e-05}, {@code True}. */
    static String scalar(double x, DType dtype) {
        return switch (dtype) {
            case BOOL -> x != 0 ? "True" : "False";
            case INT32 -> Long.toString((long) x);
            default -> {
                if (!Double.isFinite(x)) {
                    yield nonFinite(x);
                }
                BigDecimal d = shortest(x, dtype);
                if (d.signum() == 0) {
                    yield (1 / x < 0) ? "-0.0" : "0.0";
                }
                int exponent = d.precision() - d.scale() - 1;
                if (exponent < -4 || exponent >= 16) {
                    yield scientific(d, -1);
                }
                String s = d.toPlainString();
                yield s.contains(".") ? s : s + ".0";
            }
        };
    }

    private static String nonFinite(double x) {
        return Double.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
    }

    /** Shortest decimal that reads back as the same value in its own precision. */
    private static BigDecimal shortest(double x, DType dtype) {
        String s = dtype == DType.FLOAT32 ? Float.toString((float) x) : Double.toString(x);
        return new BigDecimal(s).stripTrailingZeros();
    }

    /** {@code d} as {@code 1.5e+16}; {@code fracDigits} pads the mantissa with zeros, -1 keeps it shortest. */
    private static String scientific(BigDecimal d, int fracDigits) {
        int exponent = d.precision() - d.scale() - 1;
        BigDecimal mantissa = d.movePointLeft(exponent).stripTrailingZeros();
        if (fracDigits >= 0) {
            mantissa = mantissa.setScale(Math.max(fracDigits, 0), RoundingMode.HALF_EVEN);
        }
        String m = mantissa.toPlainString();
        if (fracDigits < 0 && m.indexOf('.') < 0) {
            m = m + "";
        } else if (fracDigits >= 0 && m.indexOf('.') < 0) {
            m = m + ".";
        }
        String e = String.format("%02d", Math.abs(exponent));
        return m + "e" + (exponent < 0 ? "-" : "+") + e;
    }

    /** One format for all elements of an array, as NumPy's FloatingFormat/IntegerFormat choose it. */
    private static final class ElementFormat {
        private final DType dtype;
        private boolean exp;
        private int padLeft;
        private int padRight;
        private int expDigits;
        private int width;

        ElementFormat(DType dtype, List<Double> values) {
            this.dtype = dtype;
            if (!dtype.isFloating()) {
                for (double v : values) {
                    width = Math.max(width, scalar(v, dtype).length());
                }
                return;
            }
            double maxAbs = 0;
            double minAbs = Double.POSITIVE_INFINITY;
            boolean anyFinite = false;
            for (double v : values) {
                if (Double.isFinite(v)) {
                    anyFinite = true;
                    double a = Math.abs(v);
                    if (a != 0) {
                        maxAbs = Math.max(maxAbs, a);
                        minAbs = Math.min(minAbs, a);
                    }
                }
            }
            if (maxAbs > 0) {
                exp = maxAbs >= 1e8 || minAbs < 1e-4 || maxAbs / minAbs > 1e3;
            }
            if (anyFinite) {
                for (double v : values) {
                    if (!Double.isFinite(v)) {
                        continue;
                    }
                    BigDecimal d = limited(v);
                    if (exp) {
                        String s = scientific(d, -1);
                        String mant = s.substring(0, s.indexOf('e'));
                        int dot = mant.indexOf('.');
                        padLeft = Math.max(padLeft, dot < 0 ? mant.length() : dot);
                        padRight = Math.max(padRight, dot < 0 ? 0 : mant.length() - dot - 1);
                        expDigits = Math.max(expDigits, s.length() - s.indexOf('e') - 2);
                    } else {
                        String s = positional(d, v);
                        int dot = s.indexOf('.');
                        padLeft = Math.max(padLeft, dot);
                        padRight = Math.max(padRight, s.length() - dot - 1);
                    }
                }
            }
            int right = exp ? padRight + 2 + expDigits : padRight;
            // NumPy widens the integer part so that nan and inf fit in the common width
            for (double v : values) {
                if (!Double.isFinite(v)) {
                    padLeft = Math.max(padLeft, nonFinite(v).length() - (right + 1));
                }
            }
            width = padLeft + 1 + right;
        }

        private BigDecimal limited(double v) {
            BigDecimal d = shortest(v, dtype);
            if (!exp && d.scale() > PRECISION) {
                d = d.setScale(PRECISION, RoundingMode.HALF_EVEN).stripTrailingZeros();
            }
            if (exp && d.precision() > PRECISION + 1) {
                d = d.round(new java.math.MathContext(PRECISION + 1, RoundingMode.HALF_EVEN)).stripTrailingZeros();
            }
            return d;
        }

        private static String positional(BigDecimal d, double v) {
            String s = d.signum() == 0 ? "0" : d.toPlainString();
            if (d.signum() == 0 && 1 / v < 0) {
                s = "-0";
            }
            return s.contains(".") ? s : s + ".";
        }

        String format(double v) {
            if (!dtype.isFloating()) {
                return pad(scalar(v, dtype), width, true);
            }
            if (!Double.isFinite(v)) {
                return pad(nonFinite(v), width, true);
            }
            BigDecimal d = limited(v);
            if (exp) {
                String s = scientific(d, padRight);
                int e = s.indexOf('e');
                String digits = s.substring(e + 2);
                while (digits.length() < expDigits) {
                    digits = "0" + digits;
                }
                String mant = s.substring(0, e);
                int dot = mant.indexOf('.');
                return " ".repeat(Math.max(0, padLeft - dot)) + mant + "e" + s.charAt(e + 1) + digits;
            }
            String s = positional(d, v);
            int dot = s.indexOf('.');
            String left = " ".repeat(Math.max(0, padLeft - dot)) + s;
            return pad(left, width, false);
        }

        private static String pad(String s, int width, boolean left) {
            if (s.length() >= width) {
                return s;
            }
            String fill = " ".repeat(width - s.length());
            return left ? fill + s : s + fill;
        }
    }
}
