#!/usr/bin/env bash
# Prepares .gpu/ (git-ignored) so scripts/gpu-check.sh can run the whole conformance suite, Device.diagnose() and
# the GPU benchmarks on a machine that has an NVIDIA driver but no Java and no Maven:
#   .gpu/jdk.tar.gz      a jlinked JDK 25 runtime, gzip-compressed (the modules image is already zip-compressed by
#                        jlink, so xz saved little, and pip-based PyTorch images often have no xz; gzip, or
#                        python3's tarfile where tar cannot, unpacks it); gpu-check.sh unpacks it on first use
#   .gpu/lib/*.jar       the Nabla jars, the core test-jar, the cuda-backend tests, the benchmarks' classes, JCuda (with a natives jar slimmed
#                        to the driver binding: the NVPTX compiler library alone would be 24 MB)
#   .gpu/junit-platform-console-standalone.jar
#   .gpu/classpath       the class path, relative to .gpu/
# Run it from anywhere; it builds with ./nabla (JDK 25) and needs Maven Central only for the console jar once.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
gpu="$root/.gpu"

echo "prepare-gpu-check: building the jars (./nabla mvn install -DskipTests)"
./nabla mvn -q -B -o install -DskipTests >/dev/null 2>&1 || ./nabla mvn -q -B install -DskipTests
# the cuda-backend's own tests as a jar (the module publishes no test-jar)
for c in "${JAVA_HOME:-}" /usr/lib/jvm/*25*; do
  if [ -n "$c" ] && [ -x "$c/bin/jlink" ] && "$c/bin/java" -version 2>&1 | grep -q 'version "25'; then JDK="$c"; break; fi
done
[ -n "${JDK:-}" ] || { echo "prepare-gpu-check: no JDK 25 with jlink found" >&2; exit 1; }

rm -rf "$gpu"
mkdir -p "$gpu/lib"

# JUnit Platform 1.x goes with Jupiter 5.x of the same minor: 5.14.1 -> 1.14.1
junit="$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)"
platform="1.${junit#5.}"
console="org.junit.platform:junit-platform-console-standalone:$platform"
./nabla mvn -q -B -o dependency:copy -Dartifact="$console" -DoutputDirectory="$gpu" -Dmdep.stripVersion=true >/dev/null 2>&1 \
  || ./nabla mvn -q -B dependency:copy -Dartifact="$console" -DoutputDirectory="$gpu" -Dmdep.stripVersion=true

# runtime + test class path of cuda-backend (core, cpu, kernels, jcuda, natives, junit), minus what the console jar has
cpfile="$(mktemp)"
./nabla mvn -q -B -o -pl cuda-backend dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cpfile" >/dev/null
tr ':' '\n' <"$cpfile" | while read -r jar; do
  case "$(basename "$jar")" in
    junit-*|opentest4j-*|apiguardian-*) ;;                       # inside the console standalone jar
    jcuda-natives-*)                                              # keep only the driver binding
      tmp="$(mktemp -d)"; (cd "$tmp" && "$JDK/bin/jar" xf "$jar" lib/ && rm -f lib/*NvPTX* lib/*Nvrtc* lib/*Runtime*)
      "$JDK/bin/jar" cf "$gpu/lib/$(basename "$jar")" -C "$tmp" lib; rm -rf "$tmp" ;;
    *) cp "$jar" "$gpu/lib/" ;;
  esac
done
rm -f "$cpfile"
cp cuda-backend/target/nabla-cuda-*.jar "$gpu/lib/"
# the training steps of the graphs issue (dev.nabla.bench.suite.DeviceSteps): the benchmarks module's own classes,
# not its 17 MB JMH uber-jar
cp benchmarks/target/nabla-benchmarks-*.jar "$gpu/lib/"
"$JDK/bin/jar" cf "$gpu/lib/nabla-cuda-tests.jar" -C cuda-backend/target/test-classes .

(cd "$gpu" && ls lib/*.jar | tr '\n' ':' | sed 's/:$//') >"$gpu/classpath"

# java.logging: JCuda and JUnit log through it; java.management: JUnit's launcher; java.xml: the XML reports;
# jdk.jfr: the op and memory events; jdk.unsupported: sun.misc.Unsafe users; jdk.incubator.vector: the CPU backend; jdk.zipfs: JUnit scans test jars
work="$(mktemp -d)"
"$JDK/bin/jlink" --add-modules java.base,java.logging,java.management,java.xml,jdk.jfr,jdk.unsupported,jdk.incubator.vector,jdk.zipfs \
  --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$work/jdk" 2>&1 | grep -v 'incubator modules' || true
"$work/jdk/bin/java" -version 2>&1 | head -1 >"$gpu/jdk.version"
tar -C "$work" -cf - jdk | gzip -9 >"$gpu/jdk.tar.gz"
rm -rf "$work"

echo "prepare-gpu-check: $(du -sh "$gpu" | cut -f1) in $gpu (jdk.tar.gz $(du -sh "$gpu/jdk.tar.gz" | cut -f1), $(ls "$gpu/lib" | wc -l) jars)"
