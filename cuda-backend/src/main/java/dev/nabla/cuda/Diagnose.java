package dev.nabla.cuda;

import dev.nabla.Device;

/**
 * Prints {@code Device.diagnose()}: {@code java -cp ... dev.nabla.cuda.Diagnose}. Exits with status 0 whether or not a
 * GPU is usable; the report says which.
 */
public final class Diagnose {
    private Diagnose() {
    }

    /** Prints the report and the default device. */
    public static void main(String[] args) {
        System.out.println(Device.diagnose());
        try {
            System.out.println("default device: " + Device.defaultDevice());
        } catch (RuntimeException e) {
            System.out.println("default device: none (" + e.getMessage() + ")");
        }
    }
}
