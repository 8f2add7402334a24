package dev.flora.engine.nn;

/** Decides, per module path, whether a linear layer is dense or low-rank (and at which max rank). */
@FunctionalInterface
public interface LinearFactory {
    LinearLayer create(String path, int in, int out);
}
