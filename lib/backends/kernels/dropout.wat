;; Dropout kernels on the wasm heap of tfjs-backend-wasm (SIMD128). This file is
;; the source of the bytes in dropout_wasm.ts; after editing it, regenerate those with
;;   deno run --allow-read=lib,node_modules --allow-write=lib lib/backends/kernels/wat_build.ts
;; (tests/backends/wat_modules_test.ts fails while they differ).
;;
;; The mask is defined in lib/rng.ts (module notes, dropoutKeepBits): with b bits
;; per decision, a group holds 4 Philox4x32-10 blocks x 4 words x 32/b fields =
;; 512/b elements; element (w * 32/b + f) * 4 + lane of group g is kept when field f
;; (bits f*b .. f*b+b-1) of word w of block 4g + lane is >= the threshold. Here a
;; group's four blocks run side by side, one per SIMD lane, and 2 groups are
;; interleaved to hide the multiplies' latency.
(module
  (import "env" "memory" (memory 0))

  ;; y = keep ? x * scale : +0 over `groups` groups (a multiple of 2) of 512/b float32s,
  ;; starting at group 0 of the stream with key (k0, k1) and counter words (c2, c3);
  ;; b is 1, 2, 4, 8 or 16. Bit i of the packed i32s at `bits` is element i's decision.
  (func (export "forward")
    (param $x i32) (param $y i32) (param $bits i32) (param $groups i32)
    (param $k0 i32) (param $k1 i32) (param $c2 i32) (param $c3 i32)
    (param $b i32) (param $thr i32) (param $scale f32)
    (local $px i32) (local $py i32) (local $pb i32) (local $block i32) (local $end i32)
    (local $r i32) (local $sh i32) (local $word i32) (local $bit i32)
    (local $X0a v128) (local $X1a v128) (local $X2a v128) (local $X3a v128) (local $X0b v128) (local $X1b v128) (local $X2b v128) (local $X3b v128)
    (local $K0 v128) (local $K1 v128) (local $lo0 v128) (local $hi0 v128) (local $lo1 v128)
    (local $keep v128) (local $thrv v128) (local $fmask v128) (local $scalev v128)
    (if (i32.le_s (local.get $groups) (i32.const 0)) (then (return)))
    (local.set $thrv (i32x4.splat (local.get $thr)))
    (local.set $fmask (i32x4.splat
      (i32.sub (i32.shl (i32.const 1) (local.get $b)) (i32.const 1))))
    (local.set $scalev (f32x4.splat (local.get $scale)))
    (local.set $px (local.get $x))
    (local.set $py (local.get $y))
    (local.set $pb (local.get $bits))
    (local.set $end (i32.shl (local.get $groups) (i32.const 2)))
    (loop $group
      ;; counters (block + lane, 0, c2, c3) and keys (k0, k1) of the next 2 groups
      (local.set $X0a (i32x4.add (i32x4.splat (local.get $block)) (v128.const i32x4 0 1 2 3)))
      (local.set $X1a (v128.const i32x4 0 0 0 0))
      (local.set $X2a (i32x4.splat (local.get $c2)))
      (local.set $X3a (i32x4.splat (local.get $c3)))
      (local.set $X0b (i32x4.add (i32x4.splat (local.get $block)) (v128.const i32x4 4 5 6 7)))
      (local.set $X1b (v128.const i32x4 0 0 0 0))
      (local.set $X2b (i32x4.splat (local.get $c2)))
      (local.set $X3b (i32x4.splat (local.get $c3)))
      (local.set $K0 (i32x4.splat (local.get $k0)))
      (local.set $K1 (i32x4.splat (local.get $k1)))
      (local.set $r (i32.const 0))
      (loop $round
        ;; X0' = hi(M1*X2) ^ X1 ^ K0, X1' = lo(M1*X2), X2' = hi(M0*X0) ^ X3 ^ K1, X3' = lo(M0*X0)
        (local.set $lo0 (i32x4.mul (local.get $X0a) (v128.const i32x4 0xD2511F53 0xD2511F53 0xD2511F53 0xD2511F53)))
        (local.set $hi0 (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31
          (i64x2.extmul_low_i32x4_u (local.get $X0a) (v128.const i32x4 0xD2511F53 0xD2511F53 0xD2511F53 0xD2511F53))
          (i64x2.extmul_high_i32x4_u (local.get $X0a) (v128.const i32x4 0xD2511F53 0xD2511F53 0xD2511F53 0xD2511F53))))
        (local.set $lo1 (i32x4.mul (local.get $X2a) (v128.const i32x4 0xCD9E8D57 0xCD9E8D57 0xCD9E8D57 0xCD9E8D57)))
        (local.set $X0a (v128.xor (v128.xor (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31
          (i64x2.extmul_low_i32x4_u (local.get $X2a) (v128.const i32x4 0xCD9E8D57 0xCD9E8D57 0xCD9E8D57 0xCD9E8D57))
          (i64x2.extmul_high_i32x4_u (local.get $X2a) (v128.const i32x4 0xCD9E8D57 0xCD9E8D57 0xCD9E8D57 0xCD9E8D57))) (local.get $X1a)) (local.get $K0)))
        (local.set $X2a (v128.xor (v128.xor (local.get $hi0) (local.get $X3a)) (local.get $K1)))
        (local.set $X1a (local.get $lo1))
        (local.set $X3a (local.get $lo0))
        (local.set $lo0 (i32x4.mul (local.get $X0b) (v128.const i32x4 0xD2511F53 0xD2511F53 0xD2511F53 0xD2511F53)))
        (local.set $hi0 (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31
          (i64x2.extmul_low_i32x4_u (local.get $X0b) (v128.const i32x4 0xD2511F53 0xD2511F53 0xD2511F53 0xD2511F53))
          (i64x2.extmul_high_i32x4_u (local.get $X0b) (v128.const i32x4 0xD2511F53 0xD2511F53 0xD2511F53 0xD2511F53))))
        (local.set $lo1 (i32x4.mul (local.get $X2b) (v128.const i32x4 0xCD9E8D57 0xCD9E8D57 0xCD9E8D57 0xCD9E8D57)))
        (local.set $X0b (v128.xor (v128.xor (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31
          (i64x2.extmul_low_i32x4_u (local.get $X2b) (v128.const i32x4 0xCD9E8D57 0xCD9E8D57 0xCD9E8D57 0xCD9E8D57))
          (i64x2.extmul_high_i32x4_u (local.get $X2b) (v128.const i32x4 0xCD9E8D57 0xCD9E8D57 0xCD9E8D57 0xCD9E8D57))) (local.get $X1b)) (local.get $K0)))
        (local.set $X2b (v128.xor (v128.xor (local.get $hi0) (local.get $X3b)) (local.get $K1)))
        (local.set $X1b (local.get $lo1))
        (local.set $X3b (local.get $lo0))
        ;; key schedule: add the Weyl constants before the next round
        (local.set $K0 (i32x4.add (local.get $K0) (v128.const i32x4 0x9E3779B9 0x9E3779B9 0x9E3779B9 0x9E3779B9)))
        (local.set $K1 (i32x4.add (local.get $K1) (v128.const i32x4 0xBB67AE85 0xBB67AE85 0xBB67AE85 0xBB67AE85)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $round (i32.lt_u (local.get $r) (i32.const 10))))
      ;; output word 0 of the group's four blocks: fields 0, 1, ... of width $b
      (local.set $sh (i32.const 0))
      (loop $field0a
        (local.set $keep (i32x4.ge_u
          (v128.and (i32x4.shr_u (local.get $X0a) (local.get $sh)) (local.get $fmask))
          (local.get $thrv)))
        (v128.store (local.get $py)
          (v128.and (f32x4.mul (v128.load (local.get $px)) (local.get $scalev)) (local.get $keep)))
        (local.set $word (i32.or (local.get $word)
          (i32.shl (i32x4.bitmask (local.get $keep)) (local.get $bit))))
        (local.set $bit (i32.add (local.get $bit) (i32.const 4)))
        (if (i32.eq (local.get $bit) (i32.const 32))
          (then
            (i32.store (local.get $pb) (local.get $word))
            (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
            (local.set $word (i32.const 0))
            (local.set $bit (i32.const 0))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $py (i32.add (local.get $py) (i32.const 16)))
        (local.set $sh (i32.add (local.get $sh) (local.get $b)))
        (br_if $field0a (i32.lt_u (local.get $sh) (i32.const 32))))
      ;; output word 1 of the group's four blocks: fields 0, 1, ... of width $b
      (local.set $sh (i32.const 0))
      (loop $field1a
        (local.set $keep (i32x4.ge_u
          (v128.and (i32x4.shr_u (local.get $X1a) (local.get $sh)) (local.get $fmask))
          (local.get $thrv)))
        (v128.store (local.get $py)
          (v128.and (f32x4.mul (v128.load (local.get $px)) (local.get $scalev)) (local.get $keep)))
        (local.set $word (i32.or (local.get $word)
          (i32.shl (i32x4.bitmask (local.get $keep)) (local.get $bit))))
        (local.set $bit (i32.add (local.get $bit) (i32.const 4)))
        (if (i32.eq (local.get $bit) (i32.const 32))
          (then
            (i32.store (local.get $pb) (local.get $word))
            (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
            (local.set $word (i32.const 0))
            (local.set $bit (i32.const 0))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $py (i32.add (local.get $py) (i32.const 16)))
        (local.set $sh (i32.add (local.get $sh) (local.get $b)))
        (br_if $field1a (i32.lt_u (local.get $sh) (i32.const 32))))
      ;; output word 2 of the group's four blocks: fields 0, 1, ... of width $b
      (local.set $sh (i32.const 0))
      (loop $field2a
        (local.set $keep (i32x4.ge_u
          (v128.and (i32x4.shr_u (local.get $X2a) (local.get $sh)) (local.get $fmask))
          (local.get $thrv)))
        (v128.store (local.get $py)
          (v128.and (f32x4.mul (v128.load (local.get $px)) (local.get $scalev)) (local.get $keep)))
        (local.set $word (i32.or (local.get $word)
          (i32.shl (i32x4.bitmask (local.get $keep)) (local.get $bit))))
        (local.set $bit (i32.add (local.get $bit) (i32.const 4)))
        (if (i32.eq (local.get $bit) (i32.const 32))
          (then
            (i32.store (local.get $pb) (local.get $word))
            (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
            (local.set $word (i32.const 0))
            (local.set $bit (i32.const 0))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $py (i32.add (local.get $py) (i32.const 16)))
        (local.set $sh (i32.add (local.get $sh) (local.get $b)))
        (br_if $field2a (i32.lt_u (local.get $sh) (i32.const 32))))
      ;; output word 3 of the group's four blocks: fields 0, 1, ... of width $b
      (local.set $sh (i32.const 0))
      (loop $field3a
        (local.set $keep (i32x4.ge_u
          (v128.and (i32x4.shr_u (local.get $X3a) (local.get $sh)) (local.get $fmask))
          (local.get $thrv)))
        (v128.store (local.get $py)
          (v128.and (f32x4.mul (v128.load (local.get $px)) (local.get $scalev)) (local.get $keep)))
        (local.set $word (i32.or (local.get $word)
          (i32.shl (i32x4.bitmask (local.get $keep)) (local.get $bit))))
        (local.set $bit (i32.add (local.get $bit) (i32.const 4)))
        (if (i32.eq (local.get $bit) (i32.const 32))
          (then
            (i32.store (local.get $pb) (local.get $word))
            (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
            (local.set $word (i32.const 0))
            (local.set $bit (i32.const 0))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $py (i32.add (local.get $py) (i32.const 16)))
        (local.set $sh (i32.add (local.get $sh) (local.get $b)))
        (br_if $field3a (i32.lt_u (local.get $sh) (i32.const 32))))
      ;; output word 0 of the group's four blocks: fields 0, 1, ... of width $b
      (local.set $sh (i32.const 0))
      (loop $field0b
        (local.set $keep (i32x4.ge_u
          (v128.and (i32x4.shr_u (local.get $X0b) (local.get $sh)) (local.get $fmask))
          (local.get $thrv)))
        (v128.store (local.get $py)
          (v128.and (f32x4.mul (v128.load (local.get $px)) (local.get $scalev)) (local.get $keep)))
        (local.set $word (i32.or (local.get $word)
          (i32.shl (i32x4.bitmask (local.get $keep)) (local.get $bit))))
        (local.set $bit (i32.add (local.get $bit) (i32.const 4)))
        (if (i32.eq (local.get $bit) (i32.const 32))
          (then
            (i32.store (local.get $pb) (local.get $word))
            (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
            (local.set $word (i32.const 0))
            (local.set $bit (i32.const 0))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $py (i32.add (local.get $py) (i32.const 16)))
        (local.set $sh (i32.add (local.get $sh) (local.get $b)))
        (br_if $field0b (i32.lt_u (local.get $sh) (i32.const 32))))
      ;; output word 1 of the group's four blocks: fields 0, 1, ... of width $b
      (local.set $sh (i32.const 0))
      (loop $field1b
        (local.set $keep (i32x4.ge_u
          (v128.and (i32x4.shr_u (local.get $X1b) (local.get $sh)) (local.get $fmask))
          (local.get $thrv)))
        (v128.store (local.get $py)
          (v128.and (f32x4.mul (v128.load (local.get $px)) (local.get $scalev)) (local.get $keep)))
        (local.set $word (i32.or (local.get $word)
          (i32.shl (i32x4.bitmask (local.get $keep)) (local.get $bit))))
        (local.set $bit (i32.add (local.get $bit) (i32.const 4)))
        (if (i32.eq (local.get $bit) (i32.const 32))
          (then
            (i32.store (local.get $pb) (local.get $word))
            (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
            (local.set $word (i32.const 0))
            (local.set $bit (i32.const 0))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $py (i32.add (local.get $py) (i32.const 16)))
        (local.set $sh (i32.add (local.get $sh) (local.get $b)))
        (br_if $field1b (i32.lt_u (local.get $sh) (i32.const 32))))
      ;; output word 2 of the group's four blocks: fields 0, 1, ... of width $b
      (local.set $sh (i32.const 0))
      (loop $field2b
        (local.set $keep (i32x4.ge_u
          (v128.and (i32x4.shr_u (local.get $X2b) (local.get $sh)) (local.get $fmask))
          (local.get $thrv)))
        (v128.store (local.get $py)
          (v128.and (f32x4.mul (v128.load (local.get $px)) (local.get $scalev)) (local.get $keep)))
        (local.set $word (i32.or (local.get $word)
          (i32.shl (i32x4.bitmask (local.get $keep)) (local.get $bit))))
        (local.set $bit (i32.add (local.get $bit) (i32.const 4)))
        (if (i32.eq (local.get $bit) (i32.const 32))
          (then
            (i32.store (local.get $pb) (local.get $word))
            (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
            (local.set $word (i32.const 0))
            (local.set $bit (i32.const 0))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $py (i32.add (local.get $py) (i32.const 16)))
        (local.set $sh (i32.add (local.get $sh) (local.get $b)))
        (br_if $field2b (i32.lt_u (local.get $sh) (i32.const 32))))
      ;; output word 3 of the group's four blocks: fields 0, 1, ... of width $b
      (local.set $sh (i32.const 0))
      (loop $field3b
        (local.set $keep (i32x4.ge_u
          (v128.and (i32x4.shr_u (local.get $X3b) (local.get $sh)) (local.get $fmask))
          (local.get $thrv)))
        (v128.store (local.get $py)
          (v128.and (f32x4.mul (v128.load (local.get $px)) (local.get $scalev)) (local.get $keep)))
        (local.set $word (i32.or (local.get $word)
          (i32.shl (i32x4.bitmask (local.get $keep)) (local.get $bit))))
        (local.set $bit (i32.add (local.get $bit) (i32.const 4)))
        (if (i32.eq (local.get $bit) (i32.const 32))
          (then
            (i32.store (local.get $pb) (local.get $word))
            (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
            (local.set $word (i32.const 0))
            (local.set $bit (i32.const 0))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $py (i32.add (local.get $py) (i32.const 16)))
        (local.set $sh (i32.add (local.get $sh) (local.get $b)))
        (br_if $field3b (i32.lt_u (local.get $sh) (i32.const 32))))
      (local.set $block (i32.add (local.get $block) (i32.const 8)))
      (br_if $group (i32.lt_u (local.get $block) (local.get $end)))))

  ;; dx = keep ? dy * scale : +0 over `words` * 32 float32s, with the packed keep
  ;; bits `forward` wrote (one i32 per 32 elements).
  (func (export "backward")
    (param $dy i32) (param $dx i32) (param $bits i32) (param $words i32) (param $scale f32)
    (local $pb i32) (local $end i32) (local $word i32) (local $s i32)
    (local $scalev v128) (local $keep v128)
    (if (i32.le_s (local.get $words) (i32.const 0)) (then (return)))
    (local.set $scalev (f32x4.splat (local.get $scale)))
    (local.set $pb (local.get $bits))
    (local.set $end (i32.add (local.get $bits) (i32.shl (local.get $words) (i32.const 2))))
    (loop $group
      (local.set $word (i32.load (local.get $pb)))
      (local.set $s (i32.const 0))
      (loop $quad
        (local.set $keep (i32x4.ne
          (v128.and (i32x4.splat (local.get $word)) (v128.const i32x4 1 2 4 8))
          (v128.const i32x4 0 0 0 0)))
        (v128.store (local.get $dx)
          (v128.and (f32x4.mul (v128.load (local.get $dy)) (local.get $scalev)) (local.get $keep)))
        (local.set $word (i32.shr_u (local.get $word) (i32.const 4)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br_if $quad (i32.lt_u (local.get $s) (i32.const 8))))
      (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
      (br_if $group (i32.lt_u (local.get $pb) (local.get $end))))))
