package dev.flora.cli;

import dev.flora.config.FitnessSignal;
import dev.flora.config.SearchConfig;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.data.Split;
import dev.flora.engine.backend.Backend;
import dev.flora.search.FitnessAgreement;
import dev.flora.search.SearchRunner;
import dev.flora.supernet.Supernet;
import dev.flora.train.Evaluator;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flora fitness-check}: which search fitness signal ranks subnets by their test top-1 best. */
@Command(name = "fitness-check", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Score random subnets of a supernet by every search fitness signal (validation top-1, loss, KL "
                + "from the largest subnet) and by test top-1, and print each signal's Kendall tau with test top-1: "
                + "the signal a search should select by. Rows go to --out after every subnet; a rerun continues.")
public final class FitnessCheckCommand implements Callable<Integer> {
    private static final int BOOTSTRAP_RESAMPLES = 1000;

    @Option(names = "--supernet", required = true, paramLabel = "FILE", description = "A supernet.safetensors from "
            + "flora supernet.")
    Path supernet;

    @Option(names = "--data", defaultValue = Datasets.DEBIAN_FMNIST, paramLabel = "DIR|NAME", description = "Data: "
            + Datasets.SPEC_HELP + "; its validation split scores the signals, its test split the subnets "
            + "(default: ${DEFAULT-VALUE}).")
    String data;

    @Option(names = "--subnets", defaultValue = "50", paramLabel = "N", description = "Random subnets, drawn "
            + "uniformly block by block from the supernet's space (default: ${DEFAULT-VALUE}).")
    int subnets;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seed of the random subnets "
            + "(default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--val-limit", defaultValue = "0", paramLabel = "N", description = "Score the signals on the "
            + "first N validation images, 0 for all, as the search's val_limit (default: ${DEFAULT-VALUE}).")
    int valLimit;

    @Option(names = "--out", defaultValue = "runs/fitness-check.csv", paramLabel = "FILE", description = "CSV of "
            + "every subnet's figures (default: ${DEFAULT-VALUE}).")
    Path out;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() {
        if (subnets < 2) {
            throw new IllegalArgumentException("--subnets must be at least 2 (a rank correlation needs pairs), got "
                    + subnets);
        }
        Backend backend = device.create(System.out);
        Supernet net = Supernet.load(supernet, backend);
        ImageSource val = SearchRunner.fitnessImages(data, valLimit);
        ImageSource test = Datasets.load(data, Split.TEST);
        Evaluator.checkCompatible(net.space().config(), net.input(), val);
        Datasets.checkReadable(val, test);
        int batch = SearchConfig.defaults().evalBatchSize();
        System.out.printf(Locale.ROOT, "%d random subnets of %s: signals on %d validation images, top-1 on %d test "
                + "images%n", subnets, supernet, val.count(), test.count());
        FitnessAgreement.Result r = FitnessAgreement.run(net, val, test, batch, subnets, seed, out, System.out);
        for (FitnessSignal s : FitnessSignal.values()) {
            System.out.printf(Locale.ROOT, "Kendall tau of fitness %s with test top-1: %+.3f%n", s.label(),
                    r.tau().get(s));
        }
        for (FitnessSignal s : FitnessSignal.values()) {
            if (s != FitnessSignal.TOP1) {
                double[] ci = r.tauDifferenceInterval(s, FitnessSignal.TOP1, BOOTSTRAP_RESAMPLES, seed);
                System.out.printf(Locale.ROOT, "tau(%s) - tau(top1): %+.3f (95 %% bootstrap interval %+.3f to %+.3f over "
                        + "%d resamples of the subnets)%n", s.label(), r.tau().get(s) - r.tau().get(FitnessSignal.TOP1),
                        ci[0], ci[1], BOOTSTRAP_RESAMPLES);
            }
        }
        FitnessSignal current = SearchConfig.defaults().fitness();
        System.out.printf(Locale.ROOT, "ranks best: %s (the search's default fitness is %s)%n", r.best().label(),
                current.label());
        System.out.println("rows -> " + out);
        return 0;
    }
}
