/**
 * Models on disk: the safetensors format ({@link dev.flora.engine.io.SafeTensors}), its header
 * checked as strictly as the format's reference reader checks it before any tensor is read
 * ({@link dev.flora.engine.io.SafeTensorsHeader}), ViTs loaded and saved in it under timm's tensor
 * names with their hyper-parameters ({@link dev.flora.engine.io.ModelIO}), and files that
 * appear whole or not at all ({@link dev.flora.engine.io.AtomicFiles}).
 *
 * <p>Depends on {@code dev.flora.engine.nn} and {@code dev.flora.engine.backend}, and on
 * Jackson for the JSON headers; never on a backend implementation.
 */
package dev.flora.engine.io;
