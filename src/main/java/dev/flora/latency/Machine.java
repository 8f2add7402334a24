package dev.flora.latency;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.cuda.Devices;
import dev.flora.engine.cpu.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a latency table was measured: CPU model, cores, architecture, backend (a GPU backend's
 * name carries the GPU's) and the threads the CPU backend computes with. Times measured under
 * another key say nothing about this machine, so a table is only used where its key matches.
 */
public record Machine(@JsonProperty("cpu") String cpu, @JsonProperty("cores") int cores,
                      @JsonProperty("arch") String arch, @JsonProperty("backend") String backend,
                      @JsonProperty("threads") int threads) {

    /**
     * This machine, running inference on {@code backend}'s device: the backend is the one
     * inference runs on ({@link Devices#inferenceName}), so that a search on the CPU's training
     * backend takes a table timed on its inference backend.
     */
    public static Machine of(Backend backend) {
        return new Machine(cpuModel(), Runtime.getRuntime().availableProcessors(), System.getProperty("os.arch"),
                Devices.inferenceName(backend), Parallel.threads());
    }

    /** The "model name" of /proc/cpuinfo, or the OS's name where there is none. */
    private static String cpuModel() {
        try {
            Optional<String> line = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name")).findFirst();
            if (line.isPresent()) {
                return line.get().substring(line.get().indexOf(':') + 1).strip();
            }
        } catch (IOException | RuntimeException e) {
            // no /proc (macOS, Windows): the OS and architecture still tell machines apart
        }
        return System.getProperty("os.name") + " " + System.getProperty("os.arch");
    }

    /** The first field in which this machine differs from {@code other}, as "backend cpu, not cuda-emulated". */
    public Optional<String> difference(Machine other) {
        if (!cpu.equals(other.cpu)) {
            return Optional.of("CPU '" + cpu + "', not '" + other.cpu + "'");
        }
        if (cores != other.cores) {
            return Optional.of(cores + " cores, not " + other.cores);
        }
        if (!arch.equals(other.arch)) {
            return Optional.of("architecture " + arch + ", not " + other.arch);
        }
        if (!backend.equals(other.backend)) {
            return Optional.of("backend " + backend + ", not " + other.backend);
        }
        if (threads != other.threads) {
            return Optional.of(threads + " threads, not " + other.threads);
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return cpu + ", " + cores + " cores, " + arch + ", backend " + backend + ", " + threads + " threads";
    }
}
