for r in 1 2 3; do for t in 100000 512 1024; do for m in deit-small /tmp/spin/deit-s-50/model.safetensors; do
l=$(java --add-modules jdk.incubator.vector -Xmx4g -XX:MaxDirectMemorySize=16g -Dflora.mlpTile=$t -jar /tmp/flora-tile.jar bench --model $m --device cpu --train-steps 0 --infer-batch 32 --latency-calls 10 --batches 4 --precision bf16 --json 2>/dev/null | tail -1 | grep -o '"infer_b32_img_per_s":[0-9.]*')
echo "$r $t $(basename $m) $l"; done; done; done
