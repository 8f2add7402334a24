/**
 * Image files to model input: decoding (the JDK's ImageIO with TwelveMonkeys' JPEG plugin),
 * PIL-compatible resampling, and timm's eval and train transforms ({@link dev.flora.image.Preprocessing}),
 * the one implementation every command and the embedding API use.
 */
package dev.flora.image;
