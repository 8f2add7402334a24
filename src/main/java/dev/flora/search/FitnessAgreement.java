package dev.flora.search;

import dev.flora.config.FitnessSignal;
import dev.flora.data.ImageSource;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.FormatException;
import dev.flora.space.Candidate;
import dev.flora.space.CostModel;
import dev.flora.supernet.Supernet;
import dev.flora.train.Evaluator;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How well each {@link FitnessSignal} on the validation images ranks subnets the way their test
 * top-1 does: random subnets of a supernet, scored by every signal (one pass over the validation
 * images each) and by top-1 on the test images, and the Kendall τ-b between each signal and the
 * test top-1. The search selects by one signal; the one with the highest τ picks, among the
 * subnets it is shown, the ones that do best on images it never saw.
 *
 * <p>Rows go to a CSV after every subnet, so a stopped run loses at most the subnet in progress
 * and a rerun with the same settings continues after the rows already there.
 */
public final class FitnessAgreement {
    static final String HEADER = "arch,flops,val_top1,val_loss,val_kl,test_top1";

    /** One subnet's figures. */
    public record Row(String arch, long flops, SubnetFitness.Signals val, double testTop1) {
        String csv() {
            // full precision, so that rows read back by a rerun equal the ones it wrote
            return arch + "," + flops + "," + val.top1() + "," + val.loss() + "," + val.kl() + "," + testTop1;
        }

        static Row parse(String line, Path file) {
            String[] f = line.split(",");
            if (f.length != 6) {
                throw new FormatException(file + ": a row of " + f.length + " fields, expected 6 (" + HEADER + ")");
            }
            try {
                return new Row(f[0], Long.parseLong(f[1]), new SubnetFitness.Signals(Double.parseDouble(f[2]),
                        Double.parseDouble(f[3]), Double.parseDouble(f[4])), Double.parseDouble(f[5]));
            } catch (NumberFormatException e) {
                throw new FormatException(file + ": a row that is not numbers: " + FormatException.oneLine(line));
            }
        }
    }

    /** Each signal's τ with test top-1 over the rows. */
    public record Result(List<Row> rows, Map<FitnessSignal, Double> tau) {
        /** The signal with the highest τ (a signal constant over the subnets has none and is never best). */
        public FitnessSignal best() {
            return tau.entrySet().stream().filter(e -> !e.getValue().isNaN()).max(Map.Entry.comparingByValue())
                    .orElseThrow(() -> new IllegalStateException("no signal varies over the subnets")).getKey();
        }

        /**
         * The 95 % percentile-bootstrap interval of τ(a) − τ(b): the subnets resampled with
         * replacement {@code resamples} times, both signals' τ recomputed on each resample. Whether
         * one signal ranks better than another is a claim about these 50-odd subnets, and this is
         * how far it could move with others drawn the same way.
         */
        public double[] tauDifferenceInterval(FitnessSignal a, FitnessSignal b, int resamples, long seed) {
            java.util.Random rng = new java.util.Random(seed);
            int n = rows.size();
            double[] diff = new double[resamples];
            double[] x = new double[n];
            double[] y = new double[n];
            double[] test = new double[n];
            for (int k = 0; k < resamples; k++) {
                for (int i = 0; i < n; i++) {
                    Row r = rows.get(rng.nextInt(n));
                    x[i] = r.val().fitness(a);
                    y[i] = r.val().fitness(b);
                    test[i] = r.testTop1();
                }
                diff[k] = kendallTauB(x, test) - kendallTauB(y, test);
            }
            java.util.Arrays.sort(diff);
            return new double[] {diff[(int) Math.floor(0.025 * (resamples - 1))],
                    diff[(int) Math.ceil(0.975 * (resamples - 1))]};
        }
    }

    private FitnessAgreement() {
    }

