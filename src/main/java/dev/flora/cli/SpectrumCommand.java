package dev.flora.cli;

import dev.flora.allocation.SingularSpectra;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.models.ModelSource;
import dev.flora.report.SpectraPlot;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flora spectrum}: the normalized singular-value spectra of dense models' block linears, plotted and as CSV. */
@Command(name = "spectrum", mixinStandardHelpOptions = true,
        description = {"Plot sigma_i/sigma_1 against i/min(in, out) of every block linear of each model, the mean "
                + "over blocks per module type (attn.qkv, attn.proj, mlp.fc1, mlp.fc2), log y; e.g. a LoRITa "
                + "backbone (flora pretrain --lorita N) against the standard one.",
            "The CSV has one row per model, module and singular value: model,module,type,i,fraction,ratio."})
public final class SpectrumCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "PATH|NAME",
            description = "A dense model (safetensors file or bundled name); repeat to compare.")
    List<String> models;

    @Option(names = "--out", required = true, paramLabel = "PNG", description = "The plot to write.")
    Path out;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write the values here.")
    Path csv;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() {
        Backend backend = device.create(System.err);
        SpectraPlot plot = new SpectraPlot("Normalized singular values of the block linears");
        StringBuilder rows = new StringBuilder("model,module,type,i,fraction,ratio\n");
        for (String m : models) {
            Map<String, double[]> byPath = SingularSpectra.normalized(
                    ModelSource.open(m, backend, OptionalInt.empty(), System.err::println).model());
            byPath.forEach((path, r) -> {
                for (int i = 0; i < r.length; i++) {
                    rows.append(String.format(Locale.ROOT, "%s,%s,%s,%d,%.6f,%.8g%n", m, path,
                            SingularSpectra.moduleType(path), i + 1, (i + 1) / (double) r.length, r[i]));
                }
            });
            SingularSpectra.meanByType(byPath).forEach((type, r) -> {
                double[] x = new double[r.length];
                double[] y = new double[r.length];
                for (int i = 0; i < r.length; i++) {
                    x[i] = (i + 1) / (double) r.length;
                    y[i] = Math.max(r[i], 1e-12); // a log axis cannot show an exact zero
                }
                plot.line(label(m) + " " + type, x, y);
            });
        }
        plot.write(out);
        if (csv != null) {
            AtomicFiles.writeString(csv, rows.toString());
        }
        System.out.println("wrote " + out + (csv == null ? "" : " and " + csv));
        return 0;
    }

    /** runs/lorita2/model.safetensors → "lorita2/model.safetensors": run directories tell the models apart. */
    private static String label(String model) {
        Path p = Path.of(model);
        return p.getParent() == null || p.getParent().getFileName() == null ? model
                : p.getParent().getFileName() + "/" + p.getFileName();
    }
}
