package dev.nabla.cuda;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The part of the driver's PTX JIT the emulator can imitate: the module header ({@code .version}, {@code .target},
 * {@code .address_size}) is checked as {@code ptxas} checks it, and a module it would refuse fails
 * {@code cuModuleLoadDataEx} with an error log worded like ptxas's, so that the path from a JIT failure to the
 * user's {@link CudaException} (the log appended to the message) is exercised without a GPU.
 *
 * <p>NOTE: this is an imitation. The real JIT parses and compiles the whole PTX and its log says far more (register
 * limits, unknown instructions, the line of a syntax error deep in a kernel); that log is only ever seen on a GPU.
 */
final class EmulatedJit {
    /** The driver version the emulator claims (CUDA 13.0): it JITs PTX ISA 9.0 and older. */
    static final int DRIVER_VERSION = 13000;
    static final int CUDA_ERROR_INVALID_PTX = 218;
    static final int CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222;

    private static final int NEWEST_ISA = 90;
    private static final Pattern VERSION = Pattern.compile("\\.version\\s+(\\d+)\\.(\\d+)");
    private static final Pattern TARGET = Pattern.compile("\\.target\\s+(?:sm|compute)_(\\d+)[af]?\\b.*");
    private static final Pattern ADDRESS_SIZE = Pattern.compile("\\.address_size\\s+(\\d+)");

    /** A refusal: the driver's result code and the JIT's log. */
    record Failure(int code, String log) {
    }

    private EmulatedJit() {
    }

    /** Null when the header is one the driver accepts, else why not. */
    static Failure check(String ptx) {
        String[] lines = ptx.split("\n", -1);
        int expected = 0; // 0: .version, 1: .target, 2: .address_size (optional), then anything
        for (int i = 0; i < lines.length && expected < 2; i++) {
            String line = lines[i];
            int comment = line.indexOf("//");
            String text = (comment >= 0 ? line.substring(0, comment) : line).strip();
            if (text.isEmpty()) {
                continue;
            }
            int lineNo = i + 1;
            if (expected == 0) {
                Matcher m = VERSION.matcher(text);
                if (!m.matches()) {
                    return syntaxError(lineNo, text);
                }
                int isa = Integer.parseInt(m.group(1)) * 10 + Integer.parseInt(m.group(2));
                if (isa > NEWEST_ISA) {
                    return new Failure(CUDA_ERROR_UNSUPPORTED_PTX_VERSION, at(lineNo) + "fatal   : Unsupported .version "
                            + m.group(1) + "." + m.group(2) + "; current version is '" + PtxInfo.isaText(NEWEST_ISA)
                            + "'");
                }
                expected = 1;
            } else {
                if (!TARGET.matcher(text).matches()) {
                    return syntaxError(lineNo, text);
                }
                expected = 2;
                for (int j = i + 1; j < lines.length; j++) {
                    String next = lines[j].strip();
                    if (next.isEmpty() || next.startsWith("//")) {
                        continue;
                    }
                    Matcher a = ADDRESS_SIZE.matcher(next);
                    if (next.startsWith(".address_size") && (!a.matches() || !a.group(1).equals("64"))) {
                        return new Failure(CUDA_ERROR_INVALID_PTX, at(j + 1) + "error   : Unsupported address size "
                                + next.substring(".address_size".length()).strip() + " (this device is 64-bit)");
                    }
                    break;
                }
            }
        }
        if (expected < 2) {
            return new Failure(CUDA_ERROR_INVALID_PTX, at(lines.length) + "fatal   : Parsing error near "
                    + "end of file: syntax error (" + (expected == 0 ? ".version" : ".target") + " missing)");
        }
        return null;
    }

    private static Failure syntaxError(int line, String text) {
        String token = text.split("\\s+", 2)[0];
        return new Failure(CUDA_ERROR_INVALID_PTX, at(line) + "fatal   : Parsing error near '" + token
                + "': syntax error");
    }

    private static String at(int line) {
        return "ptxas application ptx input, line " + line + "; ";
    }
}
