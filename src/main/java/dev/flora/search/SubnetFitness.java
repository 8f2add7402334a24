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

    /**
     * Every signal of one subnet, from one pass over the images.
     *
     * @param top1 percent
     * @param loss mean cross-entropy
     * @param kl   mean KL divergence from the teacher (NaN where it was not computed)
     */
    public record Signals(double top1, double loss, double kl) {
        /** The fitness under {@code s}: higher is better. */
        public double fitness(FitnessSignal s) {
            return switch (s) {
                case TOP1 -> top1;
                case LOSS -> -loss;
                case KL -> -kl;
            };
        }
    }

    @Override
    public EvolutionarySearch.Score score(Candidate c) {
        Signals s = measure(c, signal == FitnessSignal.KL);
        return new EvolutionarySearch.Score(s.fitness(signal), s.top1());
    }

    /** All three signals of {@code c}, the KL divergence included whatever this fitness's own signal. */
    public Signals signals(Candidate c) {
        return measure(c, true);
    }

    private Signals measure(Candidate c, boolean withKl) {
        // built lazily, so that a search refused at its start (bounds, resume) never runs the teacher
        if (withKl && teacher == null) {
            teacher = TeacherLogits.of(supernet, val, batchSize);
            batchLogits = new float[batchSize * teacher.classes()];
        }
        supernet.apply(c);
        double[] klSum = {0};
        Evaluator.Result r = Evaluator.evaluate(supernet.model(), supernet.input(), val, batchSize,
                (logits, labels, n, first) -> {
                    if (withKl) {
                        supernet.model().backend().download(logits, batchLogits, 0);
                        klSum[0] += teacher.klSum(batchLogits, first, n);
                    }
                });
        return new Signals(100 * r.top1(), r.loss(), withKl ? klSum[0] / r.count() : Double.NaN);
    }
}
