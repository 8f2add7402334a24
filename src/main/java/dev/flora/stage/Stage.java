package dev.flora.stage;

import java.nio.file.Path;

/**
 * One step of work that owns a run directory: pre-training, supernet training, candidate
 * filtering or a search. A stage knows where it writes, whether its final output is there, and
 * whether a checkpoint or saved state lets it continue; {@link StageRunner} turns that into skip,
 * resume, timing and progress lines for every stage alike, and the commands run it directly.
 *
 * @param <R> what the stage produces
 */
public interface Stage<R> {
    /** The run directory this stage writes into. */
    Path dir();

    /** Whether the stage's final output exists, so that running it again would only repeat it. */
    boolean isDone();

    /** Whether a checkpoint or saved state lets {@link #run} continue instead of starting over. */
    boolean canResume();

    /**
     * Runs at most {@code budget} units of work in this call (epochs, generations or blocks:
     * the stage says which), continuing the saved state when {@code resume}; the result of a run
     * that stopped early says so.
     */
    R run(boolean resume, int budget);

    /** The result of a stage that {@link #isDone()}, read back from its run directory. */
    R finished();
}
