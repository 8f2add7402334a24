/**
 * What a dense ViT's layers see on calibration images and the factorizations that use it: the
 * input covariance of each linear module in the model's own forward pass, its whitening, and
 * SVD-LLM's activation-aware factors (the rank-r truncation with the least output error on those
 * inputs). The rank allocations and the supernet's {@code init: activation-aware} both start here;
 * it rests on models, data and the engine only.
 */
package dev.flora.calibration;
