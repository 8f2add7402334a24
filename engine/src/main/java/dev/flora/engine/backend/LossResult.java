package dev.flora.engine.backend;

/**
 * What a loss op reports for one batch.
 *
 * @param lossSum sum of the per-row losses (divide by rows for the mean)
 * @param correct rows whose arg-max logit equals the label (0 for soft-target losses)
 * @param rows    rows in the batch
 */
public record LossResult(double lossSum, int correct, int rows) {
    public double meanLoss() {
        return rows == 0 ? 0 : lossSum / rows;
    }
}
