/**
 * Latency and throughput of whole models as a user of the API sees them ({@code flora bench}), on the
 * {@link dev.flora.api.VitPredictor} path. Uses api and the engine.
 */
package dev.flora.perf;
