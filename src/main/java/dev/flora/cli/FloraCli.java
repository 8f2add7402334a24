package dev.flora.cli;

import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.OutputException;
import dev.flora.train.TrainingDivergedException;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * The {@code flora} command. Exit codes: 0 success, 1 internal error, 2 bad input (flag, file,
 * tensor or config, or an output path that cannot be written; one line on stderr naming it), 3 training
 * diverged.
 */
@Command(name = "flora", mixinStandardHelpOptions = true, version = "flora-j 0.1.0",
        description = "Fine-grained low-rank architecture search for Vision Transformers, on the JVM.",
        subcommands = {DemoCommand.class, PretrainCommand.class, FilterCommand.class, SupernetCommand.class,
            SearchCommand.class, FitnessCheckCommand.class, AblationCommand.class,
            ExportCommand.class, AllocateCommand.class, CompressCommand.class, EvalCommand.class, PredictCommand.class, BenchCommand.class,
            LatencyTableCommand.class, SpectrumCommand.class,
            CommandLine.HelpCommand.class})
public final class FloraCli implements Runnable {
    public static final int EXIT_BAD_INPUT = 2;
    public static final int EXIT_DIVERGED = 3;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns its exit code (tests call this). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new FloraCli());
        for (CommandLine sub : cli.getSubcommands().values()) {
            if (sub.getCommand() instanceof ConfiguredCommand c) {
                ConfigFlags flags = c.flags();
                flags.addTo(sub.getCommandSpec());
                c.settings.bind(flags);
            }
        }
        cli.setExecutionExceptionHandler(FloraCli::handle);
        cli.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("error: " + firstMistake(ex).getMessage());
            err.flush();
            return EXIT_BAD_INPUT;
        });
        return cli.execute(args);
    }

    /**
     * An unknown option before any other complaint: picocli checks required options first, so
     * {@code eval --bogus} would say {@code --data} is missing when the user mistyped a flag.
     */
    private static CommandLine.ParameterException firstMistake(CommandLine.ParameterException ex) {
        CommandLine cmd = ex.getCommandLine();
        if (!(ex instanceof CommandLine.UnmatchedArgumentException) && !cmd.getUnmatchedArguments().isEmpty()) {
            return new CommandLine.UnmatchedArgumentException(cmd, cmd.getUnmatchedArguments());
        }
        return ex;
    }

    private static int handle(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        int code;
        if (ex instanceof FormatException || ex instanceof IllegalArgumentException || ex instanceof OutputException) {
            err.println("error: " + ex.getMessage());
            code = EXIT_BAD_INPUT;
        } else if (ex instanceof TrainingDivergedException) {
            err.println("error: " + ex.getMessage());
            code = EXIT_DIVERGED;
        } else {
            ex.printStackTrace(err);
            code = 1;
        }
        err.flush();
        return code;
    }
}
