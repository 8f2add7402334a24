package dev.flora.search;

import dev.flora.config.FitnessSignal;
import dev.flora.data.ImageSource;
import dev.flora.space.Candidate;
import dev.flora.supernet.Supernet;
import dev.flora.train.Evaluator;

/**
 * The fitness of a subnet with the supernet's inherited weights on the validation images, by one
 * {@link FitnessSignal}, with its top-1 beside it: one pass of {@link Evaluator} per candidate.
 */
public final class SubnetFitness implements EvolutionarySearch.Fitness {
    private final Supernet supernet;
    private final ImageSource val;
    private final int batchSize;
    private final FitnessSignal signal;
    /** Under {@code kl}, the teacher's logits: computed at the first score, then kept for the whole search. */
    private TeacherLogits teacher;
    /** One batch of the subnet's logits, downloaded for the KL sum. */
    private float[] batchLogits;

    public SubnetFitness(Supernet supernet, ImageSource val, int batchSize, FitnessSignal signal) {
        this.supernet = supernet;
        this.val = val;
        this.batchSize = batchSize;
        this.signal = signal;
    }

    public FitnessSignal signal() {
        return signal;
    }

    @Override
    public EvolutionarySearch.Score score(Candidate c) {
        // built lazily, so that a search refused at its start (bounds, resume) never runs the teacher
        if (signal == FitnessSignal.KL && teacher == null) {
            teacher = TeacherLogits.of(supernet, val, batchSize);
            batchLogits = new float[batchSize * teacher.classes()];
        }
        supernet.apply(c);
        double[] klSum = {0};
        Evaluator.Result r = Evaluator.evaluate(supernet.model(), supernet.input(), val, batchSize,
                (logits, labels, n, first) -> {
                    if (signal == FitnessSignal.KL) {
                        supernet.model().backend().download(logits, batchLogits, 0);
                        klSum[0] += teacher.klSum(batchLogits, first, n);
                    }
                });
        double top1 = 100 * r.top1();
        double fitness = switch (signal) {
            case TOP1 -> top1;
            case LOSS -> -r.loss();
            case KL -> -klSum[0] / r.count();
        };
        return new EvolutionarySearch.Score(fitness, top1);
    }
}
