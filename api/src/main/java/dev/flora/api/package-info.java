/**
 * The Java API for services that embed a model: {@link dev.flora.api.VitPredictor} loads a dense or
 * compressed ViT and classifies images on a backend of its own. Uses models, data and the engine only,
 * so a service needs none of the search machinery.
 */
package dev.flora.api;
