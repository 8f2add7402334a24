package dev.flora.data;

import dev.flora.engine.io.FormatException;
import dev.flora.image.ImageFiles;
import dev.flora.image.Picture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/**
 * Image files with labels, decoded when a batch asks for them, so a folder of any size trains
 * in bounded memory. Decoded pictures are kept in a cache shared by every subset of the same
 * folder until it holds {@code cacheBytes} of pixels: a small set is decoded once, a large one
 * streams from disk each epoch.
 */
public final class FolderDataset implements ImageSource {
    private final String name;
    private final List<Path> files;
    private final int[] labels;
    private final List<String> classNames;
    private final DecodedCache cache;
    /** Position of each image in the folder's full file list: the cache's key. */
    private final int[] ids;

    /** Pictures by file id, up to a byte budget. */
    static final class DecodedCache {
        private final long budget;
        private final AtomicLong used = new AtomicLong();
        private final ConcurrentHashMap<Integer, Picture> pictures = new ConcurrentHashMap<>();

        DecodedCache(long budget) {
            this.budget = budget;
        }

        Picture get(int id, Path file) {
            Picture p = pictures.get(id);
            if (p != null) {
                return p;
            }
            p = ImageFiles.read(file);
            if (used.addAndGet(p.pixels().length) <= budget) {
                pictures.putIfAbsent(id, p);
            } else {
                used.addAndGet(-p.pixels().length);
            }
            return p;
        }

        long usedBytes() {
            return used.get();
        }
    }

    public FolderDataset(String name, List<Path> files, int[] labels, List<String> classNames, long cacheBytes) {
        this(name, List.copyOf(files), labels.clone(), List.copyOf(classNames), new DecodedCache(cacheBytes),
                identity(files.size()));
    }

    private FolderDataset(String name, List<Path> files, int[] labels, List<String> classNames, DecodedCache cache,
                          int[] ids) {
        if (files.size() != labels.length) {
            throw new IllegalArgumentException(name + ": " + files.size() + " files but " + labels.length + " labels");
        }
        for (int l : labels) {
            if (l < 0 || l >= classNames.size()) {
                throw new IllegalArgumentException(name + ": label " + l + " outside the " + classNames.size()
                        + " classes");
            }
        }
        this.name = name;
        this.files = files;
        this.labels = labels;
        this.classNames = classNames;
        this.cache = cache;
        this.ids = ids;
    }

    private static int[] identity(int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = i;
        }
        return ids;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int count() {
        return labels.length;
    }

    @Override
    public int[] labels() {
        return labels; // read-only by contract, like ImageDataset's
    }

    @Override
    public int classes() {
        return classNames.size();
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    public Path file(int i) {
        return files.get(i);
    }

    @Override
    public Picture picture(int i) {
        return cache.get(ids[i], files.get(i));
    }

    /**
     * Decodes every image now, on all cores, when the files add up to at most {@code maxFileBytes}:
     * a bad file of a small set then fails a stage before it writes anything, and the decoded
     * pictures land in the cache the epochs read from. A larger set streams, and a bad file
     * stops the run at the batch that reaches it (after its last checkpoint).
     *
     * @return whether the images were decoded
     */
    public boolean decodeAllIfSmall(long maxFileBytes) {
        long total = 0;
        for (Path f : files) {
            try {
                total += Files.size(f);
            } catch (IOException e) {
                throw new FormatException(f + ": cannot read (" + e.getMessage() + ")");
            }
            if (total > maxFileBytes) {
                return false;
            }
        }
        IntStream.range(0, count()).parallel().forEach(this::picture);
        return true;
    }

    /** Bytes of decoded pixels held in the cache now. */
    public long cachedBytes() {
        return cache.usedBytes();
    }

    @Override
    public FolderDataset subset(String subsetName, int[] indices) {
        Path[] f = new Path[indices.length];
        int[] l = new int[indices.length];
        int[] id = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            f[i] = files.get(indices[i]);
            l[i] = labels[indices[i]];
            id[i] = ids[indices[i]];
        }
        return new FolderDataset(subsetName, List.of(f), l, classNames, cache, id);
    }
}
