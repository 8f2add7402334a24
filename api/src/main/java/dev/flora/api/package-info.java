/**
 * The Java API for services that embed a model: {@link dev.flora.api.VitPredictor} loads a dense or
 * compressed ViT and classifies images (files, decoded images, pixels or tensors) on a backend of
 * its own, returning {@link dev.flora.api.Prediction}s. Uses models, image and the engine only, so a
 * service needs none of the search machinery.
 */
package dev.flora.api;
