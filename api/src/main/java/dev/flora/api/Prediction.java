package dev.flora.api;

/** One of a model's top classes for an image: its index, its name and its softmax probability. */
public record Prediction(int index, String label, double prob) {
}
