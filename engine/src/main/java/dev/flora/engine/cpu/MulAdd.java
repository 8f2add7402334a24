package dev.flora.engine.cpu;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;

/**
 * a·b + c for the element-wise loops, as one fused multiply-add where the CPU has one.
 *
 * <p>Java may not contract {@code a * b + c} into an FMA, so a degree-5 polynomial written that
 * way costs ten vector instructions where {@link Math#fma} costs five; C2 vectorizes both.
 * GELU's backward, made of such polynomials, is faster with it.
 *
 * <p>Without hardware FMA, {@link Math#fma} is computed in software, hundreds of times slower,
 * so it is used only where HotSpot says it emits the instruction ({@code UseFMA}). {@link #FUSED}
 * is a static final constant: C2 folds the test and keeps one form in the loop.
 */
final class MulAdd {
    /** Whether HotSpot uses the CPU's fused multiply-add for {@link Math#fma}. */
    static final boolean FUSED = hardwareFma();

    private MulAdd() {
    }

    /** a·b + c: rounded once where {@link #FUSED}, twice otherwise. */
    static float of(float a, float b, float c) {
        return FUSED ? Math.fma(a, b, c) : a * b + c;
    }

    private static boolean hardwareFma() {
        try {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            return vm != null && Boolean.parseBoolean(vm.getVMOption("UseFMA").getValue());
        } catch (RuntimeException | LinkageError e) {
            // not HotSpot, or a runtime without jdk.management: the plain form is always correct
            return false;
        }
    }
}
