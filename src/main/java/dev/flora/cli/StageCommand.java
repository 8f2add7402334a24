package dev.flora.cli;

import dev.flora.engine.backend.Backend;
import dev.flora.stage.Stage;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * A command that runs one stage into {@code --out}: resolve its config (or, with {@code --resume},
 * read the run's saved one), print it or open the backend, run the stage within this run's
 * budget, report. Subclasses say which stage and what its flags are.
 *
 * @param <C> the stage's config record
 * @param <R> what the stage produces
 */
abstract class StageCommand<C, R> implements Callable<Integer>, ConfiguredCommand {
    @Option(names = "--resume", description = "Continue the run in --out where it stopped, with its saved config.")
    boolean resume;

    @Mixin
    ConfigOptions settings;

    @Mixin
    DeviceOption device;

    private final Class<C> type;

    StageCommand(Class<C> type) {
        this.type = type;
    }

    /** The run directory. */
    abstract Path out();

    /** The stage's defaults, which the help of its flags shows. */
    abstract C defaults();

    /** The config the run in {@code dir} was started with. */
    abstract C saved(Path dir);

    /** The units of work this invocation may do (the {@code --...-this-run} flag), null for no limit. */
    abstract Integer budget();

    /** The name of that flag, for its error. */
    abstract String budgetFlag();

    abstract Stage<R> stage(C config, Path dir, Backend backend);

    /** Prints what the run produced. */
    abstract void report(R result);

    @Override
    public ConfigOptions settings() {
        return settings;
    }

    @Override
    public ConfigFlags flags() {
        return ConfigFlags.everyKey(type, defaults());
    }

    @Override
    public Integer call() {
        C config = settings.resolveOrResume(resume, () -> saved(out()), type, defaults());
        if (settings.printed(config)) {
            return 0;
        }
        int limit = ConfigOptions.thisRun(budget(), budgetFlag());
        Backend backend = device.create(System.out);
        report(stage(config, out(), backend).run(resume, limit));
        return 0;
    }
}
