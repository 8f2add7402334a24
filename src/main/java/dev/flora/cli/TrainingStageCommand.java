package dev.flora.cli;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Precision;
import java.nio.file.Path;
import java.util.function.Function;
import java.util.function.Supplier;
import picocli.CommandLine.Option;

/**
 * A stage command that trains by epochs ({@code pretrain}, {@code supernet}): its invocation's
 * budget is {@code --epochs-this-run}, and it trains on a backend in its config's precision, so
 * that a resumed run keeps the precision it started with.
 */
abstract class TrainingStageCommand<C, R> extends StageCommand<C, R> {
    @Option(names = "--epochs-this-run", paramLabel = "N", description = "Stop after N epochs in this invocation "
            + "(with a checkpoint); continue later with --resume.")
    Integer epochsThisRun;

    private final Function<C, Precision> precision;

    TrainingStageCommand(Class<C> type, Supplier<C> defaults, Function<Path, C> saved,
                         Function<C, Precision> precision) {
        super(type, defaults, saved, "--epochs-this-run");
        this.precision = precision;
    }

    @Override
    final Backend openBackend(C config) {
        return device.createForTraining(System.out, precision.apply(config));
    }

    @Override
    final Integer budget() {
        return epochsThisRun;
    }
}
