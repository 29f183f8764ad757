;; Element-wise kernels on the wasm heap of tfjs-backend-wasm (SIMD128), each doing
;; in one pass what TF.js does in one or more passes, with the same operations in the
;; same order and precision, so its results are bit-identical (wasm has no fused
;; multiply-add, and every operation used here is correctly rounded). This file is
;; the source of the bytes in elementwise_wasm.ts; after editing it, regenerate those with
;;   deno run --allow-read=lib,node_modules --allow-write=lib lib/backends/kernels/wat_build.ts
;; (tests/backends/wat_modules_test.ts fails while they differ).
;;
;; Addresses are byte offsets into the heap, 4-byte aligned; counts are in float32s.
(module
  (import "env" "memory" (memory 0))

  ;; Inference-mode batch norm over channels-last data, as tfjs-backend-wasm's
  ;; FusedBatchNorm (compiled C++) computes it: t = (x - mean) * scale in float32,
  ;; then y = float32(offset + t / factor) in float64, factor = sqrt(variance +
  ;; epsilon) rounded to float32 (computed by the caller). `rows` rows of `c`
  ;; channels, `c` a positive multiple of 4; `factor` and `offset` are float64
  ;; arrays of `c`, `mean` and `scale` float32 ones.
  (func (export "batchNorm")
    (param $x i32) (param $y i32) (param $rows i32) (param $c i32)
    (param $mean i32) (param $scale i32) (param $factor i32) (param $offset i32)
    (local $r i32) (local $j i32) (local $d i32) (local $bytes i32) (local $t v128)
    (if (i32.le_s (local.get $rows) (i32.const 0)) (then (return)))
    (local.set $bytes (i32.shl (local.get $c) (i32.const 2)))
    (loop $row
      (local.set $j (i32.const 0))
      (local.set $d (i32.const 0))
      (loop $col
        (local.set $t
          (f32x4.mul
            (f32x4.sub
              (v128.load (i32.add (local.get $x) (local.get $j)))
              (v128.load (i32.add (local.get $mean) (local.get $j))))
            (v128.load (i32.add (local.get $scale) (local.get $j)))))
        (v128.store (i32.add (local.get $y) (local.get $j))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero
              (f64x2.add
                (v128.load (i32.add (local.get $offset) (local.get $d)))
                (f64x2.div
                  (f64x2.promote_low_f32x4 (local.get $t))
                  (v128.load (i32.add (local.get $factor) (local.get $d))))))
            (f32x4.demote_f64x2_zero
              (f64x2.add
                (v128.load (i32.add (local.get $offset) (i32.add (local.get $d) (i32.const 16))))
                (f64x2.div
                  (f64x2.promote_low_f32x4
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $t) (local.get $t)))
                  (v128.load (i32.add (local.get $factor) (i32.add (local.get $d) (i32.const 16)))))))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (local.set $d (i32.add (local.get $d) (i32.const 32)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $bytes))))
      (local.set $x (i32.add (local.get $x) (local.get $bytes)))
      (local.set $y (i32.add (local.get $y) (local.get $bytes)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $row (i32.lt_u (local.get $r) (local.get $rows)))))

  ;; One Adam step as tfjs-core's AdamOptimizer.applyGradients computes it, over
  ;; the first `n` elements (`n` a multiple of 4) of weights p, moments m and v
  ;; and gradient g, into np, nm and nv:
  ;;   nm = m*b1 + g*omb1;  nv = v*b2 + (g*g)*omb2
  ;;   np = ((nm/c1) / (sqrt(nv/c2) + eps)) * nlr + p
  ;; with b1, b2 the decay rates, omb1, omb2 one minus them, c1, c2 the bias
  ;; corrections (1 - beta^t), eps the epsilon and nlr the negated learning rate.
  (func (export "adam")
    (param $p i32) (param $m i32) (param $v i32) (param $g i32)
    (param $np i32) (param $nm i32) (param $nv i32) (param $n i32)
    (param $b1 f32) (param $omb1 f32) (param $b2 f32) (param $omb2 f32)
    (param $c1 f32) (param $c2 f32) (param $eps f32) (param $nlr f32)
    (local $i i32) (local $end i32)
    (local $B1 v128) (local $OMB1 v128) (local $B2 v128) (local $OMB2 v128)
    (local $C1 v128) (local $C2 v128) (local $EPS v128) (local $NLR v128)
    (local $G v128) (local $M v128) (local $V v128)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $OMB1 (f32x4.splat (local.get $omb1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $OMB2 (f32x4.splat (local.get $omb2)))
    (local.set $C1 (f32x4.splat (local.get $c1)))
    (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    (local.set $NLR (f32x4.splat (local.get $nlr)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (loop $elements
      (local.set $G (v128.load (i32.add (local.get $g) (local.get $i))))
      (local.set $M
        (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $B1))
          (f32x4.mul (local.get $G) (local.get $OMB1))))
      (local.set $V
        (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (local.get $B2))
          (f32x4.mul (f32x4.mul (local.get $G) (local.get $G)) (local.get $OMB2))))
      (v128.store (i32.add (local.get $nm) (local.get $i)) (local.get $M))
      (v128.store (i32.add (local.get $nv) (local.get $i)) (local.get $V))
      (v128.store (i32.add (local.get $np) (local.get $i))
        (f32x4.add
          (f32x4.mul
            (f32x4.div
              (f32x4.div (local.get $M) (local.get $C1))
              (f32x4.add (f32x4.sqrt (f32x4.div (local.get $V) (local.get $C2))) (local.get $EPS)))
            (local.get $NLR))
          (v128.load (i32.add (local.get $p) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br_if $elements (i32.lt_u (local.get $i) (local.get $end)))))

  ;; ReLU's gradient as TF.js computes it (Step, then Multiply): dx = dy * s with
  ;; s = 1 where x > 0, x itself where x is NaN, else 0; over the first `n` elements
  ;; (`n` a multiple of 4).
  (func (export "reluGrad") (param $dy i32) (param $x i32) (param $dx i32) (param $n i32)
    (local $i i32) (local $end i32) (local $X v128)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (loop $elements
      (local.set $X (v128.load (i32.add (local.get $x) (local.get $i))))
      (v128.store (i32.add (local.get $dx) (local.get $i))
        (f32x4.mul
          (v128.load (i32.add (local.get $dy) (local.get $i)))
          (v128.bitselect
            (local.get $X)
            (v128.bitselect
              (v128.const f32x4 1 1 1 1)
              (v128.const f32x4 0 0 0 0)
              (f32x4.gt (local.get $X) (v128.const f32x4 0 0 0 0)))
            (f32x4.ne (local.get $X) (local.get $X)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br_if $elements (i32.lt_u (local.get $i) (local.get $end)))))
;; Tanh's gradient as TF.js computes it (Square, Sub, Multiply): dx = (1 - y*y) * dy,
  ;; y the Tanh output, rounded to float32 after each operation; over the first `n`
  ;; elements (`n` a multiple of 4).
  (func (export "tanhGrad") (param $dy i32) (param $y i32) (param $dx i32) (param $n i32)
    (local $i i32) (local $end i32) (local $Y v128)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (loop $elements
      (local.set $Y (v128.load (i32.add (local.get $y) (local.get $i))))
      (v128.store (i32.add (local.get $dx) (local.get $i))
        (f32x4.mul
          (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $Y) (local.get $Y)))
          (v128.load (i32.add (local.get $dy) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br_if $elements (i32.lt_u (local.get $i) (local.get $end)))))

  ;; Tanh as tfjs-backend-wasm's kernel computes it: musl's tanhf, float32 throughout,
  ;; over the first `n` elements (`n` a multiple of 4). Every lane takes every path of
  ;; tanhf and of the expm1f it calls (for the arguments tanhf passes: finite, |a| <= 20,
  ;; so k = round(a/ln2) lies in -1..29), and selects its own:
  ;;   |x| > 10 (or NaN): 1 + 0/|x|;  |x| > 0.5493: 1 - 2/(e+2), e = expm1f(2|x|);
  ;;   |x| > 0.2554: e/(e+2), e = expm1f(2|x|);  normal: -e/(e+2), e = expm1f(-2|x|);
  ;;   subnormal: |x|;  then the sign of x.
  (func (export "tanh") (param $x i32) (param $y i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local $X v128) (local $w v128) (local $a v128) (local $hx v128) (local $sgn v128)
    (local $reduce v128) (local $k v128) (local $kf v128) (local $hi v128) (local $lo v128)
    (local $r v128) (local $c v128) (local $hfx v128) (local $hxs v128) (local $r1 v128)
    (local $t v128) (local $e v128) (local $e2 v128) (local $em1 v128) (local $q v128)
    (local $res v128) (local $tiny v128) (local $b v128) (local $huge v128)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (loop $elements
      (local.set $X (v128.load (i32.add (local.get $x) (local.get $i))))
      ;; w = |x| (bits and value); a = 2|x| above 0.2554, else -2|x|
      (local.set $w (v128.and (local.get $X) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))
      (local.set $a
        (f32x4.mul (local.get $w)
          (v128.bitselect
            (v128.const f32x4 2 2 2 2)
            (v128.const f32x4 -2 -2 -2 -2)
            (i32x4.gt_s (local.get $w) (v128.const i32x4 0x3e82c578 0x3e82c578 0x3e82c578 0x3e82c578)))))
      ;; expm1f(a) returns a itself below 2^-25 (tiny); lanes that need no expm1f at all
      ;; (tiny, |x| > 10, NaN) compute it on 1 instead, so no lane meets subnormal or
      ;; overflowing intermediates (slow on x86, and discarded anyway)
      (local.set $tiny
        (i32x4.lt_s
          (v128.and (local.get $a) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))
          (v128.const i32x4 0x33000000 0x33000000 0x33000000 0x33000000)))
      (local.set $b
        (v128.bitselect
          (v128.const f32x4 1 1 1 1)
          (local.get $a)
          (v128.or (local.get $tiny)
            (i32x4.gt_s (local.get $w) (v128.const i32x4 0x41200000 0x41200000 0x41200000 0x41200000)))))
      ;; argument reduction b = k ln2 + r (r = hi - lo, c its rounding error)
      (local.set $hx (v128.and (local.get $b) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))
      (local.set $sgn (v128.and (local.get $b) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000)))
      (local.set $reduce (i32x4.gt_s (local.get $hx) (v128.const i32x4 0x3eb17218 0x3eb17218 0x3eb17218 0x3eb17218)))
      ;; k (as a float): +-1 below 1.5 ln2, else trunc(b/ln2 +- 0.5); 0 unreduced. Its
      ;; integer from the bits of k + 1.5 * 2^23 (exact for |k| < 2^22).
      (local.set $kf
        (v128.and (local.get $reduce)
          (v128.bitselect
            (v128.or (v128.const f32x4 1 1 1 1) (local.get $sgn))
            (f32x4.trunc
              (f32x4.add
                (f32x4.mul (v128.const f32x4 0x1.715476p+0 0x1.715476p+0 0x1.715476p+0 0x1.715476p+0) (local.get $b))
                (v128.or (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $sgn))))
            (i32x4.lt_s (local.get $hx) (v128.const i32x4 0x3f851592 0x3f851592 0x3f851592 0x3f851592)))))
      (local.set $k
        (i32x4.sub
          (f32x4.add (local.get $kf) (v128.const f32x4 0x1.8p23 0x1.8p23 0x1.8p23 0x1.8p23))
          (v128.const i32x4 0x4b400000 0x4b400000 0x4b400000 0x4b400000)))
      (local.set $hi
        (f32x4.sub (local.get $b)
          (f32x4.mul (local.get $kf) (v128.const f32x4 0x1.62e3p-1 0x1.62e3p-1 0x1.62e3p-1 0x1.62e3p-1))))
      (local.set $lo
        (f32x4.mul (local.get $kf) (v128.const f32x4 0x1.2fefa2p-17 0x1.2fefa2p-17 0x1.2fefa2p-17 0x1.2fefa2p-17)))
      (local.set $r (v128.bitselect (f32x4.sub (local.get $hi) (local.get $lo)) (local.get $b) (local.get $reduce)))
      (local.set $c
        (v128.and (local.get $reduce) (f32x4.sub (f32x4.sub (local.get $hi) (local.get $r)) (local.get $lo))))
      ;; the primary range
      (local.set $hfx (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $r)))
      (local.set $hxs (f32x4.mul (local.get $r) (local.get $hfx)))
      (local.set $r1
        (f32x4.add (v128.const f32x4 1 1 1 1)
          (f32x4.mul (local.get $hxs)
            (f32x4.add (v128.const f32x4 -0x1.1110dp-5 -0x1.1110dp-5 -0x1.1110dp-5 -0x1.1110dp-5)
              (f32x4.mul (local.get $hxs) (v128.const f32x4 0x1.9e602p-10 0x1.9e602p-10 0x1.9e602p-10 0x1.9e602p-10))))))
      (local.set $t
        (f32x4.sub (v128.const f32x4 3 3 3 3) (f32x4.mul (local.get $r1) (local.get $hfx))))
      (local.set $e
        (f32x4.mul (local.get $hxs)
          (f32x4.div
            (f32x4.sub (local.get $r1) (local.get $t))
            (f32x4.sub (v128.const f32x4 6 6 6 6) (f32x4.mul (local.get $r) (local.get $t))))))
      (local.set $e2
        (f32x4.sub
          (f32x4.sub
            (f32x4.mul (local.get $r) (f32x4.sub (local.get $e) (local.get $c)))
            (local.get $c))
          (local.get $hxs)))
      ;; k >= 2: 2^k (r - e + (1 - 2^-k)) below k = 23, else 2^k (r - (e + 2^-k) + 1)
      (local.set $q (i32x4.shl (i32x4.sub (v128.const i32x4 0x7f 0x7f 0x7f 0x7f) (local.get $k)) (i32.const 23)))
      (local.set $em1
        (f32x4.mul
          (v128.bitselect
            (f32x4.add
              (f32x4.sub (local.get $r) (local.get $e2))
              (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $q)))
            (f32x4.add
              (f32x4.sub (local.get $r) (f32x4.add (local.get $e2) (local.get $q)))
              (v128.const f32x4 1 1 1 1))
            (i32x4.lt_s (local.get $k) (v128.const i32x4 23 23 23 23)))
          (i32x4.shl (i32x4.add (local.get $k) (v128.const i32x4 0x7f 0x7f 0x7f 0x7f)) (i32.const 23))))
      ;; k = 1
      (local.set $em1
        (v128.bitselect
          (v128.bitselect
            (f32x4.mul (v128.const f32x4 -2 -2 -2 -2)
              (f32x4.sub (local.get $e2) (f32x4.add (local.get $r) (v128.const f32x4 0.5 0.5 0.5 0.5))))
            (f32x4.add (v128.const f32x4 1 1 1 1)
              (f32x4.mul (v128.const f32x4 2 2 2 2) (f32x4.sub (local.get $r) (local.get $e2))))
            (f32x4.lt (local.get $r) (v128.const f32x4 -0.25 -0.25 -0.25 -0.25)))
          (local.get $em1)
          (i32x4.eq (local.get $k) (v128.const i32x4 1 1 1 1))))
      ;; k = -1
      (local.set $em1
        (v128.bitselect
          (f32x4.sub
            (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (f32x4.sub (local.get $r) (local.get $e2)))
            (v128.const f32x4 0.5 0.5 0.5 0.5))
          (local.get $em1)
          (i32x4.eq (local.get $k) (v128.const i32x4 -1 -1 -1 -1))))
      ;; k = 0: r - (r e - hxs); tiny: a
      (local.set $em1
        (v128.bitselect
          (local.get $a)
          (v128.bitselect
            (f32x4.sub (local.get $r) (f32x4.sub (f32x4.mul (local.get $r) (local.get $e)) (local.get $hxs)))
            (local.get $em1)
            (i32x4.eq (local.get $k) (v128.const i32x4 0 0 0 0)))
          (local.get $tiny)))
      ;; tanhf from e = expm1f(a): one quotient q = (2 | e | -e) / (e + 2)
      (local.set $q
        (f32x4.div
          (v128.bitselect
            (v128.const f32x4 2 2 2 2)
            (v128.bitselect
              (local.get $em1)
              (f32x4.neg (local.get $em1))
              (i32x4.gt_s (local.get $w) (v128.const i32x4 0x3e82c578 0x3e82c578 0x3e82c578 0x3e82c578)))
            (i32x4.gt_s (local.get $w) (v128.const i32x4 0x3f0c9f54 0x3f0c9f54 0x3f0c9f54 0x3f0c9f54)))
          (f32x4.add (local.get $em1) (v128.const f32x4 2 2 2 2))))
      (local.set $res
        (v128.bitselect
          (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $q))
          (v128.bitselect
            (local.get $q)
            (local.get $w)
            (i32x4.ge_s (local.get $w) (v128.const i32x4 0x00800000 0x00800000 0x00800000 0x00800000)))
          (i32x4.gt_s (local.get $w) (v128.const i32x4 0x3f0c9f54 0x3f0c9f54 0x3f0c9f54 0x3f0c9f54))))
      (local.set $huge (i32x4.gt_s (local.get $w) (v128.const i32x4 0x41200000 0x41200000 0x41200000 0x41200000)))
      (if (v128.any_true (local.get $huge))
        (then
          (local.set $res
            (v128.bitselect
              (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.div (v128.const f32x4 0 0 0 0) (local.get $w)))
              (local.get $res)
              (local.get $huge)))))
      (v128.store (i32.add (local.get $y) (local.get $i))
        (v128.xor (local.get $res)
          (v128.and (local.get $X) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br_if $elements (i32.lt_u (local.get $i) (local.get $end)))))
)
