/**
 * Measured latency as a search constraint (beyond the paper): a {@link dev.flora.latency.LatencyTable}
 * of every target module's forward time at every rank of the space, measured on the serving
 * machine at the serving batch ({@link dev.flora.latency.LatencyTableBuilder}), and the
 * {@link dev.flora.latency.LatencyPredictor} that prices a subnet from it. Uses space, models and
 * the engine; search, pipeline and cli use it.
 */
package dev.flora.latency;
