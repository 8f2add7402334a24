package dev.flora.engine.cuda;

import dev.flora.engine.tensor.Storage;
import java.lang.ref.Cleaner;

/** Float32 memory on a {@link Device}; freed when unreachable. */
public final class DeviceStorage implements Storage {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Device device;
    private final long address;
    private final long capacity;

    DeviceStorage(Device device, long floats) {
        this.device = device;
        this.capacity = floats;
        long addr = device.allocate(Math.max(1, floats) * Float.BYTES);
        this.address = addr;
        CLEANER.register(this, () -> device.free(addr));
    }

    public Device device() {
        return device;
    }

    /** Device address of element 0. */
    public long address() {
        return address;
    }

    @Override
    public long capacity() {
        return capacity;
    }
}
