package dev.flora.train;

/** The loss became NaN or infinite; the run stopped and its last checkpoint is untouched. */
public final class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