    /**
     * Scores {@code count} random subnets (seed {@code seed}) of {@code supernet} and writes them
     * to {@code csv}, continuing after the rows a previous run with the same subnets left there.
     */
    public static Result run(Supernet supernet, ImageSource val, ImageSource test, int batchSize, int count, long seed,
                             Path csv, PrintStream out) {
        List<Candidate> subnets = supernet.space().randomCandidates(count, seed);
        List<Row> rows = resume(csv, subnets);
        if (!rows.isEmpty()) {
            out.printf(Locale.ROOT, "%s: %d of %d subnets already scored; continuing%n", csv, rows.size(), count);
        }
        SubnetFitness fitness = new SubnetFitness(supernet, val, batchSize, FitnessSignal.KL);
        CostModel cost = new CostModel(supernet.space());
        for (int i = rows.size(); i < count; i++) {
            Candidate c = subnets.get(i);
            long t0 = System.nanoTime();
            SubnetFitness.Signals s = fitness.signals(c);
            double test1 = 100 * Evaluator.evaluate(supernet.model(), supernet.input(), test, batchSize).top1();
            rows.add(new Row(c.encode(), cost.macs(c), s, test1));
            write(csv, rows);
            out.printf(Locale.ROOT, "subnet %d/%d %s: val top-1 %.2f %%, loss %.4f, KL %.5f; test top-1 %.2f %% (%.1f s)%n",
                    i + 1, count, c.encode(), s.top1(), s.loss(), s.kl(), test1, (System.nanoTime() - t0) / 1e9);
        }
        return result(rows);
    }

    static Result result(List<Row> rows) {
        double[] test = rows.stream().mapToDouble(Row::testTop1).toArray();
        Map<FitnessSignal, Double> tau = new EnumMap<>(FitnessSignal.class);
        for (FitnessSignal s : FitnessSignal.values()) {
            tau.put(s, kendallTauB(rows.stream().mapToDouble(r -> r.val().fitness(s)).toArray(), test));
        }
        return new Result(rows, tau);
    }

    /**
     * Kendall's τ-b: (concordant − discordant) pairs over the geometric mean of the pairs untied
     * in each variable, so ties (top-1 counts equal images) neither count for nor against.
     */
    static double kendallTauB(double[] x, double[] y) {
        if (x.length != y.length || x.length < 2) {
            throw new IllegalArgumentException("Kendall's tau needs two equally long series of at least 2, got "
                    + x.length + " and " + y.length);
        }
        long concordant = 0;
        long discordant = 0;
        long untiedX = 0;
        long untiedY = 0;
        for (int i = 0; i < x.length; i++) {
            for (int j = i + 1; j < x.length; j++) {
                int sx = Double.compare(x[i], x[j]);
                int sy = Double.compare(y[i], y[j]);
                untiedX += sx != 0 ? 1 : 0;
                untiedY += sy != 0 ? 1 : 0;
                long p = (long) Integer.signum(sx) * Integer.signum(sy);
                concordant += p > 0 ? 1 : 0;
                discordant += p < 0 ? 1 : 0;
            }
        }
        double denominator = Math.sqrt((double) untiedX * untiedY);
        return denominator == 0 ? Double.NaN : (concordant - discordant) / denominator;
    }

    /** The rows of {@code csv} when they are the first subnets of {@code subnets}; refused when they are others. */
    private static List<Row> resume(Path csv, List<Candidate> subnets) {
        List<Row> rows = new ArrayList<>();
        if (!Files.exists(csv)) {
            return rows;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(csv);
        } catch (IOException e) {
            throw new FormatException(csv + ": cannot read (" + e.getMessage() + ")");
        }
        if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
            throw new FormatException(csv + ": not a fitness-check CSV (expected the header " + HEADER + ")");
        }
        for (String line : lines.subList(1, lines.size())) {
            Row r = Row.parse(line, csv);
            if (rows.size() >= subnets.size() || !r.arch().equals(subnets.get(rows.size()).encode())) {
                throw new FormatException(csv + ": holds subnets of other settings (row " + (rows.size() + 1) + ": "
                        + r.arch() + "); give another --out or the same --subnets and --seed");
            }
            rows.add(r);
        }
        return rows;
    }

    private static void write(Path csv, List<Row> rows) {
        Path dir = csv.toAbsolutePath().getParent();
        if (dir != null) {
            AtomicFiles.createDirectories(dir);
        }
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        rows.forEach(r -> sb.append(r.csv()).append('\n'));
        AtomicFiles.writeString(csv, sb.toString());
    }
}
