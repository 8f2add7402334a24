package dev.flora.engine.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON header of a safetensors file, checked as the format's reference reader checks it:
 * every number a JSON integer in range (no {@code 1.5}, no {@code "8"}, no negatives), no
 * duplicate keys, each tensor's byte length its element count times its dtype's size, and the
 * tensors' {@code data_offsets}, sorted by begin, tiling the data section with no gap, no
 * overlap and no trailing byte. One byte inserted anywhere in the data thus fails here rather
 * than shifting every later tensor.
 */
record SafeTensorsHeader(Map<String, SafeTensors.Entry> entries, Map<String, String> metadata) {
    private static final ObjectMapper STRICT = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** Parses {@code json}, the header of {@code path} whose data section holds {@code dataSize} bytes. */
    static SafeTensorsHeader parse(Path path, byte[] json, long dataSize) {
        JsonNode root;
        try {
            root = STRICT.readTree(new String(json, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new FormatException(path + ": safetensors header is not valid JSON ("
                    + FormatException.oneLine(e.getOriginalMessage()) + ")");
        }
        if (root == null || !root.isObject()) {
            throw new FormatException(path + ": safetensors header is not a JSON object");
        }
        Map<String, SafeTensors.Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("__metadata__")) {
                readMetadata(path, f.getValue(), metadata);
            } else {
                entries.put(f.getKey(), parseEntry(path, f.getKey(), f.getValue(), dataSize));
            }
        }
        checkLayout(path, entries.values(), dataSize);
        return new SafeTensorsHeader(Collections.unmodifiableMap(entries), Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(Path path, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) {
            throw new FormatException(path + ": __metadata__ must be a JSON object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            if (!m.getValue().isTextual()) {
                throw new FormatException(path + ": __metadata__ value of " + m.getKey() + " must be a string");
            }
            out.put(m.getKey(), m.getValue().asText());
        }
    }

    private static SafeTensors.Entry parseEntry(Path path, String name, JsonNode node, long dataSize) {
        String where = path + ": tensor " + name;
        JsonNode dtype = node.get("dtype");
        JsonNode shape = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtype == null || !dtype.isTextual() || shape == null || !shape.isArray() || offsets == null
                || !offsets.isArray() || offsets.size() != 2) {
            throw new FormatException(where + ": header entry needs dtype, shape and data_offsets [begin, end]");
        }
        int elemSize = elementSize(dtype.asText());
        if (elemSize < 0) {
            throw new FormatException(where + ": dtype " + dtype.asText() + " is not supported (expected F32, F16, "
                    + "BF16 or F64)");
        }
        int[] dims = new int[shape.size()];
        long numel = 1;
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shape.get(i);
            // isIntegralNumber: Jackson would otherwise truncate 1.5 to 1 and parse "2" as 2
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() < 0) {
                throw new FormatException(where + ": shape " + shape + " must hold non-negative integers");
            }
            dims[i] = d.intValue();
            numel = elements(where, shape, numel, dims[i], dataSize);
        }
        long begin = offset(where, offsets, 0);
        long end = offset(where, offsets, 1);
        if (end < begin || end > dataSize) {
            throw new FormatException(where + ": data_offsets [" + begin + ", " + end + "] outside the data section of "
                    + dataSize + " bytes (file truncated?)");
        }
        if (end - begin != numel * elemSize) {
            throw new FormatException(where + ": shape " + Arrays.toString(dims) + " of " + dtype.asText() + " needs "
                    + numel * elemSize + " bytes, data_offsets give " + (end - begin));
        }
        return new SafeTensors.Entry(name, dtype.asText(), dims, begin, end);
    }

    /** {@code numel * dim}, refused when it overflows or could not fit in the data section. */
    private static long elements(String where, JsonNode shape, long numel, int dim, long dataSize) {
        long product;
        try {
            product = Math.multiplyExact(numel, dim);
        } catch (ArithmeticException e) {
            product = Long.MAX_VALUE;
        }
        if (product > dataSize) {
            throw new FormatException(where + ": shape " + shape + " has more elements than the data section of "
                    + dataSize + " bytes can hold");
        }
        return product;
    }

    private static long offset(String where, JsonNode offsets, int i) {
        JsonNode o = offsets.get(i);
        if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0) {
            throw new FormatException(where + ": data_offsets " + offsets + " must be two non-negative integers");
        }
        return o.longValue();
    }

    /** The tensors in data order must start at 0, follow each other without gap or overlap, and end the file. */
    private static void checkLayout(Path path, Iterable<SafeTensors.Entry> entries, long dataSize) {
        List<SafeTensors.Entry> byBegin = new ArrayList<>();
        entries.forEach(byBegin::add);
        byBegin.sort(Comparator.comparingLong(SafeTensors.Entry::begin).thenComparingLong(SafeTensors.Entry::end));
        long expected = 0;
        for (SafeTensors.Entry e : byBegin) {
            if (e.begin() != expected) {
                String problem = e.begin() < expected ? "overlaps the tensor before it" : "leaves a gap of "
                        + (e.begin() - expected) + " bytes before it";
                throw new FormatException(path + ": tensor " + e.name() + " at data_offsets [" + e.begin() + ", "
                        + e.end() + "] " + problem + " (expected the tensors to tile the data section, next at byte "
                        + expected + ")");
            }
            expected = e.end();
        }
        if (expected != dataSize) {
            throw new FormatException(path + ": " + (dataSize - expected) + " bytes after the last tensor (the data "
                    + "section is " + dataSize + " bytes, the tensors end at byte " + expected + ")");
        }
    }

    static int elementSize(String dtype) {
        return switch (dtype) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            case "F64" -> 8;
            default -> -1;
        };
    }

}
