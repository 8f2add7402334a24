package dev.flora.data;

import dev.flora.image.Picture;
import java.util.List;

/**
 * Labelled images, in a fixed order: decoded files of any size ({@link FolderDataset}) or
 * same-size images held in memory ({@link ImageDataset}). Implementations are safe to read
 * from several threads at once (batches are decoded on worker threads).
 */
public interface ImageSource {
    String name();

    int count();

    /** One label per image, in [0, classes). */
    int[] labels();

    int classes();

    /** Names of the classes by index; empty when the format has none (IDX). */
    List<String> classNames();

    /** Image {@code i}, decoded (L or RGB). */
    Picture picture(int i);

    /** The images at {@code indices}, in that order. */
    ImageSource subset(String subsetName, int[] indices);
}
