package dev.flora.engine.cuda;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.toDouble;
import static dev.flora.engine.reference.Rounding.round;
import static dev.flora.engine.reference.Rounding.rounded;
import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused low-rank kernels against the CPU backend's two GEMMs. The fp32 kernels agree within
 * 1e-5 (relative to the largest output). The tensor-core kernels agree within 1e-5 with the same
 * GEMMs on operands rounded as the hardware rounds them (tf32: 10 mantissa bits, ties away; bf16:
 * 7 bits, ties to even; the kernel's intermediate h is rounded again before the second product), which
 * checks the kernels' indexing and tiling exactly; and with the exact fp32 result within 2e-3
 * (tf32) or 1e-2 (bf16, whose 8-bit significand alone moves results by ~3e-3). Shapes include
 * sizes that are multiples of no tile.
 */
class FusedLowRankTest {
    private final Backend cpu = new CpuBackend();

    @ParameterizedTest(name = "{5}: rows {0} in {1} out {2} R {3} r {4}")
    @CsvSource({
        "23, 37, 29, 21, 13, FP32", "50, 128, 384, 128, 48, FP32", "7, 16, 16, 16, 16, FP32", "33, 64, 20, 20, 5, FP32",
        "23, 37, 29, 21, 13, TF32", "50, 128, 384, 128, 48, TF32", "33, 64, 20, 20, 5, TF32",
        "23, 37, 29, 21, 13, BF16", "50, 128, 384, 128, 48, BF16"})
    void fusedKernelsMatchTwoGemms(int rows, int in, int out, int maxRank, int r, Precision precision) {
        Backend gpu = new CudaBackend(new EmulatedDevice(), precision);
        float[] x = gaussian(rows * in, 1);
        float[] vt = gaussian(maxRank * in, 2);
        float[] u = gaussian(out * maxRank, 3);
        float[] bias = gaussian(out, 4);
        float[] dy = gaussian(rows * out, 5);
        double exactTol = switch (precision) {
            case FP32 -> 1e-5;
            case TF32 -> 2e-3;
            case BF16 -> 1e-2;
        };

        Tensor hg = gpu.allocate(rows * r);
        Tensor yg = gpu.allocate(rows * out);
        gpu.lowRankForward(upload(gpu, x), upload(gpu, vt), upload(gpu, u), upload(gpu, bias), null, hg, yg, rows, in, out, r, maxRank);
        float[] y = gpu.download(yg);
        float[] h = gpu.download(hg);
        // exact fp32 reference
        Tensor hc = cpu.allocate(rows * r);
        Tensor yc = cpu.allocate(rows * out);
        cpu.lowRankForward(upload(cpu, x), upload(cpu, vt), upload(cpu, u), upload(cpu, bias), null, hc, yc, rows, in, out, r, maxRank);
        assertClose("y vs fp32", y, toDouble(cpu.download(yc)), exactTol);
        assertClose("h vs fp32", h, toDouble(cpu.download(hc)), exactTol);
        // reference on operands rounded as the tensor cores see them
        Tensor hr = cpu.allocate(rows * r);
        cpu.gemm(false, true, rows, r, in, 1f, upload(cpu, rounded(x, precision)), in, upload(cpu, rounded(vt, precision)),
                in, 0f, hr, r);
        float[] hRounded = cpu.download(hr);
        assertClose("h vs rounded operands", h, toDouble(hRounded), 1e-5);
        Tensor yr = cpu.allocate(rows * out);
        // the second product starts from the kernel's own intermediate (rounding near a tie can differ)
        cpu.gemm(false, true, rows, out, r, 1f, upload(cpu, rounded(h, precision)), r,
                upload(cpu, rounded(u, precision)), maxRank, 0f, yr, out);
        cpu.addBias(yr, upload(cpu, bias), rows, out);
        assertClose("y vs rounded operands", y, toDouble(cpu.download(yr)), 1e-5);

        // backward: tensor-core versions are tf32 for both tensor-core precisions
        Precision backPrecision = precision == Precision.FP32 ? precision
                : Precision.TF32;
        Tensor dhg = gpu.allocate(rows * r);
        Tensor dxg = gpu.allocate(rows * in);
        gpu.lowRankBackwardInput(upload(gpu, dy), upload(gpu, vt), upload(gpu, u), dhg, dxg, rows, in, out, r, maxRank);
        float[] dh = gpu.download(dhg);
        Tensor dhc = cpu.allocate(rows * r);
        Tensor dxc = cpu.allocate(rows * in);
        cpu.lowRankBackwardInput(upload(cpu, dy), upload(cpu, vt), upload(cpu, u), dhc, dxc, rows, in, out, r, maxRank);
        double backTol = backPrecision == Precision.FP32 ? 1e-5 : 2e-3;
        assertClose("dh vs fp32", dh, toDouble(cpu.download(dhc)), backTol);
        assertClose("dx vs fp32", gpu.download(dxg), toDouble(cpu.download(dxc)), backTol);
        Tensor dhr = cpu.allocate(rows * r);
        cpu.gemm(false, false, rows, r, out, 1f, upload(cpu, rounded(dy, backPrecision)), out,
                upload(cpu, rounded(u, backPrecision)), maxRank, 0f, dhr, r);
        float[] dhRounded = cpu.download(dhr);
        assertClose("dh vs rounded operands", dh, toDouble(dhRounded), 1e-5);
        Tensor dxr = cpu.allocate(rows * in);
        cpu.gemm(false, false, rows, in, r, 1f, upload(cpu, rounded(dh, backPrecision)), r,
                upload(cpu, rounded(vt, backPrecision)), in, 0f, dxr, in);
        assertClose("dx vs rounded operands", gpu.download(dxg), toDouble(cpu.download(dxr)), 1e-5);
    }
}
