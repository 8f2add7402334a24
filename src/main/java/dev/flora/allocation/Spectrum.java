package dev.flora.allocation;

/**
 * What each rank-one component of a module's factors is worth, in descending order of the
 * factorization (σᵢ² of W for SVD energy, σᵢ² of W·L for activation-aware, the output energy
 * ‖X·vᵢσᵢ‖² for greedy): the rank at a threshold is the fewest leading components whose dropped
 * tail is at most that fraction of the total. Every method's rule is of this form: an energy τ is
 * a tail of 1 − τ, a relative output error ε a tail of ε².
 */
public record Spectrum(String path, double[] weights) {
    public Spectrum {
        if (weights.length == 0) {
            throw new IllegalArgumentException(path + ": an empty spectrum");
        }
        weights = weights.clone();
    }

    public int fullRank() {
        return weights.length;
    }

    /** The fraction of the total weight in the components a rank-r truncation drops (r ≥ 0). */
    public double tailFraction(int r) {
        double total = 0;
        double tail = 0;
        for (int i = 0; i < weights.length; i++) {
            total += weights[i];
            if (i >= r) {
                tail += weights[i];
            }
        }
        return total > 0 ? tail / total : 0;
    }

    /** The smallest rank in [1, full] whose tail fraction is at most {@code maxTail}. */
    public int rankFor(double maxTail) {
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        double tail = total;
        for (int r = 1; r <= weights.length; r++) {
            tail -= weights[r - 1];
            // clamp: the running difference can dip below zero by rounding
            if (total <= 0 || Math.max(0, tail) / total <= maxTail) {
                return r;
            }
        }
        return weights.length;
    }

    /** The smallest rank holding a fraction {@code tau} of the total (SVD energy). */
    public int rankForEnergy(double tau) {
        return rankFor(1 - tau);
    }

    /** The smallest rank whose relative output error sqrt(tail / total) is at most {@code epsilon}. */
    public int rankForError(double epsilon) {
        return rankFor(epsilon * epsilon);
    }

    /**
     * The number of weights at least {@code threshold}, at least 1: with the singular values
     * divided by the largest of all modules, the ranks of one global singular-value threshold
     * (LoRITa's GSVT).
     */
    public int rankAbove(double threshold) {
        int r = 0;
        while (r < weights.length && weights[r] >= threshold) {
            r++;
        }
        return Math.max(1, r);
    }
}
