package dev.flora.latency;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One timing: the median of {@code samples} repetitions in milliseconds and their spread, the
 * interquartile range over the median (0.05 = the middle half of the samples lies within 5 %).
 */
public record Measurement(@JsonProperty("ms") double ms, @JsonProperty("spread") double spread,
                          @JsonProperty("samples") int samples) {
}
