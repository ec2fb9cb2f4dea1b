/** The consumer as a named module: on the module path it reads only what dev.nabla exports. */
module consumer {
    requires dev.nabla;
}
