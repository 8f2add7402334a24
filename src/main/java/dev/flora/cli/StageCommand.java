package dev.flora.cli;

import dev.flora.engine.backend.Backend;
import dev.flora.stage.Stage;
import java.nio.file.Path;
import java.util.function.Function;
import java.util.function.Supplier;
import picocli.CommandLine.Option;

/**
 * A command that runs one stage into {@code --out}: resolve its config (or, with {@code --resume},
 * read the run's saved one), print it or open the backend, run the stage within this run's
 * budget, report. Subclasses say which stage and what its flags are.
 *
 * @param <C> the stage's config record
 * @param <R> what the stage produces
 */
abstract class StageCommand<C, R> extends ConfiguredCommand {
    @Option(names = "--resume", description = "Continue the run in --out where it stopped, with its saved config.")
    boolean resume;

    private final Class<C> type;
    private final Supplier<C> defaults;
    private final Function<Path, C> saved;
    private final String budgetFlag;

    /**
     * @param defaults   the stage's defaults, which the help of its flags shows
     * @param saved      the config the run in a directory was started with
     * @param budgetFlag the {@code --...-this-run} flag that limits this invocation's work
     */
    StageCommand(Class<C> type, Supplier<C> defaults, Function<Path, C> saved, String budgetFlag) {
        this.type = type;
        this.defaults = defaults;
        this.saved = saved;
        this.budgetFlag = budgetFlag;
    }

    /** The run directory. */
    abstract Path out();

    /** The value of the budget flag, null for no limit. */
    abstract Integer budget();

    abstract Stage<R> stage(C config, Path dir, Backend backend);

    /** The backend the stage runs on: the one {@code --device} names, in fp32 unless a command says otherwise. */
    Backend openBackend(C config) {
        return device.create(System.out);
    }

    /** Prints what the run produced. */
    abstract void report(R result);

    @Override
    ConfigFlags flags() {
        return ConfigFlags.everyKey(type, defaults.get());
    }

    @Override
    public Integer call() {
        C config = settings.resolveOrResume(resume, () -> saved.apply(out()), type, defaults.get());
        if (settings.printed(config)) {
            return 0;
        }
        int limit = ConfigOptions.thisRun(budget(), budgetFlag);
        Backend backend = openBackend(config);
        report(stage(config, out(), backend).run(resume, limit));
        return 0;
    }
}
