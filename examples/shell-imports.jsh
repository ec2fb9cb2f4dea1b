// Imports of `./nabla shell` (after JShell's default ones)
import dev.nabla.*;
import dev.nabla.nn.*;
import dev.nabla.optim.*;
