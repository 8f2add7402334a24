package dev.flora.engine.optim;

/**
 * Learning rate per step: linear warm-up from {@code warmupLr} to {@code baseLr} over
 * {@code warmupSteps}, then half a cosine down to {@code minLr} at {@code totalSteps}.
 */
public record CosineSchedule(double baseLr, double minLr, double warmupLr, long warmupSteps, long totalSteps) {

    public CosineSchedule {
        if (totalSteps <= 0 || warmupSteps < 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("schedule needs 0 <= warmup steps (" + warmupSteps
                    + ") <= total steps (" + totalSteps + "), total > 0");
        }
    }

    /** Learning rate for 0-based step {@code step}. */
    public double lr(long step) {
        if (step < warmupSteps) {
            return warmupLr + (baseLr - warmupLr) * (step + 1) / (double) warmupSteps;
        }
        long decaySteps = totalSteps - warmupSteps;
        double progress = decaySteps == 0 ? 1 : Math.min(1.0, (step - warmupSteps) / (double) decaySteps);
        return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos(Math.PI * progress));
    }
}
