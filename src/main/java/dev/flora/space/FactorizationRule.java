package dev.flora.space;

/**
 * Whether an exported subnet stores a target module at rank r as its two factors or as the
 * dense product: FLORA counts FLOPs ({@link #FEWER_FLOPS}); a latency table asks which of the
 * two ran faster on the serving machine.
 */
@FunctionalInterface
public interface FactorizationRule {
    /** FLORA's rule: the factors where r·(in + out) multiply-accumulates undercut the dense in·out. */
    FactorizationRule FEWER_FLOPS = (path, in, out, rank) -> (long) rank * (in + out) < (long) in * out;

    /** Whether module {@code path} (in → out features) at rank {@code rank} is exported factorized. */
    boolean factorize(String path, int in, int out, int rank);
}
